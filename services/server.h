#pragma once

// AtlasServer: one running Atlas server. It opens the store (seeding it when
// empty), wires the change hub to it, serves atlas.v1.Atlas with gRPC health
// checking and server reflection (and, if asked, health alone on a plaintext
// port), bounds the change log, and shuts down gracefully.

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "services/access_gate.h"
#include "services/admin_service.h"
#include "services/atlas_service.h"
#include "services/call_gate.h"
#include "services/change_hub.h"
#include "services/change_log_retention.h"
#include "services/health_endpoint.h"
#include "services/metrics.h"
#include "services/request_limits.h"
#include "services/seed_dataset.h"
#include "services/tls_credentials.h"
#include "storage/store.h"

namespace atlas::services {

struct ServerConfig {
  // gRPC listening address; port 0 picks a free port (see
  // AtlasServer::address()).
  std::string listen = "127.0.0.1:50051";
  // Directory of the RocksDB store.
  std::string data_dir = "./var/atlas";
  // Dataset applied (in one commit) when the store is empty; empty = none.
  std::string seed_dir;
  // Keep this many recent revisions in the change log; 0 keeps all.
  uint64_t retention_revisions = 0;
  // How often the change log is trimmed to retention_revisions.
  absl::Duration retention_interval = absl::Seconds(30);
  // Watch PROGRESS interval when nothing matches.
  absl::Duration progress_interval = absl::Seconds(10);
  // Change sets queued in memory per Watch subscriber.
  size_t subscriber_queue_bound = 1024;
  // How long a shutdown waits for running calls before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Prometheus metrics HTTP address ("host:port"; port 0 picks a free one,
  // see AtlasServer::metrics_address()); empty: not served.
  std::string metrics_listen;
  // Plaintext address ("host:port"; port 0 picks a free one, see
  // AtlasServer::health_address()) of a second gRPC server that serves only
  // grpc.health.v1.Health, its status following the main port's: for probes
  // that cannot speak TLS (the kubelet's gRPC probe). Empty: not served.
  std::string health_listen;
  // HTTP/2 keepalive: the server pings a connection after keepalive_time
  // without reads and closes it (ending its calls and Watch streams) if the
  // ping is not acknowledged within keepalive_timeout. Without it a client
  // that vanished without closing its connection (network cut, no FIN) holds
  // its Watch streams until TCP gives up, which may take hours.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // Clients' own keepalive pings on a connection where the server sends
  // nothing: one per min_client_ping_interval is allowed; each earlier one
  // is a strike, and more than max_ping_strikes strikes close the connection
  // (GOAWAY ENHANCE_YOUR_CALM, "too_many_pings"). gRPC's default of 5 minutes
  // would cut off clients whose keepalive time is shorter (10 s to 1 min is
  // common for streaming clients). Any data or headers the server sends
  // clear the strikes.
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  int max_ping_strikes = 2;
  // TLS for the gRPC port (none set: plaintext).
  TlsFiles tls;
  // Bearer tokens, roles, request rate and open-stream limits.
  AccessOptions access;
  // Message, entity and apply sizes.
  RequestLimits limits;
  // Tests: a gate used instead of the AccessGate built from `access`.
  std::shared_ptr<CallGate> gate;
};

storage::StoreOptions StoreOptionsFor(const ServerConfig& config);
ChangeHubOptions ChangeHubOptionsFor(const ServerConfig& config);

class AtlasServer {
 public:
  // Opens the store under config.data_dir, seeds it and starts serving.
  static absl::StatusOr<std::unique_ptr<AtlasServer>> Start(
      const ServerConfig& config);
  // As above with explicit store and hub options (tests inject clocks and
  // bounds here); config.data_dir, progress_interval and
  // subscriber_queue_bound are not used.
  static absl::StatusOr<std::unique_ptr<AtlasServer>> Start(
      const ServerConfig& config, storage::StoreOptions store_options,
      ChangeHubOptions hub_options);

  // Shuts down with the configured grace if that has not happened yet.
  ~AtlasServer();
  AtlasServer(const AtlasServer&) = delete;
  AtlasServer& operator=(const AtlasServer&) = delete;

  // The bound listening address ("127.0.0.1:43121") and port.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  const SeedResult& seed_result() const { return seed_result_; }

  // Valid until Shutdown() has returned.
  storage::Store& store() { return *store_; }
  ChangeHub& hub() { return *hub_; }
  AtlasService& service() { return *service_; }
  grpc::Server& grpc_server() { return *server_; }
  ServerMetrics& metrics() { return *metrics_; }
  // Where /metrics is served ("127.0.0.1:9090"); empty when it is not.
  const std::string& metrics_address() const { return metrics_address_; }
  // Where the health-only plaintext port listens; empty when it does not.
  const std::string& health_address() const { return health_address_; }
  // What every call passes first (admin services ask it too).
  CallGate& gate() { return *gate_; }

  // Re-reads the tokens file (SIGHUP); the error if it is broken (the old
  // tokens stay). OK without a tokens file or with an injected gate.
  absl::Status ReloadTokens();

  // First step of a shutdown: health checks (on the health port too) answer
  // NOT_SERVING and new calls to atlas.v1.Atlas and atlas.v1.Admin fail with
  // UNAVAILABLE; running calls and Watch streams go on.
  void StopServing();
  // Graceful shutdown: StopServing(), end every Watch stream (UNAVAILABLE, so
  // clients resume elsewhere), let running calls finish until `deadline`
  // (then cancel them), stop retention and close the store. Idempotent.
  void Shutdown(absl::Time deadline);
  void Shutdown() { Shutdown(absl::Now() + config_.shutdown_grace); }

 private:
  explicit AtlasServer(ServerConfig config) : config_(std::move(config)) {}
  absl::Status Init(storage::StoreOptions store_options,
                    ChangeHubOptions hub_options);
  void SetServing(bool serving);
  // Health NOT_SERVING and new calls refused, on every service.
  void StopServingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shutdown_mu_);

  const ServerConfig config_;
  // Declared in dependency order: destroyed server first, store last.
  // Metrics outlive everything that reports to them.
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ChangeHub> hub_;
  std::shared_ptr<CallGate> gate_;
  AccessGate* access_gate_ = nullptr;  // gate_, unless a gate was injected
  std::unique_ptr<AtlasService> service_;
  std::unique_ptr<AdminService> admin_service_;  // atlas.v1.Admin
  std::unique_ptr<ChangeLogRetention> retention_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  // Shut down after the main server: probes see NOT_SERVING while it drains.
  std::unique_ptr<HealthEndpoint> health_endpoint_;
  std::string health_address_;
  // Stopped before the store and hub it reads go away.
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::string metrics_address_;
  int port_ = 0;
  SeedResult seed_result_;

  atlas::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace atlas::services
