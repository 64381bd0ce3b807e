#pragma once

// ParseResponse: a response message from the bytes H2Client received, with
// the error a call reports when they are not one.

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace atlas::bench {

template <typename Message>
grpc::Status ParseResponse(absl::string_view bytes, Message& message) {
  if (message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return grpc::Status::OK;
  }
  return grpc::Status(
      grpc::StatusCode::INTERNAL,
      absl::StrCat("unparsable ", Message::descriptor()->full_name(), " (",
                   bytes.size(), " bytes)"));
}

}  // namespace atlas::bench
