#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/store.h"
#include "tests/storage/store_fixture.h"

namespace atlas::storage {
namespace {

class OrderCheckingObserver : public CommitObserver {
 public:
  void OnCommit(const v1::ChangeSet& set) override {
    atlas::MutexLock lock(&mu_);
    revisions_.push_back(set.revision());
  }
  std::vector<uint64_t> revisions() {
    atlas::MutexLock lock(&mu_);
    return revisions_;
  }

 private:
  atlas::Mutex mu_;
  std::vector<uint64_t> revisions_ ABSL_GUARDED_BY(mu_);
};

TEST_F(StoreTest, ConcurrentCommitsAreGapFreeAndOrdered) {
  OrderCheckingObserver observer;
  store_->SetCommitObserver(&observer);
  SeedTopics();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  std::vector<std::vector<uint64_t>> acked(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        CommitRequest request;
        // Alternate private keys and one hot key shared by every thread.
        v1::Entity e = i % 3 == 0
            ? testing::Agreement("hot", {}, absl::StrCat(t, "-", i))
            : testing::Agreement(absl::StrCat("t", t, "-", i));
        request.mutations.push_back(Mutation::Put(e));
        auto result = store_->Commit(std::move(request));
        ASSERT_TRUE(result.ok()) << result.status();
        acked[t].push_back(result->revision);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<uint64_t> all;
  for (const auto& revisions : acked) {
    // Each thread's own commits are acknowledged in increasing order.
    EXPECT_TRUE(std::is_sorted(revisions.begin(), revisions.end()));
    all.insert(all.end(), revisions.begin(), revisions.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 2);  // 1 = topics
  EXPECT_EQ(store_->CurrentRevision(), all.back());

  auto log = store_->ReadChanges(1, 100000);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->sets.size(), all.size() + 1);
  for (size_t i = 0; i < log->sets.size(); ++i) {
    EXPECT_EQ(log->sets[i].revision(), i + 1);
    for (const auto& change : log->sets[i].changes()) {
      EXPECT_EQ(change.entity().update_revision(), i + 1);
    }
  }
  std::vector<uint64_t> observed = observer.revisions();
  ASSERT_EQ(observed.size(), log->sets.size());
  for (size_t i = 0; i < observed.size(); ++i) EXPECT_EQ(observed[i], i + 1);
  // The hot key's version counts every change to it.
  EXPECT_EQ(store_->Get("agreements/hot")->entity.version(),
            kThreads * (kPerThread / 3));
}

// Asynchronous commits from several threads, mixed with synchronous ones, and
// callbacks that commit again (as a retried masked update does): every
// callback runs exactly once, after its commit is durable, and revisions stay
// gap-free and in the order the observer saw them.
TEST_F(StoreTest, AsyncCommitsMixWithSyncCommitsAndChainFromCallbacks) {
  OrderCheckingObserver observer;
  store_->SetCommitObserver(&observer);
  SeedTopics();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  atlas::Mutex mu;
  std::vector<uint64_t> acked;  // every acknowledged revision
  int replies = 0;
  int chained = 0;
  atlas::Notification all_replied;
  constexpr int kExpected = kThreads * kPerThread + kThreads * kPerThread / 10;
  auto record = [&](const absl::StatusOr<CommitResult>& result) {
    ASSERT_TRUE(result.ok()) << result.status();
    atlas::MutexLock lock(&mu);
    acked.push_back(result->revision);
    if (++replies == kExpected) all_replied.Notify();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        CommitRequest request;
        request.mutations.push_back(
            Mutation::Put(testing::Agreement(absl::StrCat("a", t, "-", i))));
        if (i % 10 == 0) {  // a synchronous commit now and then
          absl::StatusOr<CommitResult> result =
              store_->Commit(std::move(request));
          record(result);
          continue;
        }
        const bool chain = i % 10 == 5;
        store_->CommitAsync(
            std::move(request),
            [&, t, i, chain](absl::StatusOr<CommitResult> result) {
              record(result);
              if (!chain) return;
              {
                atlas::MutexLock lock(&mu);
                ++chained;
              }
              CommitRequest next;
              next.mutations.push_back(Mutation::Put(
                  testing::Agreement(absl::StrCat("chained", t, "-", i))));
              store_->CommitAsync(std::move(next),
                                  [&](absl::StatusOr<CommitResult> again) {
                                    record(again);
                                  });
            });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(all_replied.WaitForNotificationWithTimeout(absl::Seconds(120)));

  atlas::MutexLock lock(&mu);
  EXPECT_EQ(chained, kThreads * kPerThread / 10);
  ASSERT_EQ(acked.size(), static_cast<size_t>(kExpected));
  std::sort(acked.begin(), acked.end());
  for (size_t i = 0; i < acked.size(); ++i) ASSERT_EQ(acked[i], i + 2);
  EXPECT_EQ(store_->CurrentRevision(), acked.back());
  std::vector<uint64_t> observed = observer.revisions();
  ASSERT_EQ(observed.size(), acked.size() + 1);
  for (size_t i = 0; i < observed.size(); ++i) EXPECT_EQ(observed[i], i + 1);
}

// Records the size of every write group, and holds the leader of the first
// one until released, so that later callers queue behind it.
class HoldingStatsObserver : public CommitStatsObserver {
 public:
  void OnGroupWritten(size_t requests, uint64_t revisions,
                      absl::Duration) override {
    atlas::MutexLock lock(&mu_);
    groups_.push_back({requests, revisions});
    mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return released_; });
  }
  bool WaitForFirstGroup() {
    atlas::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !groups_.empty(); },
        absl::Seconds(60));
  }
  void Release() {
    atlas::MutexLock lock(&mu_);
    released_ = true;
  }
  // (requests, revisions) of each group, in order.
  std::vector<std::pair<size_t, uint64_t>> groups() {
    atlas::MutexLock lock(&mu_);
    return groups_;
  }

