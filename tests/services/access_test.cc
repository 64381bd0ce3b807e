// Bearer tokens and roles through the real server: who may read, write and
// watch, what a caller without a valid token gets, reloading the tokens file,
// and that health checking stays open.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "services/server.h"
#include "services/token_table.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/grpc_probes.h"
#include "tests/services/secured_calls.h"
#include "tests/services/test_server.h"
#include "tests/testing/temp_dir.h"

namespace atlas::testing {
namespace {

using grpc::StatusCode;
using services::Access;
using services::Principal;
using services::Role;

constexpr char kReaderToken[] = "reader-token-0123456789abcdef";
constexpr char kWriterToken[] = "writer-token-0123456789abcdef";
constexpr char kAdminToken[] = "admin-token-0123456789abcdef";
constexpr char kNewToken[] = "fresh-token-0123456789abcdef";

std::string TokensText() {
  return std::string("# role per token\n") + kReaderToken + " reader alice\n" +
         kWriterToken + " writer bob\n\n" + kAdminToken + " admin root\n";
}

class AccessTest : public ::testing::Test {
 protected:
  std::unique_ptr<TestServer> Start(
      absl::Duration check_interval = absl::Hours(1)) {
    WriteTextFile(tokens_path(), TokensText());
    TestServerOptions options;
    options.config.access.tokens_file = tokens_path();
    options.config.access.tokens_check_interval = check_interval;
    return std::make_unique<TestServer>(std::move(options));
  }
  std::string tokens_path() const { return dir_.Sub("tokens"); }

