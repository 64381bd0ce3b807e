#pragma once

// ChangeHub: fans committed change sets out to Watch subscriptions.
//
// The store calls OnCommit for every durable change set, in revision order,
// on the committing thread; the hub only appends the set to a bounded inbox,
// so writers never wait for subscribers. The hub's dispatcher thread wraps
// each set once as an EncodedChangeSet (its events are encoded once for
// everybody) and offers it to the live subscriptions that can match it:
// those without a topic filter and those filtering on a topic the set's
// entities have before or after the change. A subscription only filters and
// queues the set (no I/O, no waiting). One that is behind reads the change
// log on disk instead, and rejoins the live path through TryGoLive once it
// has caught up. If the dispatcher itself falls behind by more than the inbox
// bound, the oldest sets are dropped and every live subscription reads from
// disk.
//
// Subscriptions never start gRPC operations while the hub lock is held (gRPC
// may run reactions inline, and those may call back into the hub): when one
// has something to send it asks for a pump, and a small fixed pool of pump
// threads starts the write outside the lock. One ticker thread drives
// progress messages. There is no thread per stream.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "services/watch_encoding.h"
#include "storage/store.h"

namespace atlas::services {

struct ChangeHubOptions {
  // Most change sets queued in memory per subscription; a subscription that
  // falls further behind is served from the change log on disk.
  size_t subscriber_queue_bound = 1024;
  // A PROGRESS message is sent after this long without any message.
  absl::Duration progress_interval = absl::Seconds(10);
  // Threads that start writes for subscriptions with something to send.
  int pump_threads = 2;
  // Most committed change sets waiting for the dispatcher; beyond it the
  // oldest are dropped and the subscriptions that needed them read them
  // from disk.
  size_t dispatch_backlog = 4096;
  // Source of time for progress (injectable for tests).
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// What a subscription reports about itself (for tests and metrics).
struct SubscriptionStats {
  size_t queued_sets = 0;    // change sets waiting in memory
  bool catching_up = false;  // served from the change log on disk
  // Every revision up to this one is sent (or being sent) or filtered out.
  uint64_t handled_through = 0;
};

// What the hub needs of anything it may pump: a subscription, or a stream
// that only needs to hear about shutdown (see ChangeHub::AddStream). The
// On* calls are made with the hub lock held; they only update the object's
// own state and return true to ask for a Pump() (made later, without the hub
// lock, on a pump thread). The hub holds a reference (Ref/Unref) while a
// pump is pending.
class Pumped {
 public:
  virtual ~Pumped() = default;
  // The server is stopping: end the stream with UNAVAILABLE.
  virtual bool OnShutdown() = 0;
  // Starts the next write (or finish) if there is one and none is in flight.
  virtual void Pump() = 0;
  virtual void Ref() = 0;
  virtual void Unref() = 0;
};

// What the hub needs of a watch.
class Subscription : public Pumped {
 public:
  // A durable change set, in revision order, that may match the
  // subscription; may repeat revisions already seen (the subscription
  // ignores those). Sets that cannot match are not offered: a live
  // subscription has handled every revision the hub has dispatched.
  virtual bool OnChangeSet(
      const std::shared_ptr<const EncodedChangeSet>& set) = 0;
  // The hub dropped change sets (see ChangeHubOptions::dispatch_backlog): a
  // live subscription reads the change log from disk.
  virtual bool OnMissed() = 0;
  // Periodic: progress if due. `dispatched_through`: the hub has offered
  // every set up to this revision that could match.
  virtual bool OnTick(absl::Time now, uint64_t dispatched_through) = 0;
  virtual SubscriptionStats Stats(uint64_t dispatched_through) = 0;
};

struct HubStats {
  size_t subscriptions = 0;
  size_t catching_up = 0;      // subscriptions served from disk
  size_t queued_sets = 0;      // change sets queued, all subscriptions
  size_t max_queued_sets = 0;  // deepest single queue
  // Revisions the furthest-behind subscription has yet to handle.
  uint64_t max_lag = 0;
  // Watch events written to clients since the hub started.
  uint64_t events_delivered = 0;
  // Change sets committed but not yet handed to the subscriptions.
  size_t dispatch_backlog = 0;
  // Change sets dropped from the inbox (their subscribers read them from
  // disk) since the hub started.
  uint64_t dispatch_dropped = 0;
};

class ChangeHub : public storage::CommitObserver {
 public:
  ChangeHub(storage::Store& store, ChangeHubOptions options);
  ~ChangeHub() override;

