#pragma once

// Turning a failed call into the one line atlasctl prints.

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace atlas::client {

// Words for a status code, e.g. NOT_FOUND -> "not found", ABORTED (a stale
// etag in this API) -> "precondition failed".
std::string StatusCodeWords(grpc::StatusCode code);

// `message` on one line and safe for a terminal: each run of spaces, line
// breaks and other control characters (C0, DEL, C1) becomes one space.
std::string OneLine(const std::string& message);

// An absl::Status with the same code and the message atlasctl prints after
// "atlasctl: ", e.g. `not found: entity "agreements/nope" does not exist`, or
// `server 127.0.0.1:50051 unreachable: ...` when UNAVAILABLE and the channel
// never connected (`connected` false).
absl::Status RpcError(const grpc::Status& status, const std::string& server,
                      bool connected);

}  // namespace atlas::client
