// WatchMany through the real service in-process over a real store: each
// watch on a shared stream behaves as a Watch call with the same request.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/watch_many.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/multi_watcher.h"
#include "tests/services/test_server.h"
#include "tests/services/watcher.h"
#include "tests/testing/entities.h"
#include "tests/testing/scale.h"

namespace atlas::services {
namespace {

using testing::AtlasCalls;
using ::testing::ElementsAre;
using testing::HasStatus;
using testing::MultiWatcher;
using testing::Watcher;

ChangeHubOptions FastProgress() {
  ChangeHubOptions options;
  options.progress_interval = absl::Milliseconds(50);
  return options;
}

class WatchManyTest : public ::testing::Test {
 protected:
  WatchManyTest() : server_(FastProgress()), calls_(server_.stub()) {
    EXPECT_TRUE(calls_
                    .Apply({testing::Topic("cybersecurity"),
                            testing::Topic("e-commerce")})
                    .ok());
  }

  uint64_t Put(const v1::Entity& entity) {
    auto reply = calls_.Update(entity, {}, /*allow_missing=*/true);
    EXPECT_TRUE(reply.ok()) << reply.status.error_message();
    return reply.response.revision();
  }

  uint64_t Revision() { return server_.store().CurrentRevision(); }

  static v1::WatchRequest From(uint64_t revision) {
    v1::WatchRequest request;
    request.set_start_revision(revision);
    return request;
  }
  static v1::WatchRequest OnTopic(const std::string& topic,
                                  uint64_t revision = 0) {
    v1::WatchRequest request = From(revision);
    request.mutable_filter()->add_topics(topic);
    return request;
  }

  static std::vector<uint64_t> Revisions(
      const std::vector<v1::WatchEvent>& events) {
    std::vector<uint64_t> out;
    for (const auto& e : events) out.push_back(e.change().revision());
    return out;
  }

  void AwaitNoSubscriptions() {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (server_.hub().subscription_count() > 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_EQ(server_.hub().subscription_count(), 0u);
  }

  testing::TestServer server_;
  AtlasCalls calls_;
};

TEST_F(WatchManyTest, EachWatchGetsWhatItsOwnWatchCallWould) {
  const uint64_t r1 = Put(testing::Agreement("tbt", {"cybersecurity"}));
  Put(testing::Agreement("ita", {"e-commerce"}));
  // Three watches on one stream, and the same three requests as Watch calls.
  v1::WatchRequest cyber = OnTopic("cybersecurity", r1);
  v1::WatchRequest commerce = OnTopic("e-commerce", r1);
  commerce.set_include_before(true);
  v1::WatchRequest documents = From(1);
  documents.mutable_filter()->add_kinds("document");
  MultiWatcher many(server_.stub());
  ASSERT_TRUE(many.Create(1, cyber));
  ASSERT_TRUE(many.Create(2, commerce));
  ASSERT_TRUE(many.Create(7, documents));
  Watcher alone_1(server_.stub(), cyber);
  Watcher alone_2(server_.stub(), commerce);
  Watcher alone_7(server_.stub(), documents);

  Put(testing::Agreement("tbt", {"e-commerce"}, "moved"));  // leaves, enters
  Put(testing::Document("g-tbt-1", "G/TBT/1", {"cybersecurity"}));
  const uint64_t last = Put(testing::Agreement("ita", {"e-commerce"}, "x"));
  for (uint64_t id : {1, 2, 7}) ASSERT_TRUE(many.WaitForRevision(id, last));
  ASSERT_TRUE(alone_1.WaitForRevision(last));
  ASSERT_TRUE(alone_2.WaitForRevision(last));
  ASSERT_TRUE(alone_7.WaitForRevision(last));

  auto same_events = [](const std::vector<v1::WatchEvent>& a,
                        const std::vector<v1::WatchEvent>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].SerializeAsString() != b[i].SerializeAsString()) return false;
    }
    return true;
  };
  EXPECT_FALSE(many.events(1).empty());
  EXPECT_TRUE(same_events(many.events(1), alone_1.events()));
  EXPECT_TRUE(same_events(many.events(2), alone_2.events()));
  EXPECT_TRUE(same_events(many.events(7), alone_7.events()));
  EXPECT_TRUE(many.events(1)[1].left_filter());
  EXPECT_TRUE(many.events(2)[1].entered_filter());
  EXPECT_TRUE(many.events(2)[1].change().has_before());
  EXPECT_EQ(server_.hub().subscription_count(), 6u);
}

