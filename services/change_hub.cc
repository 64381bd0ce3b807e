#include "services/change_hub.h"

#include <algorithm>

namespace atlas::services {

ChangeHub::ChangeHub(storage::Store& store, ChangeHubOptions options)
    : store_(store),
      options_(std::move(options)),
      dispatched_through_(store.CurrentRevision()) {
  for (int i = 0; i < std::max(options_.pump_threads, 1); ++i) {
    pump_threads_.emplace_back([this] { PumpLoop(); });
  }
  ticker_ = std::thread([this] { TickLoop(); });
}

ChangeHub::~ChangeHub() {
  stop_ticker_.Notify();
  ticker_.join();
  {
    atlas::MutexLock lock(&pump_mu_);
    stopping_ = true;
  }
  for (auto& thread : pump_threads_) thread.join();
}

void ChangeHub::SchedulePumpLocked(Subscription* subscription, bool wanted) {
  if (!wanted) return;
  subscription->Ref();
  atlas::MutexLock lock(&pump_mu_);
  pumps_.push_back(subscription);
}

void ChangeHub::OnCommit(const v1::ChangeSet& change_set) {
  OnCommitShared(std::make_shared<const v1::ChangeSet>(change_set));
}

void ChangeHub::OnCommitShared(std::shared_ptr<const v1::ChangeSet> shared) {
  atlas::MutexLock lock(&mu_);
  dispatched_through_ = std::max(dispatched_through_, shared->revision());
  for (Subscription* subscription : subscriptions_) {
    SchedulePumpLocked(subscription, subscription->OnChangeSet(shared));
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
  for (Subscription* subscription : subscriptions_) {
    SchedulePumpLocked(subscription, subscription->OnShutdown());
  }
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
  // Read outside the hub lock (no store lock nests in it); a subscription
  // may be past it by the time it is asked, hence the check below.
  const uint64_t current = store_.CurrentRevision();
  HubStats stats;
  stats.events_delivered = events_delivered_.load(std::memory_order_relaxed);
  atlas::MutexLock lock(&mu_);
  stats.subscriptions = subscriptions_.size();
  for (Subscription* subscription : subscriptions_) {
    SubscriptionStats one = subscription->Stats();
    stats.catching_up += one.catching_up ? 1 : 0;
    stats.queued_sets += one.queued_sets;
    stats.max_queued_sets = std::max(stats.max_queued_sets, one.queued_sets);
    if (one.handled_through < current) {
      stats.max_lag = std::max(stats.max_lag, current - one.handled_through);
    }
  }
  return stats;
}

void ChangeHub::TickLoop() {
  // Tick often enough that progress is at most a quarter interval late.
  const absl::Duration period = std::clamp(
      options_.progress_interval / 4, absl::Milliseconds(5), absl::Seconds(1));
  while (!stop_ticker_.WaitForNotificationWithTimeout(period)) {
    const absl::Time now = options_.now();
    atlas::MutexLock lock(&mu_);
    for (Subscription* subscription : subscriptions_) {
      SchedulePumpLocked(subscription, subscription->OnTick(now));
    }
  }
}

void ChangeHub::PumpLoop() {
  for (;;) {
    Subscription* subscription;
    {
      atlas::MutexLock lock(&pump_mu_);
      pump_mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return stopping_ || !pumps_.empty();
      });
      if (pumps_.empty()) return;  // stopping, nothing left
      subscription = pumps_.front();
      pumps_.pop_front();
    }
    subscription->Pump();
    subscription->Unref();
  }
}

}  // namespace atlas::services
