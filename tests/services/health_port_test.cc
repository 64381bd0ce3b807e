// The health-only plaintext port (--health_listen) next to a TLS main port:
// the kubelet's gRPC probe, which speaks no TLS, checks health there. It
// answers grpc.health.v1.Health as the main port would (SERVING, then
// NOT_SERVING once a shutdown starts, for "" and atlas.v1.Atlas), serves
// nothing else, and goes away with the server.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "atlas/v1/admin_service.grpc.pb.h"
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

std::shared_ptr<grpc::Channel> Plaintext(const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   arguments);
}

class HealthPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeTestCerts(dir_.path(), &certs_))
        << "openssl could not make the test certificates";
    TestServerOptions options;
    options.config.tls.cert = certs_.server_cert;
    options.config.tls.key = certs_.server_key;
    options.config.health_listen = "127.0.0.1:0";
    server_ = std::make_unique<TestServer>(std::move(options));
    ASSERT_FALSE(server_->server().health_address().empty());
    ASSERT_NE(server_->server().health_address(), server_->address());
    health_ = Plaintext(server_->server().health_address());
  }

  // Both statuses the probes ask for, as "<whole server>/<atlas.v1.Atlas>".
  std::string Statuses() {
    auto overall = CheckHealth(health_, "");
    auto atlas = CheckHealth(health_, "atlas.v1.Atlas");
    if (!overall.ok()) return overall.status().ToString();
    if (!atlas.ok()) return atlas.status().ToString();
    return absl::StrCat(static_cast<int>(*overall), "/",
                        static_cast<int>(*atlas));
  }

  TempDir dir_;
  TestCerts certs_;
  std::unique_ptr<TestServer> server_;
  std::shared_ptr<grpc::Channel> health_;
};

constexpr char kServing[] = "1/1";
constexpr char kNotServing[] = "2/2";

TEST_F(HealthPortTest, AnswersPlaintextHealthChecksWhileTheMainPortIsTls) {
  EXPECT_EQ(Statuses(), kServing);
  // The main port itself refuses plaintext: only the health port can serve
  // the kubelet.
  EXPECT_FALSE(CheckHealth(Plaintext(server_->address()), "").ok());
}

TEST_F(HealthPortTest, ServesNothingButHealth) {
  auto atlas = v1::Atlas::NewStub(health_);
  EXPECT_TRUE(HasStatus(ReadCall(*atlas, ""), StatusCode::UNIMPLEMENTED,
                        "serves only grpc.health.v1.Health"));
  EXPECT_TRUE(HasStatus(WriteCall(*atlas, ""), StatusCode::UNIMPLEMENTED));
  EXPECT_TRUE(HasStatus(WatchCall(*atlas, ""), StatusCode::UNIMPLEMENTED));

  auto admin = v1::Admin::NewStub(health_);
  grpc::ClientContext context;
  v1::BackupRequest request;
  request.set_directory(dir_.Sub("backup"));
  v1::BackupResponse response;
  EXPECT_TRUE(HasStatus(admin->Backup(&context, request, &response),
                        StatusCode::UNIMPLEMENTED));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("backup")));

  // No server reflection either (the main port has it).
  auto reflected = ListReflectedServices(health_);
  EXPECT_EQ(reflected.status().code(), absl::StatusCode::kUnimplemented)
      << reflected.status();
}

TEST_F(HealthPortTest, FollowsTheMainPortThroughShutdown) {
  ASSERT_EQ(Statuses(), kServing);
  server_->server().StopServing();
  EXPECT_EQ(Statuses(), kNotServing);

  server_->Shutdown();
  // Gone with the server: the probe fails rather than report stale health.
  auto after = CheckHealth(Plaintext(server_->server().health_address()), "");
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable)
      << after.status();
}

TEST(HealthPortOffTest, NoHealthPortUnlessAsked) {
  TestServer server;
  EXPECT_TRUE(server.server().health_address().empty());
}

TEST(HealthPortOffTest, ATakenHealthAddressStopsTheStart) {
  TestServer other;
  TempDir dir;
  services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = dir.Sub("db");
  config.health_listen = other.address();
  auto started = services::AtlasServer::Start(config);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find("health"), std::string::npos)
      << started.status();
}

}  // namespace
}  // namespace atlas::testing
