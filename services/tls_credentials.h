#pragma once

// The gRPC port's credentials: plaintext, TLS from a certificate and key
// (PEM files), or mutual TLS when a client CA bundle is given too (clients
// must then present a certificate that bundle signed). The files are read
// and checked at start: a missing file, a file without a PEM certificate or
// key, or a key that does not belong to the certificate is an error naming
// the flag.

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace atlas::services {

struct TlsFiles {
  std::string cert;       // --tls_cert
  std::string key;        // --tls_key
  std::string client_ca;  // --tls_client_ca: require client certificates
  bool enabled() const {
    return !cert.empty() || !key.empty() || !client_ca.empty();
  }
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const TlsFiles& files);

}  // namespace atlas::services
