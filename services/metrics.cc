#include "services/metrics.h"

#include <google/protobuf/descriptor.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/change_hub.h"
#include "storage/store.h"

namespace atlas::services {
namespace {

constexpr absl::string_view kUnknownMethod = "unknown";
// Distinct method labels kept; more (not expected: they come from the linked
// services) count as "unknown".
constexpr size_t kMaxMethods = 256;
constexpr int kCodes = 17;  // grpc::StatusCode OK .. UNAUTHENTICATED

// Whether `method` ("/package.Service/Method") is defined by a service this
// binary links (Atlas, reflection) or by gRPC's health service, whose
// descriptor is not in the generated pool.
bool KnownMethod(absl::string_view method) {
  if (method == "/grpc.health.v1.Health/Check" ||
      method == "/grpc.health.v1.Health/Watch") {
    return true;
  }
  const size_t slash = method.rfind('/');
  if (method.size() < 4 || method[0] != '/' || slash == 0 ||
      slash + 1 == method.size()) {
    return false;
  }
  const std::string full_name =
      absl::StrCat(method.substr(1, slash - 1), ".", method.substr(slash + 1));
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
             full_name) != nullptr;
}

// One unlabelled sample read at scrape time.
prometheus::MetricFamily Sample(prometheus::MetricType type, std::string name,
                                std::string help, double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

prometheus::MetricFamily Gauge(std::string name, std::string help,
                               double value) {
  return Sample(prometheus::MetricType::Gauge, std::move(name),
                std::move(help), value);
}

prometheus::MetricFamily Counter(std::string name, std::string help,
                                 double value) {
  return Sample(prometheus::MetricType::Counter, std::move(name),
                std::move(help), value);
}

// "host:port" with the port replaced by the one bound.
std::string BoundAddress(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  const std::string host =
      colon == std::string::npos ? listen : listen.substr(0, colon);
  return absl::StrCat(host, ":", port);
}

}  // namespace

// The series read from the store and the hub at scrape time.
class ServerStateCollector final : public prometheus::Collectable {
 public:
  void Observe(const storage::Store* store, const ChangeHub* hub) {
    atlas::MutexLock lock(&mu_);
    store_ = store;
    hub_ = hub;
  }

  // Holds mu_ throughout, so Observe(nullptr, nullptr) waits for a scrape
  // in progress before the store or hub may go away.
  std::vector<prometheus::MetricFamily> Collect() const override {
    atlas::MutexLock lock(&mu_);
    std::vector<prometheus::MetricFamily> families;
    if (store_ == nullptr || hub_ == nullptr) return families;
    const HubStats hub = hub_->Stats();
    const storage::DiskStats disk = store_->GetDiskStats();
    families.push_back(Gauge("atlas_store_revision",
                             "Current (latest committed) revision",
                             static_cast<double>(store_->CurrentRevision())));
    families.push_back(
        Gauge("atlas_store_oldest_revision",
              "Oldest revision retained in the change log (Watch resume floor)",
              static_cast<double>(store_->OldestRevision())));
    families.push_back(
        Gauge("atlas_store_live_data_bytes",
              "RocksDB estimate of live data size "
              "(rocksdb.estimate-live-data-size)",
              static_cast<double>(disk.live_data_bytes)));
    families.push_back(
        Gauge("atlas_store_pending_compaction_bytes",
              "RocksDB estimate of bytes compaction has to rewrite "
              "(rocksdb.estimate-pending-compaction-bytes)",
              static_cast<double>(disk.pending_compaction_bytes)));
    families.push_back(Gauge("atlas_watch_subscriptions",
                             "Open Watch subscriptions",
                             static_cast<double>(hub.subscriptions)));
    families.push_back(Gauge(
        "atlas_watch_subscriptions_catching_up",
        "Watch subscriptions served from the change log on disk",
        static_cast<double>(hub.catching_up)));
    families.push_back(Gauge(
        "atlas_watch_max_lag_revisions",
        "Revisions the furthest-behind Watch subscription has yet to send",
        static_cast<double>(hub.max_lag)));
    families.push_back(Gauge("atlas_watch_queued_change_sets",
                             "Change sets queued in memory, all subscriptions",
                             static_cast<double>(hub.queued_sets)));
    families.push_back(Counter("atlas_watch_events_delivered_total",
                               "Watch events written to clients",
                               static_cast<double>(hub.events_delivered)));
    families.push_back(Gauge(
        "atlas_watch_dispatch_backlog",
        "Committed change sets not yet handed to Watch subscriptions",
        static_cast<double>(hub.dispatch_backlog)));
    families.push_back(Counter(
        "atlas_watch_dispatch_dropped_total",
        "Change sets the Watch dispatcher fell too far behind to hand out "
        "(their subscribers read them from disk)",
        static_cast<double>(hub.dispatch_dropped)));
    return families;
  }

