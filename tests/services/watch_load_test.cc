// Watch under load: many writers and subscribers, and a subscriber that stops
// reading while tens of thousands of writes land.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/test_server.h"
#include "tests/services/watcher.h"
#include "tests/testing/entities.h"
#include "tests/testing/scale.h"

namespace atlas::services {
namespace {

using testing::AtlasCalls;
using testing::Watcher;

const std::vector<std::string> kTopics = {"t0", "t1", "t2", "t3", "t4"};

// An independent statement of the filters used below: one dimension each.
struct Want {
  std::string topic;   // entity has it before or after
  std::string kind;    // "agreement" or "document"
  std::string prefix;  // name prefix
  bool Matches(const v1::Change& c) const {
    auto has_topic = [&](const v1::Entity& e) {
      for (const auto& t : e.topics()) {
        if (t == topic) return true;
      }
      return false;
    };
    if (!topic.empty()) {
      return has_topic(c.entity()) || (c.has_before() && has_topic(c.before()));
    }
    if (!kind.empty()) {
      return kind == "agreement" ? c.entity().has_agreement()
                                 : c.entity().has_document();
    }
    return absl::StartsWith(c.entity().name(), prefix);
  }
  v1::WatchRequest Request(uint64_t from) const {
    v1::WatchRequest r;
    r.set_start_revision(from);
    if (!topic.empty()) r.mutable_filter()->add_topics(topic);
    if (!kind.empty()) r.mutable_filter()->add_kinds(kind);
    if (!prefix.empty()) r.mutable_filter()->add_name_prefixes(prefix);
    return r;
  }
};

ChangeHubOptions Hub(size_t bound) {
  ChangeHubOptions options;
  options.progress_interval = absl::Milliseconds(50);
  options.subscriber_queue_bound = bound;
  return options;
}

// 8 writers and 100 subscribers with different filters; each subscriber
// receives exactly the matching events of the change log, in order.
void ExpectExactlyTheMatchingEvents(ChangeHubOptions hub_options) {
  testing::TestServer server(std::move(hub_options));
  AtlasCalls calls(server.stub());
  std::vector<v1::Entity> topics;
  for (const auto& t : kTopics) topics.push_back(testing::Topic(t));
  ASSERT_TRUE(calls.Apply(topics).ok());
  const uint64_t start = server.store().CurrentRevision() + 1;

  std::vector<Want> wants;
  std::vector<std::unique_ptr<Watcher>> watchers;
  const int subscribers = testing::Scaled(100);
  for (int i = 0; i < subscribers; ++i) {
    Want want;
    switch (i % 3) {
      case 0:
        want.topic = kTopics[i % kTopics.size()];
        break;
      case 1:
        want.kind = i % 2 ? "agreement" : "document";
        break;
      default:
        want.prefix = absl::StrCat("documents/w", i % 8);
        break;
    }
    wants.push_back(want);
    // Half start before the writes, half join while they run (from `start`).
    if (i % 2 == 0) {
      watchers.push_back(
          std::make_unique<Watcher>(server.stub(), want.Request(start)));
    }
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      auto stub = server.NewStub();
      AtlasCalls mine(*stub);
      for (int i = 0; i < testing::Scaled(60); ++i) {
        // Entities move between topics so filters see enter/leave.
        std::vector<std::string> entity_topics = {
            kTopics[(w + i) % kTopics.size()]};
        v1::Entity e =
            i % 2 ? testing::Agreement(absl::StrCat("w", w, "-", i % 7),
                                       entity_topics)
                  : testing::Document(absl::StrCat("w", w, "-", i % 5),
                                      absl::StrCat("S/", i), entity_topics);
        if (i % 11 == 10) {
          mine.Delete(e.name(), "", /*allow_missing=*/true);
        } else {
          auto reply = mine.Update(e, {}, /*allow_missing=*/true);
          ASSERT_TRUE(reply.ok()) << reply.status.error_message();
        }
      }
    });
  }
  for (int i = 1; i < subscribers; i += 2) {
    watchers.insert(
        watchers.begin() + i,
        std::make_unique<Watcher>(server.stub(), wants[i].Request(start)));
  }
  for (auto& t : writers) t.join();
  const uint64_t last = server.store().CurrentRevision();
  auto log = server.store().ReadChanges(start, 1'000'000);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->sets.back().revision(), last);

  for (size_t i = 0; i < watchers.size(); ++i) {
    ASSERT_TRUE(watchers[i]->WaitForRevision(last)) << "subscriber " << i;
    std::vector<std::pair<uint64_t, std::string>> expected, got;
    for (const auto& set : log->sets) {
      for (const auto& change : set.changes()) {
        if (wants[i].Matches(change)) {
          expected.emplace_back(change.revision(), change.entity().name());
        }
      }
    }
    for (const auto& e : watchers[i]->events()) {
      got.emplace_back(e.change().revision(), e.change().entity().name());
    }
    ASSERT_EQ(got, expected) << "subscriber " << i;
  }
  // How often the dispatcher fell behind its bound (timing-dependent, so
  // only recorded).
  ::testing::Test::RecordProperty(
      "dispatch_dropped",
      std::to_string(server.hub().Stats().dispatch_dropped));
}