  TempDir dir_;
};

TEST(AuthorizeTest, EachRoleCoversItsAccessLevelsOnly) {
  struct Case {
    Role role;
    Access access;
    bool allowed;
  };
  const Case cases[] = {
      {Role::kReader, Access::kRead, true},
      {Role::kReader, Access::kWrite, false},
      {Role::kReader, Access::kAdmin, false},
      {Role::kWriter, Access::kRead, true},
      {Role::kWriter, Access::kWrite, true},
      {Role::kWriter, Access::kAdmin, false},
      {Role::kAdmin, Access::kRead, true},
      {Role::kAdmin, Access::kWrite, true},
      {Role::kAdmin, Access::kAdmin, true},
  };
  for (const Case& c : cases) {
    const absl::Status status =
        services::Authorize(Principal{"carol", c.role}, c.access);
    SCOPED_TRACE(services::RoleName(c.role));
    if (c.allowed) {
      EXPECT_TRUE(status.ok()) << status;
    } else {
      EXPECT_TRUE(absl::IsPermissionDenied(status)) << status;
      EXPECT_NE(status.message().find("carol"), absl::string_view::npos);
      EXPECT_NE(status.message().find(services::RoleName(c.role)),
                absl::string_view::npos);
    }
  }
}

// Opens a WatchMany stream with one watch: OK once the watch's first
// message came, else the stream's status.
grpc::Status WatchManyCall(v1::Atlas::Stub& stub, const std::string& token) {
  grpc::ClientContext context;
  SetDeadline(context);
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  auto stream = stub.WatchMany(&context);
  v1::WatchManyRequest create;
  create.mutable_create()->set_watch_id(1);
  stream->Write(create);
  v1::WatchManyResponse response;
  if (stream->Read(&response) && response.items_size() > 0 &&
      !response.items(0).has_ended()) {
    context.TryCancel();
    stream->Finish();
    return grpc::Status::OK;
  }
  return stream->Finish();
}

TEST_F(AccessTest, WatchManyNeedsTheSameAccessAsWatch) {
  auto server = Start();
  v1::Atlas::Stub& stub = server->stub();
  EXPECT_TRUE(HasStatus(WatchManyCall(stub, ""), StatusCode::UNAUTHENTICATED));
  EXPECT_TRUE(WatchManyCall(stub, kReaderToken).ok());
}

TEST_F(AccessTest, CallsWithoutAValidTokenAreUnauthenticated) {
  auto server = Start();
  v1::Atlas::Stub& stub = server->stub();
  EXPECT_TRUE(HasStatus(ReadCall(stub, ""), StatusCode::UNAUTHENTICATED,
                        "authorization: Bearer TOKEN"));
  EXPECT_TRUE(HasStatus(WriteCall(stub, ""), StatusCode::UNAUTHENTICATED));
  EXPECT_TRUE(HasStatus(WatchCall(stub, ""), StatusCode::UNAUTHENTICATED));

  const std::string unknown = "unknown-token-0123456789abcdef";
  const grpc::Status status = ReadCall(stub, unknown);
  EXPECT_TRUE(HasStatus(status, StatusCode::UNAUTHENTICATED, "not known"));
  EXPECT_EQ(status.error_message().find(unknown), std::string::npos);
  EXPECT_TRUE(HasStatus(WriteCall(stub, unknown), StatusCode::UNAUTHENTICATED));
  EXPECT_TRUE(HasStatus(WatchCall(stub, unknown), StatusCode::UNAUTHENTICATED));

  // Another scheme than Bearer.
  grpc::ClientContext context;
  SetDeadline(context);
  context.AddMetadata("authorization", std::string("Basic ") + kAdminToken);
  v1::GetEntityRequest request;
  request.set_name("documents/absent");
  v1::GetEntityResponse response;
  EXPECT_TRUE(HasStatus(stub.GetEntity(&context, request, &response),
                        StatusCode::UNAUTHENTICATED, "Bearer"));
  EXPECT_EQ(server->store().CurrentRevision(), 0u);
}

TEST_F(AccessTest, ReaderMayReadAndWatchButNotWrite) {
  auto server = Start();
  v1::Atlas::Stub& stub = server->stub();
  EXPECT_TRUE(HasStatus(ReadCall(stub, kReaderToken), StatusCode::NOT_FOUND));
  EXPECT_TRUE(WatchCall(stub, kReaderToken).ok());
  EXPECT_TRUE(HasStatus(WriteCall(stub, kReaderToken),
                        StatusCode::PERMISSION_DENIED,
                        "principal \"alice\" has role reader"));
  EXPECT_EQ(server->store().CurrentRevision(), 0u);
}

TEST_F(AccessTest, WriterMayReadWriteAndWatch) {
  auto server = Start();
  v1::Atlas::Stub& stub = server->stub();
  EXPECT_TRUE(HasStatus(ReadCall(stub, kWriterToken), StatusCode::NOT_FOUND));
  EXPECT_TRUE(WatchCall(stub, kWriterToken).ok());
  const grpc::Status write = WriteCall(stub, kWriterToken);
  EXPECT_TRUE(write.ok()) << write.error_message();
  EXPECT_EQ(server->store().CurrentRevision(), 1u);
}

TEST_F(AccessTest, AdminMayReadWriteAndWatch) {
  auto server = Start();
  v1::Atlas::Stub& stub = server->stub();
  EXPECT_TRUE(HasStatus(ReadCall(stub, kAdminToken), StatusCode::NOT_FOUND));
  EXPECT_TRUE(WatchCall(stub, kAdminToken).ok());
  const grpc::Status write = WriteCall(stub, kAdminToken);
  EXPECT_TRUE(write.ok()) << write.error_message();
}

TEST_F(AccessTest, HealthCheckingNeedsNoToken) {
  auto server = Start();
  auto health = CheckHealth(server->channel(), "atlas.v1.Atlas");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, ServingStatus::kServing);
  auto reflected = ListReflectedServices(server->channel());
  ASSERT_TRUE(reflected.ok()) << reflected.status();
}

TEST_F(AccessTest, ReloadTakesARewrittenFile) {
  auto server = Start();
  v1::Atlas::Stub& stub = server->stub();
  ASSERT_TRUE(HasStatus(ReadCall(stub, kNewToken), StatusCode::UNAUTHENTICATED));

  // The reader is promoted, the writer removed, a token added.
  WriteTextFile(tokens_path(), std::string(kReaderToken) + " writer alice\n" +
                                   kNewToken + " reader dave\n");
  const absl::Status reloaded = server->server().ReloadTokens();
  ASSERT_TRUE(reloaded.ok()) << reloaded;

  EXPECT_TRUE(HasStatus(ReadCall(stub, kNewToken), StatusCode::NOT_FOUND));
  EXPECT_TRUE(WriteCall(stub, kReaderToken).ok());
  EXPECT_TRUE(HasStatus(ReadCall(stub, kWriterToken),
                        StatusCode::UNAUTHENTICATED));
}

TEST_F(AccessTest, BrokenFileOnReloadKeepsTheTokensInForce) {
  auto server = Start();
  v1::Atlas::Stub& stub = server->stub();
  // The second line has its fields swapped: role first, then the token.
  const std::string secret = "swapped-token-0123456789abcdef";
  WriteTextFile(tokens_path(),
                std::string(kNewToken) + " reader\nwriter " + secret + "\n");
  const absl::Status reloaded = server->server().ReloadTokens();
  EXPECT_TRUE(absl::IsInvalidArgument(reloaded)) << reloaded;
  EXPECT_NE(reloaded.message().find("line 2"), absl::string_view::npos)
      << reloaded;
  EXPECT_EQ(reloaded.message().find(secret), absl::string_view::npos);
  EXPECT_EQ(reloaded.message().find(kNewToken), absl::string_view::npos);

  EXPECT_TRUE(WriteCall(stub, kWriterToken).ok());
  EXPECT_TRUE(HasStatus(ReadCall(stub, kNewToken), StatusCode::UNAUTHENTICATED));
}

TEST_F(AccessTest, AChangedFileIsReloadedWithoutASignal) {
  auto server = Start(/*check_interval=*/absl::Milliseconds(20));
  v1::Atlas::Stub& stub = server->stub();
  WriteTextFile(tokens_path(), TokensText() + kNewToken + " writer erin\n");
  EXPECT_TRUE(Eventually([&] {
    return ReadCall(stub, kNewToken).error_code() == StatusCode::NOT_FOUND;
  }));
  EXPECT_TRUE(WriteCall(stub, kNewToken).ok());
}

TEST_F(AccessTest, ABrokenFileStopsTheStart) {
  WriteTextFile(tokens_path(), "tiny7 reader\n");
  services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = dir_.Sub("db");
  config.access.tokens_file = tokens_path();
  auto server = services::AtlasServer::Start(config);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("--tokens_file"),
            absl::string_view::npos)
      << server.status();
  EXPECT_NE(server.status().message().find("line 1"), absl::string_view::npos)
      << server.status();
  EXPECT_EQ(server.status().message().find("tiny7"), absl::string_view::npos)
      << server.status();
}

}  // namespace
}  // namespace atlas::testing
