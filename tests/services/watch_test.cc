// Watch through the real service in-process over a real store.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/test_server.h"
#include "tests/services/watcher.h"
#include "tests/testing/entities.h"

namespace atlas::services {
namespace {

using testing::AtlasCalls;
using ::testing::ElementsAre;
using testing::HasStatus;
using testing::Watcher;

const std::vector<std::string> kTopics = {"cybersecurity", "digital-standards",
                                          "e-commerce", "data-governance"};

ChangeHubOptions FastProgress(size_t queue_bound = 1024) {
  ChangeHubOptions options;
  options.progress_interval = absl::Milliseconds(50);
  options.subscriber_queue_bound = queue_bound;
  return options;
}

class WatchTest : public ::testing::Test {
 protected:
  explicit WatchTest(ChangeHubOptions options = FastProgress())
      : server_(std::move(options)), calls_(server_.stub()) {
    std::vector<v1::Entity> topics;
    for (const auto& slug : kTopics) topics.push_back(testing::Topic(slug));
    EXPECT_TRUE(calls_.Apply(topics).ok());
  }

  v1::WatchRequest From(uint64_t revision) {
    v1::WatchRequest request;
    request.set_start_revision(revision);
    return request;
  }

  uint64_t Put(const v1::Entity& entity) {
    auto reply = calls_.Update(entity, {}, /*allow_missing=*/true);
    EXPECT_TRUE(reply.ok()) << reply.status.error_message();
    return reply.response.revision();
  }

  static std::vector<uint64_t> Revisions(
      const std::vector<v1::WatchEvent>& events) {
    std::vector<uint64_t> out;
    for (const auto& e : events) out.push_back(e.change().revision());
    return out;
  }

  testing::TestServer server_;
  AtlasCalls calls_;
};

TEST_F(WatchTest, StartNowDeliversOnlyLaterChanges) {
  Put(testing::Agreement("before"));
  Watcher watcher(server_.stub(), v1::WatchRequest());
  // The stream is registered once a progress message arrives.
  ASSERT_TRUE(watcher.WaitForType(v1::WatchResponse::TYPE_PROGRESS));
  const uint64_t r1 = Put(testing::Agreement("after-1"));
  const uint64_t r2 = Put(testing::Agreement("after-2"));
  ASSERT_TRUE(watcher.WaitForRevision(r2));
  auto events = watcher.events();
  EXPECT_THAT(Revisions(events), ElementsAre(r1, r2));
  EXPECT_EQ(events[0].change().type(), v1::CHANGE_TYPE_CREATED);
  EXPECT_EQ(events[0].change().entity().name(), "agreements/after-1");
  EXPECT_FALSE(events[0].change().changed_paths().empty());
}

TEST_F(WatchTest, FromRevisionIsInclusiveAndCarriesBeforeWhenAsked) {
  const uint64_t r1 = Put(testing::Agreement("tbt", {}, "one"));
  const uint64_t r2 = Put(testing::Agreement("tbt", {}, "two"));
  ASSERT_TRUE(calls_.Delete("agreements/tbt").ok());
  const uint64_t r3 = server_.store().CurrentRevision();
  v1::WatchRequest request = From(r1);
  request.set_include_before(true);
  Watcher watcher(server_.stub(), request);
  ASSERT_TRUE(watcher.WaitForRevision(r3));
  auto events = watcher.events();
  ASSERT_THAT(Revisions(events), ElementsAre(r1, r2, r3));
  EXPECT_FALSE(events[0].change().has_before());
  EXPECT_EQ(events[1].change().before().agreement().summary(), "one");
  EXPECT_THAT(events[1].change().changed_paths(),
              ElementsAre("agreement.summary"));
  EXPECT_EQ(events[2].change().type(), v1::CHANGE_TYPE_DELETED);
  EXPECT_TRUE(events[2].change().entity().deleted());

  // Without include_before, `before` stays empty.
  Watcher plain(server_.stub(), From(r2));
  ASSERT_TRUE(plain.WaitForRevision(r2));
  EXPECT_FALSE(plain.events()[0].change().has_before());
}

TEST_F(WatchTest, FutureStartWaitsForThatRevision) {
  const uint64_t current = server_.store().CurrentRevision();
  Watcher watcher(server_.stub(), From(current + 3));
  Put(testing::Agreement("a"));
  Put(testing::Agreement("b"));
  const uint64_t third = Put(testing::Agreement("c"));
  ASSERT_TRUE(watcher.WaitForRevision(third));
  EXPECT_THAT(Revisions(watcher.events()), ElementsAre(current + 3));
}

TEST_F(WatchTest, FiltersCombineAndEveryEventIsExpected) {
  v1::WatchRequest request = From(1);
  request.mutable_filter()->add_topics("cybersecurity");
  request.mutable_filter()->add_kinds("document");
  request.mutable_filter()->add_change_types(v1::CHANGE_TYPE_CREATED);
  Put(testing::Document("match", "X/1", {"cybersecurity"}));
  Put(testing::Document("wrong-topic", "X/2", {"e-commerce"}));
  Put(testing::Agreement("wrong-kind", {"cybersecurity"}));
  const uint64_t last =
      Put(testing::Document("match", "X/1b", {"cybersecurity"}));
  Watcher watcher(server_.stub(), request);
  ASSERT_TRUE(watcher.WaitForRevision(last));
  auto events = watcher.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].change().entity().name(), "documents/match");
  EXPECT_EQ(events[0].change().type(), v1::CHANGE_TYPE_CREATED);

