#pragma once

// RequestInterceptorFactory: a gRPC server interceptor on every call (every
// method of every service, Watch streams included, with no handler
// involved) that records the call's method, status code and duration in
// ServerMetrics and logs it:
//   debug    calls that succeed (not logged at the default level: at
//            benchmark rates a line per call would cost more than the call)
//   info     calls ended by the client's side of things: CANCELLED and the
//            codes that describe the request (INVALID_ARGUMENT, NOT_FOUND,
//            ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE,
//            UNAUTHENTICATED, PERMISSION_DENIED, UNIMPLEMENTED)
//   warning  the rest: the server failed the call (UNAVAILABLE, INTERNAL,
//            RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ...)
// A request record has method, peer, duration_ms, status (the code's name)
// and, when the call failed, error (the status message). Request metadata
// (e.g. authorization tokens) is never logged.

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include "services/metrics.h"

namespace atlas::services {

class RequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `metrics` must outlive the server.
  explicit RequestInterceptorFactory(ServerMetrics& metrics)
      : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  ServerMetrics& metrics_;
};

}  // namespace atlas::services
