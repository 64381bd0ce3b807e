#pragma once

// The one place absl::Status becomes grpc::Status (codes map one to one).

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace atlas::services {

// What every new call gets once the server has begun to shut down.
inline absl::Status ShuttingDownError() {
  return absl::UnavailableError("server is shutting down");
}

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace atlas::services