 private:
  atlas::Mutex mu_;
  std::vector<std::pair<size_t, uint64_t>> groups_ ABSL_GUARDED_BY(mu_);
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

// Group commit: callers that arrive while a group is being written share the
// next group, which is one WriteBatch and one WAL sync for all of them, and
// each still gets its own revision, in order.
TEST_F(StoreTest, CallersQueuedBehindAGroupShareOneWrite) {
  HoldingStatsObserver stats;
  store_->SetCommitStatsObserver(&stats);
  std::thread first([&] { Put(testing::Agreement("first")); });
  ASSERT_TRUE(stats.WaitForFirstGroup());

  constexpr int kCallers = 8;
  std::atomic<int> started{0};
  std::vector<uint64_t> acked(kCallers, 0);
  std::vector<std::thread> callers;
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([&, t] {
      started.fetch_add(1);
      acked[t] = Put(testing::Agreement(absl::StrCat("queued-", t))).revision;
    });
  }
  while (started.load() < kCallers) std::this_thread::yield();
  // Time for them to reach the queue (the first leader is still held).
  absl::SleepFor(absl::Milliseconds(300));
  stats.Release();
  first.join();
  for (auto& caller : callers) caller.join();
  store_->SetCommitStatsObserver(nullptr);

  std::sort(acked.begin(), acked.end());
  for (int t = 0; t < kCallers; ++t) EXPECT_EQ(acked[t], 2u + t);
  const auto groups = stats.groups();
  size_t requests = 0;
  uint64_t revisions = 0;
  for (const auto& [group_requests, group_revisions] : groups) {
    requests += group_requests;
    revisions += group_revisions;
  }
  EXPECT_EQ(requests, 1u + kCallers);
  EXPECT_EQ(revisions, 1u + kCallers);
  ASSERT_GE(groups.size(), 2u);
  EXPECT_EQ(groups[0].first, 1u);
  // Those queued while the first group was held went out together: fewer
  // writes than commits.
  EXPECT_LT(groups.size(), 1u + kCallers);
}

// A failed asynchronous commit calls back with the error and changes nothing.
TEST_F(StoreTest, AsyncCommitReportsPreconditionFailure) {
  SeedTopics();
  const uint64_t before = store_->CurrentRevision();
  CommitRequest request;
  request.mutations.push_back(Mutation::Put(testing::Agreement("missing"),
                                            Expect::kMustExist));
  absl::StatusOr<CommitResult> got = absl::UnknownError("no reply");
  atlas::Notification replied;
  store_->CommitAsync(std::move(request),
                      [&](absl::StatusOr<CommitResult> result) {
                        got = std::move(result);
                        replied.Notify();
                      });
  ASSERT_TRUE(replied.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_TRUE(absl::IsNotFound(got.status())) << got.status();
  EXPECT_EQ(store_->CurrentRevision(), before);
}

}  // namespace
}  // namespace atlas::storage
