#include "services/health_endpoint.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>

#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace atlas::services {
namespace {

// Drops the builder plugins registered process-wide: the main server turns
// on server reflection for every server built after it, and this port
// serves health alone.
class WithoutPlugins final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->clear();
  }
};

}  // namespace

// Every method but health's (those are matched first) fails as gRPC would
// fail an unknown one, with a hint for a client pointed at the wrong port.
// gRPC also needs it: the built-in health service alone is not enough for
// ServerBuilder to start a server ("At least one of the completion queues
// must be frequently polled").
class HealthEndpoint::OtherMethods final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* /*context*/) override {
    class Unimplemented final : public grpc::ServerGenericBidiReactor {
     public:
      Unimplemented() {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                            "this port serves only grpc.health.v1.Health"));
      }
      void OnDone() override { delete this; }
    };
    return new Unimplemented();
  }
};

absl::StatusOr<std::unique_ptr<HealthEndpoint>> HealthEndpoint::Start(
    const std::string& listen) {
  // The default health service is what this server consists of.
  grpc::EnableDefaultHealthCheckService(true);
  std::unique_ptr<HealthEndpoint> endpoint(new HealthEndpoint());
  endpoint->other_methods_ = std::make_unique<OtherMethods>();
  grpc::ServerBuilder builder;
  // Another server on the same port must fail, not share its traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetOption(std::make_unique<WithoutPlugins>());
  builder.RegisterCallbackGenericService(endpoint->other_methods_.get());
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(),
                           &endpoint->port_);
  endpoint->server_ = builder.BuildAndStart();
  if (endpoint->server_ == nullptr ||
      endpoint->server_->GetHealthCheckService() == nullptr ||
      (endpoint->port_ == 0 && !absl::StartsWith(listen, "unix:"))) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen,
                     " for health checks (address in use or not valid?)"));
  }
  return endpoint;
}

HealthEndpoint::HealthEndpoint() = default;

HealthEndpoint::~HealthEndpoint() { Shutdown(absl::Now()); }

void HealthEndpoint::SetServingStatus(const std::string& service,
                                      bool serving) {
  if (shut_down_ || server_ == nullptr) return;
  server_->GetHealthCheckService()->SetServingStatus(service, serving);
}

void HealthEndpoint::Shutdown(absl::Time deadline) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  server_->Shutdown(absl::ToChronoTime(deadline));
  server_->Wait();
}

}  // namespace atlas::services
