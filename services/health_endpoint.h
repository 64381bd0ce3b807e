#pragma once

// HealthEndpoint: a second gRPC server, always plaintext, that serves
// grpc.health.v1.Health and nothing else (no Atlas, no Admin, no
// reflection). It exists for probes that cannot speak the main port's TLS:
// the kubelet's native gRPC probe. It only answers health checks, so
// leaving it unencrypted exposes no data. AtlasServer sets its serving
// status to follow the main port's.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace atlas::services {

class HealthEndpoint {
 public:
  // Listens on `listen` ("host:port"; port 0 picks a free one). Every
  // service answers SERVING until SetServingStatus says otherwise.
  static absl::StatusOr<std::unique_ptr<HealthEndpoint>> Start(
      const std::string& listen);

  // Shuts down at once if Shutdown() was not called.
  ~HealthEndpoint();
  HealthEndpoint(const HealthEndpoint&) = delete;
  HealthEndpoint& operator=(const HealthEndpoint&) = delete;

  // The bound port (0 for a unix: address).
  int port() const { return port_; }

  // Not thread-safe (AtlasServer calls these under its lock).
  // The status `service` ("" = the whole server) reports.
  void SetServingStatus(const std::string& service, bool serving);

  // Stops listening; health Watch calls end, running checks get until
  // `deadline`. Idempotent.
  void Shutdown(absl::Time deadline);

 private:
  class OtherMethods;

  HealthEndpoint();

  std::unique_ptr<OtherMethods> other_methods_;  // outlives server_
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace atlas::services
