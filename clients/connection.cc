#include "clients/connection.h"

#include <chrono>

#include "absl/status/status.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "proto/document_files.h"

namespace atlas::client {

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const ConnectionOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (!options.uses_tls()) {
    if (!options.server_name.empty()) {
      return absl::InvalidArgumentError(
          "--server_name needs TLS (--tls, --ca, or --cert and --key)");
    }
    credentials = grpc::InsecureChannelCredentials();
  } else {
    if (options.cert_file.empty() != options.key_file.empty()) {
      return absl::InvalidArgumentError(
          "--cert and --key must be given together");
    }
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty()) {
      absl::StatusOr<std::string> ca = documents::ReadTextFile(options.ca_file);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *std::move(ca);
    }
    if (!options.cert_file.empty()) {
      absl::StatusOr<std::string> cert =
          documents::ReadTextFile(options.cert_file);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key =
          documents::ReadTextFile(options.key_file);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments arguments;
  // The server bounds what it sends (a Watch message carries one whole change
  // set, up to its 16 MiB request limit and more with `before`); gRPC's
  // default 4 MiB receive limit would make such a set fail on every retry.
  arguments.SetMaxReceiveMessageSize(-1);
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  if (!options.server_name.empty()) {
    arguments.SetSslTargetNameOverride(options.server_name);
  }
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: despite its name it is the
  // minimum connect timeout (default 20 s); at 100 ms any server whose
  // handshake takes longer (a remote or busy one) was "unreachable".
  return grpc::CreateCustomChannel(options.server, credentials, arguments);
}

void PrepareContext(const ConnectionOptions& options, bool with_deadline,
                    grpc::ClientContext* context) {
  if (!options.token.empty()) {
    context->AddMetadata("authorization", "Bearer " + options.token);
  }
  if (with_deadline && options.timeout_seconds > 0) {
    context->set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(options.timeout_seconds)));
  }
}

}  // namespace atlas::client
