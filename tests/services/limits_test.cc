// Each limit, exceeded through the real server, is RESOURCE_EXHAUSTED naming
// the limit's flag; the open-stream limits free a slot when a stream ends;
// an expired client deadline starts no write.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "services/call_gate.h"
#include "services/server.h"
#include "storage/store.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/secured_calls.h"
#include "tests/services/test_server.h"
#include "tests/testing/entities.h"
#include "tests/testing/temp_dir.h"

namespace atlas::testing {
namespace {

using grpc::StatusCode;

std::unique_ptr<TestServer> StartWith(
    const std::function<void(services::ServerConfig&)>& configure) {
  TestServerOptions options;
  configure(options.config);
  return std::make_unique<TestServer>(std::move(options));
}

v1::Entity LargeDocument(const std::string& id, size_t bytes) {
  v1::Entity entity = Document(id, "WT/LARGE/1");
  entity.mutable_document()->set_summary(std::string(bytes, 'x'));
  return entity;
}

TEST(LimitsTest, AnEntityOverMaxEntityBytesIsRefused) {
  auto server = StartWith([](services::ServerConfig& config) {
    config.limits.max_entity_bytes = 2000;
  });
  AtlasCalls calls(server->stub());
  EXPECT_TRUE(calls.Create(LargeDocument("small", 100)).ok());
  const uint64_t revision = server->store().CurrentRevision();

  EXPECT_TRUE(HasStatus(calls.Create(LargeDocument("big", 3000)).status,
                        StatusCode::RESOURCE_EXHAUSTED,
                        "entity: entity size limit"));
  EXPECT_TRUE(HasStatus(calls.Update(LargeDocument("small", 3000)).status,
                        StatusCode::RESOURCE_EXHAUSTED,
                        "--max_entity_bytes=2000"));
  EXPECT_TRUE(HasStatus(
      calls.Apply({LargeDocument("a", 10), LargeDocument("b", 3000)}).status,
      StatusCode::RESOURCE_EXHAUSTED, "entities[1]: entity size limit"));
  EXPECT_EQ(server->store().CurrentRevision(), revision);
}

TEST(LimitsTest, AnApplyOverMaxApplyEntitiesIsRefused) {
  auto server = StartWith([](services::ServerConfig& config) {
    config.limits.max_apply_entities = 3;
  });
  AtlasCalls calls(server->stub());
  std::vector<v1::Entity> entities;
  for (int i = 0; i < 3; ++i) {
    entities.push_back(Document("d" + std::to_string(i), "WT/1"));
  }
  EXPECT_TRUE(calls.Apply(entities).ok());
  entities.push_back(Document("d3", "WT/1"));
  EXPECT_TRUE(HasStatus(calls.Apply(entities).status,
                        StatusCode::RESOURCE_EXHAUSTED,
                        "4 entities in one request, more than "
                        "--max_apply_entities=3"));
  EXPECT_EQ(server->store().CurrentRevision(), 1u);
}

TEST(LimitsTest, AMessageOverMaxMessageBytesIsRefusedByGrpc) {
  auto server = StartWith([](services::ServerConfig& config) {
    config.limits.max_message_bytes = 64 * 1024;
  });
  AtlasCalls calls(server->stub());
  EXPECT_TRUE(calls.Create(LargeDocument("fits", 32 * 1024)).ok());
  // gRPC itself refuses the message before any handler runs; its message
  // gives both sizes ("... larger than max (N vs. 65536)").
  const grpc::Status status =
      calls.Create(LargeDocument("too-big", 100 * 1024)).status;
  EXPECT_TRUE(HasStatus(status, StatusCode::RESOURCE_EXHAUSTED, "65536"));
  EXPECT_EQ(server->store().CurrentRevision(), 1u);
}

TEST(LimitsTest, StreamsPerConnectionAreLimitedAndFreedWhenAStreamEnds) {
  auto server = StartWith([](services::ServerConfig& config) {
    config.access.max_streams_per_connection = 2;
  });
  auto stub = StubOnNewConnection(server->address());
  HeldWatch first(*stub, "");
  HeldWatch second(*stub, "");
  ASSERT_TRUE(first.Started()) << first.status().error_message();
  ASSERT_TRUE(second.Started()) << second.status().error_message();
  EXPECT_TRUE(HasStatus(WatchCall(*stub, ""), StatusCode::RESOURCE_EXHAUSTED,
                        "--max_streams_per_connection=2"));

  // Another connection has slots of its own.
  auto other = StubOnNewConnection(server->address());
  HeldWatch elsewhere(*other, "");
  EXPECT_TRUE(elsewhere.Started()) << elsewhere.status().error_message();

  // The slot comes back once the server has seen the stream end.
  first.End();
  EXPECT_TRUE(Eventually([&] { return WatchCall(*stub, "").ok(); }));
}

TEST(LimitsTest, StreamsPerPrincipalCountEveryConnection) {
  TempDir dir;
  const std::string tokens = dir.Sub("tokens");
  const std::string alice = "alice-token-0123456789abcdef";
  const std::string bob = "bob-token-0123456789abcdef";
  WriteTextFile(tokens, alice + " reader alice\n" + bob + " reader bob\n");
  auto server = StartWith([&](services::ServerConfig& config) {
    config.access.tokens_file = tokens;
    config.access.max_streams_per_principal = 2;
  });
  auto one = StubOnNewConnection(server->address());
  auto two = StubOnNewConnection(server->address());
  auto three = StubOnNewConnection(server->address());
  HeldWatch first(*one, alice);
  HeldWatch second(*two, alice);
  ASSERT_TRUE(first.Started()) << first.status().error_message();
  ASSERT_TRUE(second.Started()) << second.status().error_message();
  EXPECT_TRUE(HasStatus(WatchCall(*three, alice),
                        StatusCode::RESOURCE_EXHAUSTED,
                        "principal \"alice\" already has 2 open Watch "
                        "streams (--max_streams_per_principal=2)"));
  EXPECT_TRUE(WatchCall(*three, bob).ok());

  second.End();
  EXPECT_TRUE(Eventually([&] { return WatchCall(*three, alice).ok(); }));
}

// A clock the test moves by hand.
class ManualClock {
 public:
  absl::Time Now() {
    atlas::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration by) {
    atlas::MutexLock lock(&mu_);
    now_ += by;
  }

