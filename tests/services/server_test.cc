// AtlasServer: health checking, reflection, seeding, change-log retention and
// graceful shutdown.

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "services/change_log_retention.h"
#include "tests/services/grpc_probes.h"
#include "tests/services/service_test_base.h"

namespace atlas::testing {
namespace {

using grpc::StatusCode;
using services::AtlasServer;

class ServerTest : public ServiceTest {};

TEST_F(ServerTest, ListensOnTheBoundPort) {
  EXPECT_NE(server_.server().port(), 0);
  EXPECT_EQ(server_.address(),
            absl::StrCat("127.0.0.1:", server_.server().port()));
}

TEST_F(ServerTest, StartFailsWhenTheAddressIsTaken) {
  TempDir other;
  services::ServerConfig config;
  config.listen = server_.address();
  config.data_dir = other.Sub("db");
  auto second = AtlasServer::Start(config);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(second.status().message(), server_.address()))
      << second.status();
}

TEST_F(ServerTest, StartFailsWhenTheStoreIsInUse) {
  services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = server_.data_dir();
  auto second = AtlasServer::Start(config);
  EXPECT_FALSE(second.ok());
}

TEST_F(ServerTest, HealthCheckAnswersServing) {
  auto overall = CheckHealth(server_.channel(), "");
  ASSERT_TRUE(overall.ok()) << overall.status();
  EXPECT_EQ(*overall, ServingStatus::kServing);
  auto atlas = CheckHealth(server_.channel(), "atlas.v1.Atlas");
  ASSERT_TRUE(atlas.ok()) << atlas.status();
  EXPECT_EQ(*atlas, ServingStatus::kServing);
}

TEST_F(ServerTest, ReflectionListsTheAtlasService) {
  auto services = ListReflectedServices(server_.channel());
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_NE(std::find(services->begin(), services->end(), "atlas.v1.Atlas"),
            services->end());
}

TEST_F(ServerTest, StopServingTurnsHealthDownAndRefusesNewCalls) {
  calls_.MustCreate(Agreement("tbt"));
  server_.server().StopServing();

  auto atlas = CheckHealth(server_.channel(), "atlas.v1.Atlas");
  ASSERT_TRUE(atlas.ok()) << atlas.status();
  EXPECT_EQ(*atlas, ServingStatus::kNotServing);
  auto overall = CheckHealth(server_.channel(), "");
  ASSERT_TRUE(overall.ok()) << overall.status();
  EXPECT_EQ(*overall, ServingStatus::kNotServing);

  EXPECT_TRUE(HasStatus(calls_.Get("agreements/tbt").status,
                        StatusCode::UNAVAILABLE, "server is shutting down"));
  EXPECT_TRUE(HasStatus(calls_.Create(Agreement("trips")).status,
                        StatusCode::UNAVAILABLE, "server is shutting down"));
  EXPECT_TRUE(HasStatus(calls_.Apply({Agreement("trips")}).status,
                        StatusCode::UNAVAILABLE, "server is shutting down"));

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto watch = server_.stub().Watch(&context, v1::WatchRequest());
  v1::WatchResponse ignored;
  while (watch->Read(&ignored)) {
  }
  EXPECT_TRUE(HasStatus(watch->Finish(), StatusCode::UNAVAILABLE,
                        "server is shutting down"));
  EXPECT_EQ(Revision(), 1u);
}

TEST_F(ServerTest, AfterShutdownCallsFailUnavailable) {
  calls_.MustCreate(Agreement("tbt"));
  server_.Shutdown();
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::GetEntityRequest request;
  request.set_name("agreements/tbt");
  v1::GetEntityResponse response;
  EXPECT_TRUE(HasStatus(server_.stub().GetEntity(&context, request, &response),
                        StatusCode::UNAVAILABLE));
}

// Shutdown ends open Watch streams first, so it does not wait out the grace
// period for streams that would never end by themselves.
TEST_F(ServerTest, ShutdownEndsWatchStreamsWithUnavailable) {
  grpc::ClientContext context;
  auto watch = server_.stub().Watch(&context, v1::WatchRequest());
  const absl::Time wait_until = absl::Now() + absl::Seconds(30);
  while (server_.hub().subscription_count() == 0 && absl::Now() < wait_until) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(server_.hub().subscription_count(), 1u);

  const absl::Time start = absl::Now();
  server_.Shutdown(/*grace=*/absl::Seconds(60));
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  v1::WatchResponse ignored;
  while (watch->Read(&ignored)) {
  }
  EXPECT_TRUE(HasStatus(watch->Finish(), StatusCode::UNAVAILABLE));
}

// Writers keep writing while the server shuts down: every write it
// acknowledged is in the store when it is opened again.
TEST_F(ServerTest, ShutdownKeepsEveryAcknowledgedWrite) {
  atlas::Mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> started{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      auto stub = server_.NewStub();
      AtlasCalls calls(*stub);
      for (int i = 0; i < 1000; ++i) {
        const std::string id = absl::StrCat("w", w, "-", i);
        auto reply = calls.Create(Agreement(id));
        started = true;
        if (!reply.ok()) {
          // Refused by the service (UNAVAILABLE) or by gRPC while it shuts
          // down (UNAVAILABLE or CANCELLED): either way not acknowledged.
          EXPECT_TRUE(reply.status.error_code() == StatusCode::UNAVAILABLE ||
                      reply.status.error_code() == StatusCode::CANCELLED)
              << reply.status.error_code() << " "
              << reply.status.error_message();
          return;
        }
        atlas::MutexLock lock(&mu);
        acknowledged.push_back("agreements/" + id);
      }
    });
  }
  while (!started) std::this_thread::yield();
  server_.Shutdown();
  for (auto& writer : writers) writer.join();

  storage::StoreOptions options;
  options.path = server_.data_dir();
  auto reopened = storage::Store::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_GE((*reopened)->CurrentRevision(), acknowledged.size());
  for (const std::string& name : acknowledged) {
    EXPECT_TRUE((*reopened)->Get(name).ok()) << name;
  }
}

