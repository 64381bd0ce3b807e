#include "services/change_hub.h"

#include <algorithm>

#include "services/grpc_status.h"

namespace atlas::services {

ChangeHub::ChangeHub(storage::Store& store, ChangeHubOptions options)
    : store_(store),
      options_(std::move(options)),
      dispatched_through_(store.CurrentRevision()) {
  for (int i = 0; i < std::max(options_.pump_threads, 1); ++i) {
    pump_threads_.emplace_back([this] { PumpLoop(); });
  }
  dispatcher_ = std::thread([this] { DispatchLoop(); });
  ticker_ = std::thread([this] { TickLoop(); });
}

ChangeHub::~ChangeHub() {
  stop_ticker_.Notify();
  ticker_.join();
  {
    atlas::MutexLock lock(&inbox_mu_);
    inbox_stopping_ = true;
  }
  dispatcher_.join();
  {
    atlas::MutexLock lock(&pump_mu_);
    stopping_ = true;
  }
  for (auto& thread : pump_threads_) thread.join();
}

void ChangeHub::SchedulePumpLocked(Pumped* target, bool wanted) {
  if (!wanted) return;
  target->Ref();
  scheduled_.push_back(target);
}

void ChangeHub::StartPumpsLocked() {
  if (scheduled_.empty()) return;
  // One hand-over (and one wake-up of the pump threads) for all of them.
  atlas::MutexLock lock(&pump_mu_);
  pumps_.insert(pumps_.end(), scheduled_.begin(), scheduled_.end());
  scheduled_.clear();
}

void ChangeHub::OnCommit(const v1::ChangeSet& change_set) {
  OnCommitShared(std::make_shared<const v1::ChangeSet>(change_set));
}

void ChangeHub::OnCommitShared(std::shared_ptr<const v1::ChangeSet> shared) {
  std::vector<std::shared_ptr<const v1::ChangeSet>> sets;
  sets.push_back(std::move(shared));
  OnCommitGroup(std::move(sets));
}

void ChangeHub::OnCommitGroup(
    std::vector<std::shared_ptr<const v1::ChangeSet>> sets) {
  atlas::MutexLock lock(&inbox_mu_);
  for (auto& shared : sets) {
    inbox_received_through_ = shared->revision();
    if (inbox_.size() >= std::max<size_t>(options_.dispatch_backlog, 1)) {
      // The newest set always stays, so the dispatcher hands out at least
      // one set after the dropped ones: that gap sends subscriptions to disk.
      inbox_.pop_front();
      ++inbox_dropped_;
    }
    inbox_.push_back(std::move(shared));
  }
}

void ChangeHub::WaitForDispatch() {
  atlas::MutexLock lock(&inbox_mu_);
  const uint64_t target = inbox_received_through_;
  inbox_mu_.Await([this, target]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return inbox_done_through_ >= target || inbox_stopping_;
  });
}

void ChangeHub::DispatchLoop() {
  // Everything queued is taken at once: one lock and at most one wake-up
  // per write group, not per set.
  std::deque<std::shared_ptr<const v1::ChangeSet>> sets;
  for (;;) {
    {
      atlas::MutexLock lock(&inbox_mu_);
      inbox_mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return inbox_stopping_ || !inbox_.empty();
      });
      if (inbox_stopping_) return;
      sets.swap(inbox_);
      inbox_dispatching_ = sets.size();
    }
    const uint64_t revision = sets.back()->revision();
    for (auto& set : sets) Dispatch(std::move(set));
    sets.clear();
    atlas::MutexLock lock(&inbox_mu_);
    inbox_done_through_ = std::max(inbox_done_through_, revision);
    inbox_dispatching_ = 0;
  }
}