 private:
  mutable atlas::Mutex mu_;
  const storage::Store* store_ ABSL_GUARDED_BY(mu_) = nullptr;
  const ChangeHub* hub_ ABSL_GUARDED_BY(mu_) = nullptr;
};

ServerMetrics::ServerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      state_(std::make_shared<ServerStateCollector>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("atlas_grpc_requests_total")
                   .Help("gRPC calls finished, by method and status code")
                   .Register(*registry_);
  request_duration_ =
      &prometheus::BuildHistogram()
           .Name("atlas_grpc_request_duration_seconds")
           .Help("gRPC call duration from start to status, by method "
                 "(Watch: the whole stream)")
           .Register(*registry_);
  commits_ = &prometheus::BuildCounter()
                  .Name("atlas_store_commits_total")
                  .Help("Revisions committed")
                  .Register(*registry_)
                  .Add({});
  group_size_ = &prometheus::BuildHistogram()
                     .Name("atlas_store_commit_group_size")
                     .Help("Commit requests per group commit (one WAL sync)")
                     .Register(*registry_)
                     .Add({}, prometheus::Histogram::BucketBoundaries{
                                  1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  wal_sync_ = &prometheus::BuildHistogram()
                   .Name("atlas_store_wal_sync_seconds")
                   .Help("Write of one commit group, WAL sync included")
                   .Register(*registry_)
                   .Add({}, prometheus::Histogram::BucketBoundaries{
                                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1});
}

ServerMetrics::~ServerMetrics() = default;

ServerMetrics::MethodSeries& ServerMetrics::ForMethod(const char* method) {
  absl::string_view name =
      method == nullptr ? kUnknownMethod : absl::string_view(method);
  atlas::MutexLock lock(&methods_mu_);
  if (auto it = methods_.find(name); it != methods_.end()) return *it->second;
  if (methods_.size() >= kMaxMethods || !KnownMethod(name)) {
    name = kUnknownMethod;
    if (auto it = methods_.find(name); it != methods_.end()) {
      return *it->second;
    }
  }
  auto series = std::make_unique<MethodSeries>();
  series->method = std::string(name);
  series->duration = &request_duration_->Add(
      {{"method", series->method}},
      prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005,
                                              0.01, 0.025, 0.05, 0.1, 0.25,
                                              0.5, 1, 2.5, 5, 10, 30, 60, 300});
  MethodSeries& result = *series;
  methods_.emplace(series->method, std::move(series));
  return result;
}

void ServerMetrics::RecordRequest(MethodSeries& series, grpc::StatusCode code,
                                  absl::Duration duration) {
  int index = static_cast<int>(code);
  if (index < 0 || index >= kCodes) index = grpc::StatusCode::UNKNOWN;
  prometheus::Counter* counter =
      series.by_code[index].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Add() returns the existing counter for the same labels, so racing
    // callers store the same pointer.
    counter = &requests_->Add(
        {{"method", series.method},
         {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(
                      index))}});
    series.by_code[index].store(counter, std::memory_order_release);
  }
  counter->Increment();
  series.duration->Observe(absl::ToDoubleSeconds(duration));
}

void ServerMetrics::OnGroupWritten(size_t requests, uint64_t revisions,
                                   absl::Duration write_time) {
  commits_->Increment(static_cast<double>(revisions));
  group_size_->Observe(static_cast<double>(requests));
  wal_sync_->Observe(absl::ToDoubleSeconds(write_time));
}

void ServerMetrics::ObserveState(const storage::Store* store,
                                 const ChangeHub* hub) {
  state_->Observe(store, hub);
}

std::vector<std::weak_ptr<prometheus::Collectable>>
ServerMetrics::collectables() const {
  return {registry_, state_};
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, const ServerMetrics& metrics) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  try {
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(listen);
  } catch (const std::exception& error) {
    return absl::UnavailableError(
        absl::StrCat("--metrics_listen: cannot listen on ", listen, ": ",
                     error.what()));
  }
  for (const auto& collectable : metrics.collectables()) {
    endpoint->exposer_->RegisterCollectable(collectable);
  }
  const std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(
        absl::StrCat("--metrics_listen: cannot listen on ", listen));
  }
  endpoint->port_ = ports.front();
  endpoint->address_ = BoundAddress(listen, endpoint->port_);
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

}  // namespace atlas::services