TEST(WatchLoadTest, EightWritersHundredSubscribersExactlyTheMatchingEvents) {
  ExpectExactlyTheMatchingEvents(Hub(1024));
}

// The same with a hub whose dispatcher keeps only one set waiting: whenever
// it falls behind, sets are dropped and live subscribers read them from disk.
TEST(WatchLoadTest, DispatcherDroppingSetsLosesNothing) {
  ChangeHubOptions options = Hub(1024);
  options.dispatch_backlog = 1;
  ExpectExactlyTheMatchingEvents(std::move(options));
}

TEST(WatchLoadTest, StalledSubscriberCostsBoundedMemoryAndSlowsNobody) {
  constexpr size_t kBound = 64;
  constexpr int kWrites = testing::Scaled(50'000);
  testing::TestServer server(Hub(kBound));
  AtlasCalls calls(server.stub());
  ASSERT_TRUE(calls.Apply({testing::Topic("t0")}).ok());
  const uint64_t start = server.store().CurrentRevision() + 1;

  v1::WatchRequest all;
  all.set_start_revision(start);
  Watcher stalled(server.stub(), all, /*paused=*/true);
  Watcher healthy(server.stub(), all);

  std::atomic<bool> writing{true};
  std::atomic<size_t> max_queue{0};
  std::atomic<size_t> catching_up_seen{0};
  std::thread sampler([&] {
    while (writing) {
      HubStats stats = server.hub().Stats();
      max_queue = std::max<size_t>(max_queue, stats.max_queued_sets);
      catching_up_seen = std::max<size_t>(catching_up_seen, stats.catching_up);
      absl::SleepFor(absl::Milliseconds(2));
    }
  });
  // Writes in batches of 50 entities, 1 KiB each, from 4 writers.
  const std::string payload(1024, 'p');
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      auto stub = server.NewStub();
      AtlasCalls mine(*stub);
      for (int batch = 0; batch < kWrites / 4 / 50; ++batch) {
        std::vector<v1::Entity> entities;
        for (int k = 0; k < 50; ++k) {
          entities.push_back(testing::Agreement(absl::StrCat("w", w, "-", k),
                                                {"t0"},
                                                absl::StrCat(batch, payload)));
        }
        auto reply = mine.Apply(entities);
        ASSERT_TRUE(reply.ok()) << reply.status.error_message();
      }
    });
  }
  for (auto& t : writers) t.join();
  const uint64_t last = server.store().CurrentRevision();
  // The healthy subscriber kept up while the other one stalled.
  ASSERT_TRUE(healthy.WaitForRevision(last));
  writing = false;
  sampler.join();
  EXPECT_LE(max_queue.load(), kBound);
  EXPECT_GE(catching_up_seen.load(), 1u)
      << "the stalled stream never fell back to disk";

  stalled.Resume();
  ASSERT_TRUE(stalled.WaitForRevision(last, absl::Seconds(120)));
  for (Watcher* w : {&stalled, &healthy}) {
    auto events = w->events();
    ASSERT_EQ(events.size(), static_cast<size_t>(kWrites));
    uint64_t revision = start;
    int in_set = 0;
    for (const auto& e : events) {
      // 50 changes per revision, revisions consecutive from `start`.
      ASSERT_EQ(e.change().revision(), revision);
      if (++in_set == 50) {
        in_set = 0;
        ++revision;
      }
    }
  }
  EXPECT_EQ(server.hub().Stats().max_queued_sets, 0u);
}

}  // namespace
}  // namespace atlas::services