void ChangeHub::Dispatch(std::shared_ptr<const v1::ChangeSet> set) {
  auto encoded = std::make_shared<const EncodedChangeSet>(std::move(set));
  atlas::MutexLock lock(&mu_);
  if (encoded->revision() <= dispatched_through_) return;
  if (encoded->revision() != dispatched_through_ + 1) {
    // The inbox dropped the sets in between: whoever is live reads them.
    for (auto& [subscription, topics] : subscriptions_) {
      SchedulePumpLocked(subscription, subscription->OnMissed());
    }
  }
  dispatched_through_ = encoded->revision();
  // The subscriptions that can match: any topic, or a topic the entities
  // have before or after the change.
  candidates_.assign(any_topic_.begin(), any_topic_.end());
  int sources = 1;
  auto add_topics = [&](const v1::Entity& entity) {
    for (const std::string& topic : entity.topics()) {
      auto it = by_topic_.find(topic);
      if (it == by_topic_.end()) continue;
      candidates_.insert(candidates_.end(), it->second.begin(),
                         it->second.end());
      ++sources;
    }
  };
  for (const v1::Change& change : encoded->set().changes()) {
    add_topics(change.entity());
    if (change.has_before()) add_topics(change.before());
  }
  if (sources > 2) {  // one subscription may be reached more than once
    std::sort(candidates_.begin(), candidates_.end());
    candidates_.erase(std::unique(candidates_.begin(), candidates_.end()),
                      candidates_.end());
  }
  for (Subscription* subscription : candidates_) {
    SchedulePumpLocked(subscription, subscription->OnChangeSet(encoded));
  }
  StartPumpsLocked();
}

absl::Status ChangeHub::Register(Subscription* subscription,
                                 std::vector<std::string> topics) {
  atlas::MutexLock lock(&mu_);
  if (shutting_down_) {
    return ShuttingDownError();
  }
  if (topics.empty()) any_topic_.insert(subscription);
  for (const std::string& topic : topics) {
    by_topic_[topic].insert(subscription);
  }
  subscriptions_.emplace(subscription, std::move(topics));
  return absl::OkStatus();
}

void ChangeHub::Unregister(Subscription* subscription) {
  atlas::MutexLock lock(&mu_);
  auto it = subscriptions_.find(subscription);
  if (it == subscriptions_.end()) return;
  any_topic_.erase(subscription);
  for (const std::string& topic : it->second) {
    auto routed = by_topic_.find(topic);
    routed->second.erase(subscription);
    if (routed->second.empty()) by_topic_.erase(routed);
  }
  subscriptions_.erase(it);
}

absl::Status ChangeHub::AddStream(Pumped* stream) {
  atlas::MutexLock lock(&mu_);
  if (shutting_down_) return ShuttingDownError();
  streams_.insert(stream);
  return absl::OkStatus();
}

void ChangeHub::RemoveStream(Pumped* stream) {
  atlas::MutexLock lock(&mu_);
  streams_.erase(stream);
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
  for (auto& [subscription, topics] : subscriptions_) {
    SchedulePumpLocked(subscription, subscription->OnShutdown());
  }
  for (Pumped* stream : streams_) {
    SchedulePumpLocked(stream, stream->OnShutdown());
  }
  StartPumpsLocked();
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
  {
    atlas::MutexLock lock(&inbox_mu_);
    stats.dispatch_backlog = inbox_.size() + inbox_dispatching_;
    stats.dispatch_dropped = inbox_dropped_;
  }
  atlas::MutexLock lock(&mu_);
  stats.subscriptions = subscriptions_.size();
  for (auto& [subscription, topics] : subscriptions_) {
    SubscriptionStats one = subscription->Stats(dispatched_through_);
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
    for (auto& [subscription, topics] : subscriptions_) {
      SchedulePumpLocked(subscription,
                         subscription->OnTick(now, dispatched_through_));
    }
    StartPumpsLocked();
  }
}

void ChangeHub::PumpLoop() {
  for (;;) {
    Pumped* target;
    {
      atlas::MutexLock lock(&pump_mu_);
      pump_mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return stopping_ || !pumps_.empty();
      });
      if (pumps_.empty()) return;  // stopping, nothing left
      target = pumps_.front();
      pumps_.pop_front();
    }
    target->Pump();
    target->Unref();
  }
}

}  // namespace atlas::services
