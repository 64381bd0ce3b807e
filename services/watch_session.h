#pragma once

// WatchSession: one watch (a filter and a start point) as a ChangeHub
// Subscription, independent of the gRPC call that carries its messages.
// A Watch call carries one session (watch_stream.cc); a WatchMany call
// carries many, each under its client-chosen watch id (watch_many.cc).
//
// A session moves through three phases:
//   snapshot  pages of current matching entities, then SYNCED at revision R
//   catch-up  change sets read from the change log on disk, a chunk at a time
//   live      change sets pushed by the ChangeHub into a bounded queue
// `through_` is the highest revision already queued or filtered out, so
// every revision is handled exactly once whichever path brings it. A live
// session whose queue is full drops back to catch-up; a catching-up session
// that reaches the dispatcher goes live again.
//
// Exactly one message is in flight at a time; `busy_` marks the one thread
// that may prepare and send the next message (or end the session). Disk
// reads happen only on gRPC callback threads and the hub's pump threads,
// never on the committing thread, the hub's dispatcher or its ticker.
//
// Events go out pre-encoded (watch_encoding.h): the session produces raw
// serialized v1::WatchResponse messages, and each change is serialized once
// for all its subscribers.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "atlas/v1/atlas_service.pb.h"
#include "common/mutex.h"
#include "services/change_hub.h"
#include "services/subscription_filter.h"
#include "services/watch_encoding.h"

namespace atlas::services {

class WatchSession : public Subscription {
 public:
  WatchSession(ChangeHub& hub, const v1::WatchRequest& request);

  // Validates the request and registers with the hub, then sends what is
  // due. A bad request ends the session at once (End with the error).
  void Start();

  // The message handed to Send has been written (ok) or could not be.
  void WriteDone(bool ok);
  // Ends the session with `why` as soon as no message is in flight.
  void Cancel(const grpc::Status& why);

  // Subscription (the On* calls come with the hub lock held).
  bool OnChangeSet(
      const std::shared_ptr<const EncodedChangeSet>& set) override;
  bool OnMissed() override;
  bool OnTick(absl::Time now, uint64_t dispatched_through) override;
  bool OnShutdown() override;
  void Pump() override;
  void Ref() override { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() override {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  SubscriptionStats Stats(uint64_t dispatched_through) override;

 protected:
  // Deleted through Unref when the last reference goes: the carrier's
  // (dropped once the session has ended) plus one per pending pump.
  ~WatchSession() override = default;

  // Writes `message` (a serialized v1::WatchResponse); the carrier calls
  // WriteDone once it is written. Never called again before that.
  virtual void Send(grpc::ByteBuffer* message) = 0;
  // The session is over with `status`; nothing is sent after it. The
  // session is still registered with the hub: the carrier unregisters it.
  virtual void End(const grpc::Status& status) = 0;
  // Both are the last thing the session does on that thread: the carrier
  // may drop its reference inside them.

  ChangeHub& hub() { return hub_; }

 private:
  enum class Phase { kSnapshot, kCatchUp, kLive };
  struct Match {
    int index;
    bool left;
    bool entered;
  };
  struct Pending {
    std::shared_ptr<const EncodedChangeSet> set;
    absl::InlinedVector<Match, 1> matches;  // usually one change a set
  };

  absl::Status Setup();
  void QueueLocked(const std::shared_ptr<const EncodedChangeSet>& set)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BuildEventsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BuildMarkerLocked(v1::WatchResponse::Type type, uint64_t revision)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool WantPumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Drive(bool allow_io);
  bool SnapshotStep();
  bool CatchUpStep();

  ChangeHub& hub_;
  storage::Store& store_;
  const v1::WatchRequest request_;
  SubscriptionFilter filter_;

  atlas::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kCatchUp;
  uint64_t through_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool progress_due_ ABSL_GUARDED_BY(mu_) = false;
  bool synced_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool pump_wanted_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int> refs_{1};
  std::optional<grpc::Status> finish_status_ ABSL_GUARDED_BY(mu_);
  uint64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_write_ ABSL_GUARDED_BY(mu_);
  int chunks_without_output_ ABSL_GUARDED_BY(mu_) = 0;
  std::string snapshot_token_;  // used only by the busy_ holder
  // The message being written and its event count; owned by the busy_
  // holder until WriteDone.
  grpc::ByteBuffer out_;
  int out_events_ = 0;
  EventsMessage message_ ABSL_GUARDED_BY(mu_);  // reused for its capacity
  uint64_t out_revision_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace atlas::services
