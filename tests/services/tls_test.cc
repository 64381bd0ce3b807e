// TLS and mutual TLS on the real server, with certificates made by the
// openssl CLI at test time.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "services/server.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/grpc_probes.h"
#include "tests/services/secured_calls.h"
#include "tests/services/test_server.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"

namespace atlas::testing {
namespace {

using grpc::StatusCode;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeTestCerts(dir_.path(), &certs_))
        << "openssl could not make the test certificates";
  }

  std::unique_ptr<TestServer> Start(bool require_client_certs) {
    TestServerOptions options;
    options.config.tls.cert = certs_.server_cert;
    options.config.tls.key = certs_.server_key;
    if (require_client_certs) options.config.tls.client_ca = certs_.ca_cert;
    return std::make_unique<TestServer>(std::move(options));
  }

  std::shared_ptr<grpc::ChannelCredentials> Tls(
      const std::string& ca, const std::string& cert = "",
      const std::string& key = "") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadTextFile(ca);
    if (!cert.empty()) {
      options.pem_cert_chain = ReadTextFile(cert);
      options.pem_private_key = ReadTextFile(key);
    }
    return grpc::SslCredentials(options);
  }

  TempDir dir_;
  TestCerts certs_;
};

TEST_F(TlsTest, ServesClientsThatVerifyItsCertificate) {
  auto server = Start(/*require_client_certs=*/false);
  auto stub = StubOnNewConnection(server->address(), Tls(certs_.ca_cert));
  EXPECT_TRUE(HasStatus(ReadCall(*stub, ""), StatusCode::NOT_FOUND));
  EXPECT_TRUE(WriteCall(*stub, "").ok());

  // By name, as atlasctl --server_name does.
  auto by_name = StubOnNewConnection(server->address(), Tls(certs_.ca_cert),
                                     "localhost");
  EXPECT_TRUE(HasStatus(ReadCall(*by_name, ""), StatusCode::NOT_FOUND));
}

TEST_F(TlsTest, RefusesPlaintextAndUntrustingClients) {
  auto server = Start(/*require_client_certs=*/false);
  auto plaintext = StubOnNewConnection(server->address());
  EXPECT_TRUE(HasStatus(ReadCall(*plaintext, ""), StatusCode::UNAVAILABLE));
  // A client that trusts another CA does not accept the server.
  auto untrusting =
      StubOnNewConnection(server->address(), Tls(certs_.other_ca_cert));
  EXPECT_TRUE(HasStatus(ReadCall(*untrusting, ""), StatusCode::UNAVAILABLE));
  // Nor does one that expects another name.
  auto wrong_name = StubOnNewConnection(server->address(),
                                        Tls(certs_.ca_cert), "atlas.example");
  EXPECT_TRUE(HasStatus(ReadCall(*wrong_name, ""), StatusCode::UNAVAILABLE));
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateFromTheClientCa) {
  auto server = Start(/*require_client_certs=*/true);
  auto with_cert = StubOnNewConnection(
      server->address(),
      Tls(certs_.ca_cert, certs_.client_cert, certs_.client_key));
  EXPECT_TRUE(HasStatus(ReadCall(*with_cert, ""), StatusCode::NOT_FOUND));

  auto without_cert =
      StubOnNewConnection(server->address(), Tls(certs_.ca_cert));
  EXPECT_TRUE(
      HasStatus(ReadCall(*without_cert, ""), StatusCode::UNAVAILABLE));
  EXPECT_TRUE(HasStatus(WatchCall(*without_cert, ""), StatusCode::UNAVAILABLE));

  auto foreign_cert = StubOnNewConnection(
      server->address(),
      Tls(certs_.ca_cert, certs_.other_client_cert, certs_.other_client_key));
  EXPECT_TRUE(
      HasStatus(ReadCall(*foreign_cert, ""), StatusCode::UNAVAILABLE));
}

TEST_F(TlsTest, BadFilesStopTheStartNamingTheFlag) {
  struct Case {
    services::TlsFiles files;
    std::string expected;
  };
  const std::string missing = dir_.Sub("missing.pem");
  const Case cases[] = {
      {{certs_.server_cert, "", ""}, "--tls_cert and --tls_key"},
      {{"", "", certs_.ca_cert}, "--tls_cert and --tls_key"},
      {{missing, certs_.server_key, ""}, "--tls_cert"},
      {{certs_.server_key, certs_.server_key, ""}, "no PEM certificate"},
      {{certs_.server_cert, certs_.server_cert, ""}, "no PEM private key"},
      {{certs_.server_cert, certs_.client_key, ""},
       "is not the key of the certificate"},
      {{certs_.server_cert, certs_.server_key, certs_.server_key},
       "--tls_client_ca"},
  };
  for (const Case& c : cases) {
    services::ServerConfig config;
    config.listen = "127.0.0.1:0";
    config.data_dir = dir_.Sub("db");
    config.tls = c.files;
    auto server = services::AtlasServer::Start(config);
    ASSERT_FALSE(server.ok()) << c.expected;
    EXPECT_NE(server.status().message().find(c.expected),
              absl::string_view::npos)
        << server.status();
  }
}

}  // namespace
}  // namespace atlas::testing