TEST_F(WatchManyTest, CancelEndsOnlyThatWatch) {
  MultiWatcher many(server_.stub());
  ASSERT_TRUE(many.Create(1, v1::WatchRequest()));
  ASSERT_TRUE(many.Create(2, v1::WatchRequest()));
  // Both are registered once their first PROGRESS has come.
  ASSERT_TRUE(many.WaitForRevision(1, Revision()));
  ASSERT_TRUE(many.WaitForRevision(2, Revision()));
  const uint64_t r1 = Put(testing::Agreement("a"));
  ASSERT_TRUE(many.WaitForRevision(1, r1));
  ASSERT_TRUE(many.WaitForRevision(2, r1));
  ASSERT_TRUE(many.CancelWatch(1));
  auto ended = many.WaitForWatchEnd(1);
  ASSERT_TRUE(ended.has_value());
  EXPECT_TRUE(HasStatus(*ended, grpc::StatusCode::CANCELLED,
                        "cancelled by the client"));
  ASSERT_TRUE(many.CancelWatch(99));  // unknown: nothing happens
  const uint64_t r2 = Put(testing::Agreement("b"));
  ASSERT_TRUE(many.WaitForRevision(2, r2));
  EXPECT_THAT(Revisions(many.events(2)), ElementsAre(r1, r2));
  EXPECT_THAT(Revisions(many.events(1)), ElementsAre(r1));
  EXPECT_EQ(many.late_messages(), 0);
  EXPECT_EQ(server_.hub().subscription_count(), 1u);

  // The id is free again once its watch has ended.
  ASSERT_TRUE(many.Create(1, From(r2)));
  ASSERT_TRUE(many.WaitForRevision(1, r2));
}

TEST_F(WatchManyTest, BadWatchRequestEndsOnlyThatWatch) {
  for (int i = 0; i < 4; ++i) Put(testing::Agreement("tbt", {}, absl::StrCat(i)));
  ASSERT_TRUE(server_.store().CompactChangeLog(4).ok());
  MultiWatcher many(server_.stub());
  ASSERT_TRUE(many.Create(1, From(4)));
  v1::WatchRequest bad_kind;
  bad_kind.mutable_filter()->add_kinds("agreements");
  ASSERT_TRUE(many.Create(2, bad_kind));
  ASSERT_TRUE(many.Create(3, From(2)));
  auto bad = many.WaitForWatchEnd(2);
  ASSERT_TRUE(bad.has_value());
  EXPECT_TRUE(HasStatus(*bad, grpc::StatusCode::INVALID_ARGUMENT,
                        "filter.kinds[0]"));
  auto gone = many.WaitForWatchEnd(3);
  ASSERT_TRUE(gone.has_value());
  EXPECT_TRUE(HasStatus(*gone, grpc::StatusCode::OUT_OF_RANGE,
                        "oldest retained revision is 4"));
  const uint64_t r = Put(testing::Agreement("after"));
  ASSERT_TRUE(many.WaitForRevision(1, r));
  EXPECT_EQ(Revisions(many.events(1)).front(), 4u);
  EXPECT_TRUE(many.responses(2).empty());
}

TEST_F(WatchManyTest, MalformedRequestsEndTheStream) {
  {
    MultiWatcher many(server_.stub());
    ASSERT_TRUE(many.Create(1, v1::WatchRequest()));
    ASSERT_TRUE(many.WaitForRevision(1, Revision()));
    many.Write(v1::WatchManyRequest());  // no action
    EXPECT_TRUE(HasStatus(many.WaitForEnd(), grpc::StatusCode::INVALID_ARGUMENT,
                          "action: set create or cancel"));
    auto ended = many.WaitForWatchEnd(1);
    ASSERT_TRUE(ended.has_value());
    EXPECT_EQ(ended->error_code(), grpc::StatusCode::CANCELLED);
  }
  {
    MultiWatcher many(server_.stub());
    ASSERT_TRUE(many.Create(5, v1::WatchRequest()));
    many.Create(5, v1::WatchRequest());
    EXPECT_TRUE(HasStatus(many.WaitForEnd(), grpc::StatusCode::INVALID_ARGUMENT,
                          "create.watch_id: watch 5 is already open"));
  }
  AwaitNoSubscriptions();
}

TEST_F(WatchManyTest, WatchesPerStreamAreBounded) {
  MultiWatcher many(server_.stub());
  for (int id = 1; id <= kMaxWatchesPerStream + 1; ++id) {
    v1::WatchRequest request;
    request.mutable_filter()->add_kinds("fact");
    ASSERT_TRUE(many.Create(id, request));
  }
  auto refused = many.WaitForWatchEnd(kMaxWatchesPerStream + 1);
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(HasStatus(*refused, grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "open another stream"));
  EXPECT_EQ(server_.hub().subscription_count(),
            static_cast<size_t>(kMaxWatchesPerStream));
  // Every other watch is open and reports progress.
  const uint64_t r = Put(testing::Agreement("x"));
  EXPECT_TRUE(many.WaitForRevision(1, r));
  EXPECT_TRUE(many.WaitForRevision(kMaxWatchesPerStream, r));
  EXPECT_FALSE(many.WaitForWatchEnd(1, absl::ZeroDuration()).has_value());
}