TEST_F(ServerTest, RetentionKeepsTheNewestRevisions) {
  for (int i = 0; i < 10; ++i) {
    calls_.MustCreate(Agreement(absl::StrCat("a", i)));
  }
  services::ChangeLogRetention keep_all(server_.store(), 0, absl::Seconds(1));
  ASSERT_TRUE(keep_all.EnforceOnce().ok());
  EXPECT_EQ(server_.store().OldestRevision(), 1u);

  services::ChangeLogRetention keep_three(server_.store(), 3, absl::Hours(1));
  ASSERT_TRUE(keep_three.EnforceOnce().ok());
  EXPECT_EQ(server_.store().OldestRevision(), 8u);
  auto changes = server_.store().ReadChanges(8, 100);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->sets.size(), 3u);
  EXPECT_EQ(server_.store().ReadChanges(7, 100).status().code(),
            absl::StatusCode::kOutOfRange);
  // Entities and their history are kept.
  EXPECT_TRUE(calls_.Get("agreements/a0").ok());
}

TEST_F(ServerTest, RetentionThreadStopsPromptly) {
  services::ChangeLogRetention retention(server_.store(), 5, absl::Hours(1));
  retention.Start();
  const absl::Time start = absl::Now();
  retention.Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
}

// Seeding is driven through AtlasServer::Start with its own directories.
class SeedTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<AtlasServer>> Start() {
    services::ServerConfig config;
    config.listen = "127.0.0.1:0";
    config.data_dir = data_.Sub("db");
    config.seed_dir = seed_.path();
    return AtlasServer::Start(config);
  }

  TempDir seed_;
  TempDir data_;
};

constexpr char kTopics[] = R"(name: topics/cybersecurity
title: Cybersecurity
topic:
  basket: baskets/cybersecurity
---
name: topics/e-commerce
title: E-commerce
topic:
  basket: baskets/economic
)";

constexpr char kAgreements[] = R"(name: agreements/tbt
title: Agreement on Technical Barriers to Trade
topics: [cybersecurity]
agreement:
  summary: Technical regulations and standards.
)";

TEST_F(SeedTest, SeedsAnEmptyStoreInOneCommitAndOnlyOnce) {
  seed_.Write("sub/agreements.yaml", kAgreements);
  seed_.Write("topics.yaml", kTopics);
  {
    auto server = Start();
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_TRUE((*server)->seed_result().seeded);
    EXPECT_EQ((*server)->seed_result().entities, 3u);
    EXPECT_EQ((*server)->store().CurrentRevision(), 1u);
    auto tbt = (*server)->store().Get("agreements/tbt");
    ASSERT_TRUE(tbt.ok()) << tbt.status();
    EXPECT_EQ(tbt->entity.update_revision(), 1u);
    (*server)->Shutdown();
  }
  seed_.Write("more.yaml",
              "name: agreements/trips\nagreement:\n  summary: x\n");
  auto again = Start();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE((*again)->seed_result().seeded);
  EXPECT_EQ((*again)->store().CurrentRevision(), 1u);
  EXPECT_FALSE((*again)->store().Get("agreements/trips").ok());
}

TEST_F(SeedTest, ABadDocumentFailsStartupNamingItsFileAndWritesNothing) {
  seed_.Write("topics.yaml", kTopics);
  seed_.Write("sub/agreements.yaml",
              absl::StrCat(kAgreements,
                           "---\nname: agreements/trips\ntopics: [nope]\n"
                           "agreement:\n  summary: x\n"));
  auto server = Start();
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(server.status().message(), "agreements.yaml"))
      << server.status();
  EXPECT_TRUE(absl::StrContains(server.status().message(), "topics[0]"))
      << server.status();

  storage::StoreOptions options;
  options.path = data_.Sub("db");
  auto store = storage::Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->CurrentRevision(), 0u);
}

}  // namespace
}  // namespace atlas::testing
