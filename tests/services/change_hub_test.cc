// ChangeHub on its own, with recording subscriptions: which sets reach which
// subscription (routing by topic), and what happens when the dispatcher falls
// behind by more than its inbox bound.

#include "services/change_hub.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/testing/temp_dir.h"

namespace atlas::services {
namespace {

// Records what the hub offers; can hold the dispatcher inside OnChangeSet.
class RecordingSubscription final : public Subscription {
 public:
  bool OnChangeSet(const std::shared_ptr<const EncodedChangeSet>& set) override {
    if (held_ != nullptr) {
      entered_.Notify();
      held_->WaitForNotification();
      held_ = nullptr;
    }
    atlas::MutexLock lock(&mu_);
    revisions_.push_back(set->revision());
    return false;
  }
  bool OnMissed() override {
    atlas::MutexLock lock(&mu_);
    revisions_.push_back(kMissed);
    return false;
  }
  bool OnTick(absl::Time, uint64_t) override { return false; }
  bool OnShutdown() override { return false; }
  void Pump() override {}
  void Ref() override {}
  void Unref() override {}
  SubscriptionStats Stats(uint64_t) override { return {}; }

  // Call before Register: the dispatcher will block in the first
  // OnChangeSet until Release.
  void Hold(atlas::Notification* release) { held_ = release; }
  void WaitUntilHeld() { entered_.WaitForNotification(); }
  std::vector<uint64_t> revisions() {
    atlas::MutexLock lock(&mu_);
    return revisions_;
  }

  static constexpr uint64_t kMissed = 0;

 private:
  atlas::Notification* held_ = nullptr;  // used by the dispatcher only
  atlas::Notification entered_;
  atlas::Mutex mu_;
  std::vector<uint64_t> revisions_ ABSL_GUARDED_BY(mu_);
};

// A change set at `revision` touching an entity with `after` topics (and,
// if given, `before` topics).
std::shared_ptr<const v1::ChangeSet> Set(
    uint64_t revision, std::vector<std::string> after,
    std::optional<std::vector<std::string>> before = std::nullopt) {
  auto set = std::make_shared<v1::ChangeSet>();
  set->set_revision(revision);
  v1::Change* change = set->add_changes();
  change->set_revision(revision);
  change->set_type(before ? v1::CHANGE_TYPE_UPDATED : v1::CHANGE_TYPE_CREATED);
  change->mutable_entity()->set_name("documents/d");
  for (const auto& topic : after) change->mutable_entity()->add_topics(topic);
  if (before) {
    change->mutable_before()->set_name("documents/d");
    for (const auto& topic : *before) {
      change->mutable_before()->add_topics(topic);
    }
  }
  return set;
}

class ChangeHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions options;
    options.path = dir_.path();
    auto store = storage::Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_EQ(store_->CurrentRevision(), 0u);
  }
  std::unique_ptr<ChangeHub> MakeHub(size_t dispatch_backlog = 4096) {
    ChangeHubOptions options;
    options.dispatch_backlog = dispatch_backlog;
    options.progress_interval = absl::Hours(1);
    return std::make_unique<ChangeHub>(*store_, options);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(ChangeHubTest, SetsReachOnlyTheSubscriptionsWhoseTopicsTheyTouch) {
  auto hub = MakeHub();
  RecordingSubscription any, ai, privacy, both;
  ASSERT_TRUE(hub->Register(&any).ok());
  ASSERT_TRUE(hub->Register(&ai, {"artificial-intelligence"}).ok());
  ASSERT_TRUE(hub->Register(&privacy, {"privacy"}).ok());
  ASSERT_TRUE(hub->Register(&both, {"privacy", "artificial-intelligence"}).ok());

  hub->OnCommitShared(Set(1, {"artificial-intelligence"}));
  hub->OnCommitShared(Set(2, {"privacy", "artificial-intelligence"}));
  // Leaves privacy for trade: privacy subscribers hear about it.
  hub->OnCommitShared(Set(3, {"e-commerce"}, std::vector<std::string>{"privacy"}));
  hub->OnCommitShared(Set(4, {}));
  hub->WaitForDispatch();

  EXPECT_EQ(any.revisions(), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(ai.revisions(), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(privacy.revisions(), (std::vector<uint64_t>{2, 3}));
  // Offered once per set even when two of its topics match.
  EXPECT_EQ(both.revisions(), (std::vector<uint64_t>{1, 2, 3}));

  hub->Unregister(&ai);
  hub->OnCommitShared(Set(5, {"artificial-intelligence"}));
  hub->WaitForDispatch();
  EXPECT_EQ(ai.revisions(), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(both.revisions(), (std::vector<uint64_t>{1, 2, 3, 5}));
  EXPECT_EQ(hub->subscription_count(), 3u);
  hub->Unregister(&any);
  hub->Unregister(&privacy);
  hub->Unregister(&both);
  EXPECT_EQ(hub->subscription_count(), 0u);
}

TEST_F(ChangeHubTest, ABacklogBeyondTheBoundDropsOldSetsAndSaysSo) {
  auto hub = MakeHub(/*dispatch_backlog=*/3);
  RecordingSubscription slow;
  atlas::Notification release;
  slow.Hold(&release);
  ASSERT_TRUE(hub->Register(&slow).ok());

  // The dispatcher takes set 1 and blocks in OnChangeSet; 2..10 pile up in
  // an inbox that keeps the newest three.
  hub->OnCommitShared(Set(1, {}));
  slow.WaitUntilHeld();
  for (uint64_t r = 2; r <= 10; ++r) hub->OnCommitShared(Set(r, {}));

  release.Notify();
  hub->WaitForDispatch();
  EXPECT_EQ(hub->Stats().dispatch_dropped, 6u);
  // 2..7 were dropped: the subscription is told before it sees 8.
  EXPECT_EQ(slow.revisions(),
            (std::vector<uint64_t>{1, RecordingSubscription::kMissed, 8, 9, 10}));
  EXPECT_EQ(hub->Stats().dispatch_backlog, 0u);
  hub->Unregister(&slow);
}

}  // namespace
}  // namespace atlas::services