 private:
  atlas::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1'000'000);
};

TEST(LimitsTest, RequestRateIsATokenBucketPerPrincipal) {
  auto clock = std::make_shared<ManualClock>();
  auto server = StartWith([&](services::ServerConfig& config) {
    config.access.max_requests_per_second = 2;
    config.access.request_burst = 3;
    config.access.now = [clock] { return clock->Now(); };
  });
  v1::Atlas::Stub& stub = server->stub();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(HasStatus(ReadCall(stub, ""), StatusCode::NOT_FOUND)) << i;
  }
  EXPECT_TRUE(HasStatus(ReadCall(stub, ""), StatusCode::RESOURCE_EXHAUSTED,
                        "--max_requests_per_second"));
  // Watch opens count too.
  EXPECT_TRUE(HasStatus(WatchCall(stub, ""), StatusCode::RESOURCE_EXHAUSTED,
                        "request rate limit"));
  clock->Advance(absl::Milliseconds(500));  // one request's worth
  EXPECT_TRUE(HasStatus(ReadCall(stub, ""), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasStatus(ReadCall(stub, ""), StatusCode::RESOURCE_EXHAUSTED));
  clock->Advance(absl::Minutes(1));  // refills only up to the burst
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(HasStatus(ReadCall(stub, ""), StatusCode::NOT_FOUND)) << i;
  }
  EXPECT_TRUE(HasStatus(ReadCall(stub, ""), StatusCode::RESOURCE_EXHAUSTED));
}

// Admits every call, but only once the caller's deadline has passed: the
// call then reaches the handler too late.
class LateGate final : public services::CallGate {
 public:
  absl::Status Admit(grpc::CallbackServerContext& context,
                     services::Access) override {
    const absl::Time deadline = absl::FromChrono(context.deadline());
    absl::SleepFor(deadline - absl::Now() + absl::Milliseconds(50));
    return absl::OkStatus();
  }
};

TEST(LimitsTest, AnExpiredDeadlineStartsNoWrite) {
  TestServerOptions options;
  options.config.gate = std::make_shared<LateGate>();
  auto server = std::make_unique<TestServer>(std::move(options));
  const std::string data_dir = server->data_dir();

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  v1::CreateEntityRequest request;
  *request.mutable_entity() = Document("late", "WT/LATE/1");
  v1::WriteEntityResponse response;
  EXPECT_TRUE(HasStatus(
      server->stub().CreateEntity(&context, request, &response),
      StatusCode::DEADLINE_EXCEEDED));

  // The shutdown waits for the handler; then the store shows no write.
  server->Shutdown(absl::Seconds(30));
  storage::StoreOptions store_options;
  store_options.path = data_dir;
  auto store = storage::Store::Open(store_options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->CurrentRevision(), 0u);
}

}  // namespace
}  // namespace atlas::testing
