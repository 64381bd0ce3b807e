#include "clients/bench/channel_security.h"

#include <grpcpp/support/client_interceptor.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace atlas::bench {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     const char* flag) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read ", path));
  }
  return text.str();
}

class BearerToken final : public grpc::experimental::Interceptor {
 public:
  explicit BearerToken(std::string header) : header_(std::move(header)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", header_);
    }
    methods->Proceed();
  }

 private:
  const std::string header_;
};

class BearerTokenFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerTokenFactory(const std::string& token)
      : header_("Bearer " + token) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerToken(header_);
  }

 private:
  const std::string header_;
};

}  // namespace

absl::StatusOr<ChannelSecurity> LoadChannelSecurity(const SecurityFlags& flags) {
  ChannelSecurity security;
  security.token = flags.token;
  security.server_name = flags.server_name;
  const bool tls = flags.tls || !flags.ca_file.empty() ||
                   !flags.cert_file.empty() || !flags.key_file.empty();
  if (!tls) {
    if (!flags.server_name.empty()) {
      return absl::InvalidArgumentError(
          "--server_name needs TLS (--tls, --ca, or --cert and --key)");
    }
    return security;
  }
  if (flags.cert_file.empty() != flags.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--cert and --key must be given together");
  }
  grpc::SslCredentialsOptions ssl;
  if (!flags.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFile(flags.ca_file, "--ca");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!flags.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadFile(flags.cert_file, "--cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile(flags.key_file, "--key");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  security.credentials = grpc::SslCredentials(ssl);
  return security;
}

std::shared_ptr<grpc::Channel> CreateSecuredChannel(
    const std::string& server, grpc::ChannelArguments arguments,
    const ChannelSecurity& security) {
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      security.credentials != nullptr ? security.credentials
                                      : grpc::InsecureChannelCredentials();
  if (!security.server_name.empty()) {
    arguments.SetSslTargetNameOverride(security.server_name);
  }
  if (security.token.empty()) {
    return grpc::CreateCustomChannel(server, credentials, arguments);
  }
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<BearerTokenFactory>(security.token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      server, credentials, arguments, std::move(interceptors));
}

}  // namespace atlas::bench
