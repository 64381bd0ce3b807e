#pragma once

// ServerMetrics: the server's Prometheus series, and MetricsEndpoint, which
// serves them over HTTP (GET /metrics, text format) on their own port.
//
// Series (see deploy/README.md for the list operators read):
//   requests   atlas_grpc_requests_total{method,code},
//              atlas_grpc_request_duration_seconds{method} (histogram),
//              recorded by the request interceptor for every method.
//   commits    atlas_store_commits_total, atlas_store_commit_group_size,
//              atlas_store_wal_sync_seconds, fed by the store's
//              CommitStatsObserver hook.
//   state      revisions, Watch subscriptions, lag, events delivered and
//              RocksDB's size estimates, read from the store and the change
//              hub when Prometheus scrapes.

#include <grpcpp/grpcpp.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "storage/store_stats.h"

namespace prometheus {
class Collectable;
class Counter;
class Exposer;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace atlas::storage {
class Store;
}  // namespace atlas::storage

namespace atlas::services {

class ChangeHub;
class ServerStateCollector;

class ServerMetrics final : public storage::CommitStatsObserver {
 public:
  // The series of one gRPC method, created on its first call.
  struct MethodSeries {
    std::string method;
    prometheus::Histogram* duration = nullptr;
    // One requests counter per status code, created on first use.
    std::array<std::atomic<prometheus::Counter*>, 17> by_code{};
  };

  ServerMetrics();
  ~ServerMetrics() override;
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // `method` as gRPC names it ("/atlas.v1.Atlas/GetEntity"; may be null).
  // A method no linked service defines is counted as "unknown", so clients
  // cannot grow the label set.
  MethodSeries& ForMethod(const char* method);
  void RecordRequest(MethodSeries& series, grpc::StatusCode code,
                     absl::Duration duration);

  // storage::CommitStatsObserver
  void OnGroupWritten(size_t requests, uint64_t revisions,
                      absl::Duration write_time) override;

  // Where the scrape-time series come from. Set both before serving; clear
  // them (nullptr) before either goes away.
  void ObserveState(const storage::Store* store, const ChangeHub* hub);

  // Everything registered with an endpoint.
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ServerStateCollector> state_;
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Family<prometheus::Histogram>* request_duration_ = nullptr;
  prometheus::Counter* commits_ = nullptr;
  prometheus::Histogram* group_size_ = nullptr;
  prometheus::Histogram* wal_sync_ = nullptr;

  atlas::Mutex methods_mu_;
  // Never shrinks; entries are stable (MethodSeries& stays valid).
  absl::flat_hash_map<std::string, std::unique_ptr<MethodSeries>> methods_
      ABSL_GUARDED_BY(methods_mu_);
};

// Serves ServerMetrics at http://ADDRESS/metrics on its own threads until
// destroyed.
class MetricsEndpoint {
 public:
  // `listen` is "host:port" (port 0 picks a free one). UNAVAILABLE if it
  // cannot listen there.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, const ServerMetrics& metrics);
  ~MetricsEndpoint();

  // The bound port, and "host:port" with it.
  int port() const { return port_; }
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint() = default;

  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
  std::string address_;
};

}  // namespace atlas::services