  void OnCommit(const v1::ChangeSet& change_set) override;
  // Shares the store's set with the subscriptions: no copy.
  void OnCommitShared(
      std::shared_ptr<const v1::ChangeSet> change_set) override;
  // A write group's sets, queued for the dispatcher under one lock.
  void OnCommitGroup(
      std::vector<std::shared_ptr<const v1::ChangeSet>> change_sets) override;

  // Returns once every change set committed before the call has been handed
  // to the subscriptions (for tests).
  void WaitForDispatch();

  // Adds a subscription that wants changes to entities with any of `topics`
  // (empty: any topic); UNAVAILABLE once the hub is shutting down.
  absl::Status Register(Subscription* subscription,
                        std::vector<std::string> topics = {});
  // After this returns the hub never calls `subscription`'s On* methods
  // again (a pump already scheduled still runs; it holds a reference).
  void Unregister(Subscription* subscription);
  // A stream that carries subscriptions but is none (a WatchMany stream):
  // the hub calls only its OnShutdown, when it shuts down. UNAVAILABLE once
  // the hub is shutting down.
  absl::Status AddStream(Pumped* stream);
  void RemoveStream(Pumped* stream);
  // If every revision after `through` will be dispatched to subscriptions
  // (the subscription has caught up with the dispatcher), runs `go_live`
  // under the hub lock and returns true.
  bool TryGoLive(uint64_t through, const std::function<void()>& go_live);

  // Ends every open subscription with UNAVAILABLE; new ones are refused.
  void Shutdown();
  bool shutting_down() const;

  size_t subscription_count() const;
  HubStats Stats() const;
  // A subscription wrote `events` events to its client.
  void CountDelivered(size_t events) {
    events_delivered_.fetch_add(events, std::memory_order_relaxed);
  }
  storage::Store& store() { return store_; }
  const ChangeHubOptions& options() const { return options_; }

 private:
  // Notes a pump for `subscription` (referenced) if `wanted`; the pumps
  // noted go to the pump threads together in StartPumpsLocked.
  void SchedulePumpLocked(Pumped* target, bool wanted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartPumpsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DispatchLoop();
  void Dispatch(std::shared_ptr<const v1::ChangeSet> set);
  void TickLoop();
  void PumpLoop();

  storage::Store& store_;
  const ChangeHubOptions options_;
  mutable atlas::Mutex mu_;
  // Every subscription, with the topics it registered with.
  absl::flat_hash_map<Subscription*, std::vector<std::string>> subscriptions_
      ABSL_GUARDED_BY(mu_);
  // Routing: subscriptions without a topic filter, and by topic.
  absl::flat_hash_set<Subscription*> any_topic_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::flat_hash_set<Subscription*>>
      by_topic_ ABSL_GUARDED_BY(mu_);
  std::vector<Subscription*> candidates_ ABSL_GUARDED_BY(mu_);  // scratch
  std::vector<Pumped*> scheduled_ ABSL_GUARDED_BY(mu_);  // pumps
  absl::flat_hash_set<Pumped*> streams_ ABSL_GUARDED_BY(mu_);
  // Highest revision handed to OnChangeSet (or on disk before the hub began).
  uint64_t dispatched_through_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> events_delivered_{0};

  // Committed sets on their way to the dispatcher thread.
  mutable atlas::Mutex inbox_mu_;  // never held with mu_
  std::deque<std::shared_ptr<const v1::ChangeSet>> inbox_
      ABSL_GUARDED_BY(inbox_mu_);
  uint64_t inbox_dropped_ ABSL_GUARDED_BY(inbox_mu_) = 0;
  // Sets the dispatcher took from the inbox and has not handed out yet.
  size_t inbox_dispatching_ ABSL_GUARDED_BY(inbox_mu_) = 0;
  // Highest revision the dispatcher has finished with (dispatched or
  // dropped).
  uint64_t inbox_done_through_ ABSL_GUARDED_BY(inbox_mu_) = 0;
  uint64_t inbox_received_through_ ABSL_GUARDED_BY(inbox_mu_) = 0;
  bool inbox_stopping_ ABSL_GUARDED_BY(inbox_mu_) = false;

  atlas::Mutex pump_mu_;  // acquired after mu_, never before
  std::deque<Pumped*> pumps_ ABSL_GUARDED_BY(pump_mu_);
  bool stopping_ ABSL_GUARDED_BY(pump_mu_) = false;

  atlas::Notification stop_ticker_;
  std::vector<std::thread> pump_threads_;
  std::thread dispatcher_;
  std::thread ticker_;
};

}  // namespace atlas::services