  v1::WatchRequest prefixed = From(1);
  prefixed.mutable_filter()->add_name_prefixes("documents/wr");
  prefixed.mutable_filter()->add_name_prefixes("agreements/");
  Watcher by_prefix(server_.stub(), prefixed);
  ASSERT_TRUE(by_prefix.WaitForRevision(last));
  std::vector<std::string> names;
  for (const auto& e : by_prefix.events())
    names.push_back(e.change().entity().name());
  EXPECT_THAT(names,
              ElementsAre("documents/wrong-topic", "agreements/wrong-kind"));
}

TEST_F(WatchTest, LinkedFilterFollowsLinks) {
  v1::Entity doc = testing::Document("g-tbt-56", "G/TBT/56");
  testing::AddLink(doc, "adopted_by", "bodies/tbt-committee");
  v1::WatchRequest request = From(1);
  request.mutable_filter()->add_linked("bodies/tbt-committee");
  const uint64_t r = Put(doc);
  const uint64_t last = Put(testing::Document("other", "X/9"));
  Watcher watcher(server_.stub(), request);
  ASSERT_TRUE(watcher.WaitForRevision(last));
  EXPECT_THAT(Revisions(watcher.events()), ElementsAre(r));
}

TEST_F(WatchTest, TopicEnterAndLeave) {
  v1::WatchRequest request = From(1);
  request.mutable_filter()->add_topics("cybersecurity");
  const uint64_t outside = Put(testing::Agreement("tbt", {"e-commerce"}));
  const uint64_t enter = Put(testing::Agreement("tbt", {"cybersecurity"}));
  const uint64_t stay =
      Put(testing::Agreement("tbt", {"cybersecurity"}, "edit"));
  const uint64_t leave = Put(testing::Agreement("tbt", {"e-commerce"}, "edit"));
  const uint64_t after =
      Put(testing::Agreement("tbt", {"e-commerce"}, "again"));
  Watcher watcher(server_.stub(), request);
  ASSERT_TRUE(watcher.WaitForRevision(after));
  auto events = watcher.events();
  ASSERT_THAT(Revisions(events), ElementsAre(enter, stay, leave));
  EXPECT_TRUE(events[0].entered_filter());
  EXPECT_FALSE(events[1].entered_filter() || events[1].left_filter());
  EXPECT_TRUE(events[2].left_filter());
  EXPECT_EQ(events[2].change().entity().topics(0), "e-commerce");
  (void)outside;
}

TEST_F(WatchTest, ProgressWhenNothingMatches) {
  v1::WatchRequest request;
  request.mutable_filter()->add_kinds("fact");
  Watcher watcher(server_.stub(), request);
  const uint64_t r = Put(testing::Agreement("unrelated"));
  ASSERT_TRUE(watcher.WaitForRevision(r));
  auto messages = watcher.messages();
  ASSERT_FALSE(messages.empty());
  for (const auto& m : messages) {
    EXPECT_EQ(m.type(), v1::WatchResponse::TYPE_PROGRESS);
    EXPECT_TRUE(m.events().empty());
  }
  EXPECT_EQ(messages.back().revision(), r);
}

