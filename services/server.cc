#include "services/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/request_interceptor.h"
#include "storage/status_macros.h"

namespace atlas::services {
namespace {

// "host:port" with the port replaced by the one actually bound.
std::string BoundAddress(const std::string& listen, int port) {
  if (absl::StartsWith(listen, "unix:")) return listen;
  const size_t colon = listen.rfind(':');
  const std::string host =
      colon == std::string::npos ? listen : listen.substr(0, colon);
  return absl::StrCat(host, ":", port);
}

// A channel argument in milliseconds, within int.
int Millis(absl::Duration duration) {
  return static_cast<int>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(duration), 0, std::numeric_limits<int>::max()));
}

absl::Status CheckKeepalive(const ServerConfig& config) {
  if (config.keepalive_time < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("--keepalive_time: must be at least 1ms");
  }
  if (config.keepalive_timeout < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError(
        "--keepalive_timeout: must be at least 1ms");
  }
  return absl::OkStatus();
}

void AddKeepalive(const ServerConfig& config, grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             Millis(config.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Millis(config.keepalive_timeout));
  // Also on connections without calls: a vanished client's idle connection
  // is closed too, and clients may ping such connections themselves.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // No cap on the pings sent with no data in between: gRPC's default cap
  // (2) is meant for clients, and wherever it applied to the server it would
  // stop checking exactly the idle connections keepalive is for.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      Millis(config.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES,
                             config.max_ping_strikes);
}

}  // namespace

storage::StoreOptions StoreOptionsFor(const ServerConfig& config) {
  storage::StoreOptions options;
  options.path = config.data_dir;
  options.max_entity_bytes = config.limits.max_entity_bytes;
  return options;
}

ChangeHubOptions ChangeHubOptionsFor(const ServerConfig& config) {
  ChangeHubOptions options;
  options.progress_interval = config.progress_interval;
  options.subscriber_queue_bound = config.subscriber_queue_bound;
  return options;
}

absl::StatusOr<std::unique_ptr<AtlasServer>> AtlasServer::Start(
    const ServerConfig& config) {
  return Start(config, StoreOptionsFor(config), ChangeHubOptionsFor(config));
}

absl::StatusOr<std::unique_ptr<AtlasServer>> AtlasServer::Start(
    const ServerConfig& config, storage::StoreOptions store_options,
    ChangeHubOptions hub_options) {
  std::unique_ptr<AtlasServer> server(new AtlasServer(config));
  ATLAS_RETURN_IF_ERROR(
      server->Init(std::move(store_options), std::move(hub_options)));
  return server;
}

absl::Status AtlasServer::Init(storage::StoreOptions store_options,
                               ChangeHubOptions hub_options) {
  ATLAS_RETURN_IF_ERROR(CheckKeepalive(config_));
  std::error_code error;
  std::filesystem::create_directories(store_options.path, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the data directory ", store_options.path,
                     ": ", error.message()));
  }
  metrics_ = std::make_unique<ServerMetrics>();
  ATLAS_ASSIGN_OR_RETURN(store_,
                         storage::Store::Open(std::move(store_options)));
  store_->SetCommitStatsObserver(metrics_.get());
  hub_ = std::make_unique<ChangeHub>(*store_, std::move(hub_options));
  metrics_->ObserveState(store_.get(), hub_.get());
  if (!config_.metrics_listen.empty()) {
    ATLAS_ASSIGN_OR_RETURN(
        metrics_endpoint_,
        MetricsEndpoint::Start(config_.metrics_listen, *metrics_));
    metrics_address_ = metrics_endpoint_->address();
  }
  // Before the first commit (the seed), so the hub sees every revision.
  store_->SetCommitObserver(hub_.get());
  if (!config_.seed_dir.empty()) {
    ATLAS_ASSIGN_OR_RETURN(seed_result_,
                           SeedIfEmpty(*store_, config_.seed_dir));
  }
  gate_ = config_.gate;
  if (gate_ == nullptr) {
    ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<AccessGate> gate,
                           AccessGate::Create(config_.access));
    access_gate_ = gate.get();
    gate_ = std::move(gate);
  }
  ATLAS_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                         ServerCredentialsFor(config_.tls));
  service_ = std::make_unique<AtlasService>(*store_, *hub_, *gate_,
                                            config_.limits);
  admin_service_ = std::make_unique<AdminService>(*store_, *gate_);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // A second server on the same port must fail, not share its traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(config_.listen, credentials, &port_);
  builder.SetMaxReceiveMessageSize(config_.limits.max_message_bytes);
  AddKeepalive(config_, builder);
  builder.RegisterService(service_.get());
  builder.RegisterService(admin_service_.get());
  // Every call of every service: request metrics and request logs.
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<RequestInterceptorFactory>(*metrics_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr ||
      (port_ == 0 && !absl::StartsWith(config_.listen, "unix:"))) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config_.listen,
                     " (address in use or not valid?)"));
  }
  address_ = BoundAddress(config_.listen, port_);
  // After the main server, whose status it reports, is up.
  if (!config_.health_listen.empty()) {
    ATLAS_ASSIGN_OR_RETURN(health_endpoint_,
                           HealthEndpoint::Start(config_.health_listen));
    health_address_ =
        BoundAddress(config_.health_listen, health_endpoint_->port());
  }
  SetServing(true);

  retention_ = std::make_unique<ChangeLogRetention>(
      *store_, config_.retention_revisions, config_.retention_interval);
  retention_->Start();
  return absl::OkStatus();
}

AtlasServer::~AtlasServer() { Shutdown(); }

absl::Status AtlasServer::ReloadTokens() {
  if (access_gate_ == nullptr) return absl::OkStatus();
  return access_gate_->ReloadTokens();
}

void AtlasServer::SetServing(bool serving) {
  for (const std::string& service :
       {std::string(), std::string(v1::Atlas::service_full_name())}) {
    grpc::HealthCheckServiceInterface* health =
        server_->GetHealthCheckService();
    if (health != nullptr) health->SetServingStatus(service, serving);
    if (health_endpoint_ != nullptr) {
      health_endpoint_->SetServingStatus(service, serving);
    }
  }
}

void AtlasServer::StopServingLocked() {
  SetServing(false);
  service_->RefuseNewCalls();
  admin_service_->RefuseNewCalls();
}

void AtlasServer::StopServing() {
  atlas::MutexLock lock(&shutdown_mu_);
  if (shut_down_ || server_ == nullptr) return;
  StopServingLocked();
}

void AtlasServer::Shutdown(absl::Time deadline) {
  atlas::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    StopServingLocked();
    hub_->Shutdown();
    server_->Shutdown(absl::ToChronoTime(deadline));
    server_->Wait();
  } else if (hub_ != nullptr) {
    hub_->Shutdown();  // Init failed after creating the hub.
  }
  if (health_endpoint_ != nullptr) health_endpoint_->Shutdown(deadline);
  health_endpoint_.reset();
  if (retention_ != nullptr) retention_->Stop();
  metrics_endpoint_.reset();
  if (metrics_ != nullptr) metrics_->ObserveState(nullptr, nullptr);
  if (store_ != nullptr) {
    store_->SetCommitObserver(nullptr);
    store_->SetCommitStatsObserver(nullptr);
  }
  server_.reset();
  retention_.reset();
  admin_service_.reset();
  service_.reset();
  hub_.reset();
  store_.reset();
}

}  // namespace atlas::services
