#include "services/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

}  // namespace

storage::StoreOptions StoreOptionsFor(const ServerConfig& config) {
  storage::StoreOptions options;
  options.path = config.data_dir;
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
  std::error_code error;
  std::filesystem::create_directories(store_options.path, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the data directory ", store_options.path,
                     ": ", error.message()));
  }
  ATLAS_ASSIGN_OR_RETURN(store_,
                         storage::Store::Open(std::move(store_options)));
  hub_ = std::make_unique<ChangeHub>(*store_, std::move(hub_options));
  // Before the first commit (the seed), so the hub sees every revision.
  store_->SetCommitObserver(hub_.get());
  if (!config_.seed_dir.empty()) {
    ATLAS_ASSIGN_OR_RETURN(seed_result_,
                           SeedIfEmpty(*store_, config_.seed_dir));
  }
  service_ = std::make_unique<AtlasService>(*store_, *hub_);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // A second server on the same port must fail, not share its traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(config_.listen, grpc::InsecureServerCredentials(),
                           &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr ||
      (port_ == 0 && !absl::StartsWith(config_.listen, "unix:"))) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config_.listen,
                     " (address in use or not valid?)"));
  }
  address_ = BoundAddress(config_.listen, port_);
  SetServing(true);

  retention_ = std::make_unique<ChangeLogRetention>(
      *store_, config_.retention_revisions, config_.retention_interval);
  retention_->Start();
  return absl::OkStatus();
}

AtlasServer::~AtlasServer() { Shutdown(); }

void AtlasServer::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);
  health->SetServingStatus(v1::Atlas::service_full_name(), serving);
}

void AtlasServer::StopServing() {
  atlas::MutexLock lock(&shutdown_mu_);
  if (shut_down_ || server_ == nullptr) return;
  SetServing(false);
  service_->RefuseNewCalls();
}

void AtlasServer::Shutdown(absl::Time deadline) {
  atlas::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    SetServing(false);
    service_->RefuseNewCalls();
    hub_->Shutdown();
    server_->Shutdown(absl::ToChronoTime(deadline));
    server_->Wait();
  } else if (hub_ != nullptr) {
    hub_->Shutdown();  // Init failed after creating the hub.
  }
  if (retention_ != nullptr) retention_->Stop();
  if (store_ != nullptr) store_->SetCommitObserver(nullptr);
  server_.reset();
  retention_.reset();
  service_.reset();
  hub_.reset();
  store_.reset();
}

}  // namespace atlas::services
