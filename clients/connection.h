#pragma once

// How atlasctl reaches the server: address, deadline, credentials.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace atlas::client {

inline constexpr char kDefaultServer[] = "127.0.0.1:50051";

struct ConnectionOptions {
  // host:port (or any gRPC target, e.g. "dns:///atlas:50051").
  std::string server = kDefaultServer;
  // Deadline of each unary call, in seconds. Watch streams have none.
  double timeout_seconds = 10;
  // Sent as "authorization: Bearer TOKEN" when not empty.
  std::string token;
  // TLS is used when `tls` or any of the files is set: the CA bundle that
  // signed the server certificate (empty: system roots), and a client
  // certificate and key for mutual TLS (both or neither).
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // The name the server's certificate must carry, when it is not the host
  // of `server` (e.g. connecting by IP address or through a tunnel).
  std::string server_name;
  bool uses_tls() const {
    return tls || !ca_file.empty() || !cert_file.empty() || !key_file.empty();
  }
};

// Creates a channel (it connects lazily). Reconnection backoff is kept short
// (100 ms to 5 s) so a restarted server is found again quickly. Fails only
// when TLS files cannot be read or are incomplete.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const ConnectionOptions& options);

// Applies the token and, if `with_deadline`, the call deadline.
void PrepareContext(const ConnectionOptions& options, bool with_deadline,
                    grpc::ClientContext* context);

}  // namespace atlas::client