TEST_F(WatchTest, SnapshotThenChangesWithRacingWrites) {
  for (int i = 0; i < 600; ++i) {  // more than one snapshot page
    Put(testing::Document(absl::StrCat("d", i), "S/1", {"cybersecurity"}));
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      Put(testing::Document(absl::StrCat("d", i % 700), absl::StrCat("W/", i),
                            {"cybersecurity"}));
    }
  });
  v1::WatchRequest request;
  request.set_snapshot(true);
  request.mutable_filter()->add_kinds("document");
  Watcher watcher(server_.stub(), request);
  ASSERT_TRUE(watcher.WaitForType(v1::WatchResponse::TYPE_SYNCED));
  absl::SleepFor(absl::Milliseconds(200));
  stop = true;
  writer.join();
  const uint64_t last = server_.store().CurrentRevision();
  ASSERT_TRUE(watcher.WaitForRevision(last));

  // Replaying the snapshot and the events must give the store's final state.
  std::map<std::string, std::string> state;
  uint64_t synced = 0;
  uint64_t previous = 0;
  for (const auto& m : watcher.messages()) {
    if (m.type() == v1::WatchResponse::TYPE_SNAPSHOT) {
      ASSERT_EQ(synced, 0u) << "snapshot after SYNCED";
      for (const auto& e : m.snapshot()) {
        EXPECT_LE(e.update_revision(), m.revision());
        state[e.name()] = e.document().symbol();
      }
    } else if (m.type() == v1::WatchResponse::TYPE_SYNCED) {
      synced = m.revision();
      previous = synced;
    } else {
      for (const auto& e : m.events()) {
        ASSERT_GT(e.change().revision(), previous) << "duplicate or disorder";
        previous = e.change().revision();
        state[e.change().entity().name()] =
            e.change().entity().document().symbol();
      }
    }
  }
  ASSERT_GT(synced, 0u);
  // Exactly the change log after the SYNCED revision.
  auto log = server_.store().ReadChanges(synced + 1, 1'000'000);
  ASSERT_TRUE(log.ok());
  size_t expected = 0;
  for (const auto& set : log->sets) expected += set.changes_size();
  size_t got = 0;
  for (const auto& m : watcher.messages()) got += m.events_size();
  EXPECT_EQ(got, expected);
  v1::ListEntitiesRequest list;
  list.set_kind("document");
  list.set_page_size(1000);
  auto listed = calls_.List(list);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(state.size(), static_cast<size_t>(listed.response.entities_size()));
  for (const auto& e : listed.response.entities()) {
    EXPECT_EQ(state[e.name()], e.document().symbol()) << e.name();
  }
}

TEST_F(WatchTest, BadRequestsAreInvalidArgument) {
  v1::WatchRequest bad_kind;
  bad_kind.mutable_filter()->add_kinds("agreements");
  Watcher a(server_.stub(), bad_kind);
  EXPECT_TRUE(HasStatus(a.WaitForEnd(), grpc::StatusCode::INVALID_ARGUMENT,
                        "filter.kinds[0]"));
  v1::WatchRequest both = From(2);
  both.set_snapshot(true);
  Watcher b(server_.stub(), both);
  EXPECT_TRUE(HasStatus(b.WaitForEnd(), grpc::StatusCode::INVALID_ARGUMENT,
                        "start_revision"));
  v1::WatchRequest bad_type;
  bad_type.mutable_filter()->add_change_types(v1::CHANGE_TYPE_UNSPECIFIED);
  Watcher c(server_.stub(), bad_type);
  EXPECT_TRUE(HasStatus(c.WaitForEnd(), grpc::StatusCode::INVALID_ARGUMENT,
                        "filter.change_types[0]"));
}

TEST_F(WatchTest, StartBelowRetentionIsOutOfRange) {
  for (int i = 0; i < 5; ++i)
    Put(testing::Agreement("tbt", {}, absl::StrCat(i)));
  ASSERT_TRUE(server_.store().CompactChangeLog(4).ok());
  Watcher watcher(server_.stub(), From(2));
  EXPECT_TRUE(HasStatus(watcher.WaitForEnd(), grpc::StatusCode::OUT_OF_RANGE,
                        "oldest retained revision is 4"));
  Watcher ok(server_.stub(), From(4));
  ASSERT_TRUE(ok.WaitForRevision(6));
  EXPECT_THAT(Revisions(ok.events()), ElementsAre(4, 5, 6));
}

TEST_F(WatchTest, CancelledStreamsLeaveNothingBehind) {
  {
    std::vector<std::unique_ptr<Watcher>> watchers;
    for (int i = 0; i < 20; ++i) {
      watchers.push_back(std::make_unique<Watcher>(server_.stub(), From(1)));
    }
    for (auto& w : watchers) ASSERT_TRUE(w->WaitForRevision(1));
    EXPECT_EQ(server_.hub().subscription_count(), 20u);
    for (auto& w : watchers) w->Cancel();
    for (auto& w : watchers) {
      EXPECT_TRUE(HasStatus(w->WaitForEnd(), grpc::StatusCode::CANCELLED));
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (server_.hub().subscription_count() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(server_.hub().subscription_count(), 0u);
  // Writes still work with the streams gone.
  EXPECT_GT(Put(testing::Agreement("still-fine")), 0u);
}

TEST_F(WatchTest, ShutdownEndsStreamsWithTheLastDeliveredRevision) {
  const uint64_t r = Put(testing::Agreement("tbt"));
  Watcher watcher(server_.stub(), From(1));
  ASSERT_TRUE(watcher.WaitForRevision(r));
  server_.Shutdown(absl::Seconds(5));
  grpc::Status status = watcher.WaitForEnd();
  EXPECT_TRUE(HasStatus(status, grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("last revision delivered: ", r)));
}

}  // namespace
}  // namespace atlas::services