TEST_F(WatchManyTest, ClosingTheClientSideEndsTheStreamOnceWatchesEnd) {
  MultiWatcher empty(server_.stub());
  ASSERT_TRUE(empty.WritesDone());
  EXPECT_TRUE(empty.WaitForEnd().ok());

  for (int i = 0; i < 3; ++i) Put(testing::Agreement("a", {}, absl::StrCat(i)));
  ASSERT_TRUE(server_.store().CompactChangeLog(2).ok());
  MultiWatcher closing(server_.stub());
  ASSERT_TRUE(closing.Create(1, From(1)));  // ends at once: OUT_OF_RANGE
  ASSERT_TRUE(closing.WritesDone());
  EXPECT_TRUE(closing.WaitForEnd().ok());
  auto ended = closing.WaitForWatchEnd(1);
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

TEST_F(WatchManyTest, CancelledCallLeavesNothingBehind) {
  {
    MultiWatcher many(server_.stub());
    for (int id = 1; id <= 20; ++id) ASSERT_TRUE(many.Create(id, From(1)));
    for (int id = 1; id <= 20; ++id) {
      ASSERT_TRUE(many.WaitForRevision(id, Revision()));
    }
    EXPECT_EQ(server_.hub().subscription_count(), 20u);
    many.CancelCall();
    EXPECT_TRUE(HasStatus(many.WaitForEnd(), grpc::StatusCode::CANCELLED));
  }
  AwaitNoSubscriptions();
  EXPECT_GT(Put(testing::Agreement("still-fine")), 0u);
}

TEST_F(WatchManyTest, StalledStreamThenEveryWatchGetsEveryEventInOrder) {
  const int writes = testing::Scaled(3000);
  MultiWatcher many(server_.stub(), /*paused=*/true);
  const uint64_t start = Revision() + 1;
  for (uint64_t id = 1; id <= 10; ++id) {
    ASSERT_TRUE(many.Create(id, id % 2 == 0 ? OnTopic("cybersecurity", start)
                                            : From(start)));
  }
  uint64_t last = 0;
  std::vector<uint64_t> cyber;  // on the topic before or after the change
  std::vector<bool> was_cyber(50, false);
  for (int i = 0; i < writes; ++i) {
    const bool on_topic = i % 3 == 0;
    last = Put(testing::Agreement(absl::StrCat("a", i % 50),
                                  {on_topic ? "cybersecurity" : "e-commerce"},
                                  absl::StrCat(i)));
    if (on_topic || was_cyber[i % 50]) cyber.push_back(last);
    was_cyber[i % 50] = on_topic;
  }
  many.Resume();
  for (uint64_t id = 1; id <= 10; ++id) {
    ASSERT_TRUE(many.WaitForRevision(id, last, absl::Seconds(60))) << id;
    std::vector<uint64_t> got = Revisions(many.events(id));
    if (id % 2 == 0) {
      EXPECT_EQ(got, cyber) << "watch " << id;
    } else {
      ASSERT_EQ(got.size(), static_cast<size_t>(writes)) << "watch " << id;
      for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], start + i);
    }
  }
  // The watches' responses queued while the client stalled went out packed.
  EXPECT_GT(many.max_items_per_message(), 1);
}

TEST_F(WatchManyTest, ShutdownEndsEveryWatchThenTheStream) {
  const uint64_t r = Put(testing::Agreement("tbt"));
  MultiWatcher many(server_.stub());
  ASSERT_TRUE(many.Create(1, From(1)));
  ASSERT_TRUE(many.Create(2, OnTopic("e-commerce")));
  ASSERT_TRUE(many.WaitForRevision(1, r));
  ASSERT_TRUE(many.WaitForRevision(2, r));
  MultiWatcher idle(server_.stub());  // no watch at all
  ASSERT_TRUE(idle.Create(1, From(r)));
  ASSERT_TRUE(idle.WaitForRevision(1, r));
  ASSERT_TRUE(idle.CancelWatch(1));
  ASSERT_TRUE(idle.WaitForWatchEnd(1).has_value());

  const absl::Time begin = absl::Now();
  server_.Shutdown(absl::Seconds(20));
  EXPECT_LT(absl::Now() - begin, absl::Seconds(10));  // not the grace period
  for (uint64_t id : {1, 2}) {
    auto ended = many.WaitForWatchEnd(id);
    ASSERT_TRUE(ended.has_value());
    EXPECT_TRUE(HasStatus(*ended, grpc::StatusCode::UNAVAILABLE,
                          absl::StrCat("last revision delivered: ", r)));
  }
  EXPECT_TRUE(HasStatus(many.WaitForEnd(), grpc::StatusCode::UNAVAILABLE,
                        "shutting down"));
  EXPECT_TRUE(HasStatus(idle.WaitForEnd(), grpc::StatusCode::UNAVAILABLE,
                        "shutting down"));
}

}  // namespace
}  // namespace atlas::services
