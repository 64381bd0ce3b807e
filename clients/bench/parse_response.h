#pragma once

// What H2Client received, read as the gRPC path reads it: ParseResponse
// parses the bytes into a message (with the error a call reports when they
// are not one), DecodeResponse then applies the same `Result` function the
// target's gRPC path applies to the message it received.

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "clients/bench/target.h"
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

template <typename Response,
          OpResult (*Result)(const grpc::Status&, const Response&)>
OpResult DecodeResponse(absl::string_view bytes) {
  Response response;
  grpc::Status status = ParseResponse(bytes, response);
  if (!status.ok()) return {std::move(status), 0};
  return Result(status, response);
}

}  // namespace atlas::bench
