#pragma once

// How atlas-bench's channels to Atlas reach a secured server: TLS (server
// verified against a CA file or the system roots, optionally a client
// certificate for mutual TLS and a name override) and a bearer token sent
// as "authorization: Bearer TOKEN" with every call (by a client
// interceptor, so no call site needs to know).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atlas::bench {

// As given on the command line.
struct SecurityFlags {
  bool tls = false;  // implied by any file
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
  std::string token;
};

// Ready to open channels with.
struct ChannelSecurity {
  std::shared_ptr<grpc::ChannelCredentials> credentials;  // null: plaintext
  std::string server_name;
  std::string token;
};

// Reads the files; an error names the flag at fault.
absl::StatusOr<ChannelSecurity> LoadChannelSecurity(const SecurityFlags& flags);

// A channel to `server` with `arguments` and `security`.
std::shared_ptr<grpc::Channel> CreateSecuredChannel(
    const std::string& server, grpc::ChannelArguments arguments,
    const ChannelSecurity& security);

}  // namespace atlas::bench
