#include "services/change_hub.h"

#include <algorithm>

namespace atlas::services {

ChangeHub::ChangeHub(storage::Store& store, ChangeHubOptions options)
    : store_(store),
      options_(std::move(options)),
      dispatched_through_(store.CurrentRevision()),
      ticker_([this] { TickLoop(); }) {}

ChangeHub::~ChangeHub() {
  stop_ticker_.Notify();
  ticker_.join();
}

void ChangeHub::OnCommit(const v1::ChangeSet& change_set) {
  auto shared = std::make_shared<const v1::ChangeSet>(change_set);
  atlas::MutexLock lock(&mu_);
  dispatched_through_ = std::max(dispatched_through_, change_set.revision());
  for (Subscription* subscription : subscriptions_) {
    subscription->OnChangeSet(shared);
  }
}

absl::Status ChangeHub::Register(Subscription* subscription) {
  atlas::MutexLock lock(&mu_);
  if (shutting_down_) {
    return absl::UnavailableError("server is shutting down");
  }
  subscriptions_.insert(subscription);
  return absl::OkStatus();
}

void ChangeHub::Unregister(Subscription* subscription) {
  atlas::MutexLock lock(&mu_);
  subscriptions_.erase(subscription);
}

bool ChangeHub::TryGoLive(uint64_t through,
                          const std::function<void()>& go_live) {
  atlas::MutexLock lock(&mu_);
  if (through < dispatched_through_) return false;
  go_live();
  return true;
}

void ChangeHub::Shutdown() {
  atlas::MutexLock lock(&mu_);
  shutting_down_ = true;
  for (Subscription* subscription : subscriptions_) subscription->OnShutdown();
}

bool ChangeHub::shutting_down() const {
  atlas::MutexLock lock(&mu_);
  return shutting_down_;
}

size_t ChangeHub::subscription_count() const {
  atlas::MutexLock lock(&mu_);
  return subscriptions_.size();
}

HubStats ChangeHub::Stats() const {
  atlas::MutexLock lock(&mu_);
  HubStats stats;
  stats.subscriptions = subscriptions_.size();
  for (Subscription* subscription : subscriptions_) {
    SubscriptionStats one = subscription->Stats();
    stats.catching_up += one.catching_up ? 1 : 0;
    stats.queued_sets += one.queued_sets;
    stats.max_queued_sets = std::max(stats.max_queued_sets, one.queued_sets);
  }
  return stats;
}

void ChangeHub::TickLoop() {
  // Tick often enough that progress is at most a quarter interval late.
  const absl::Duration period = std::clamp(options_.progress_interval / 4,
                                           absl::Milliseconds(5), absl::Seconds(1));
  while (!stop_ticker_.WaitForNotificationWithTimeout(period)) {
    const absl::Time now = options_.now();
    atlas::MutexLock lock(&mu_);
    for (Subscription* subscription : subscriptions_) subscription->OnTick(now);
  }
}

}  // namespace atlas::services
