#include <algorithm>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace atlas::storage
