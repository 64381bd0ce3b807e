#include "services/watch_session.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/grpc_status.h"

namespace atlas::services {
namespace {

constexpr size_t kCatchUpChunk = 256;  // change sets per disk read
// A message ends after the change set that takes it past either bound (a
// set is never split across messages).
constexpr int kMaxEventsPerMessage = 256;
constexpr size_t kMaxMessageBytes = 64 << 10;
constexpr int kSnapshotPageSize = 500;
// Disk chunks read without a match before a PROGRESS is sent anyway.
constexpr int kChunksPerProgress = 8;

}  // namespace

WatchSession::WatchSession(ChangeHub& hub, const v1::WatchRequest& request)
    : hub_(hub), store_(hub.store()), request_(request) {}

void WatchSession::Start() {
  absl::Status status = Setup();
  if (!status.ok()) {
    {
      atlas::MutexLock lock(&mu_);
      finished_ = true;
    }
    End(ToGrpcStatus(status));
    return;
  }
  Drive(/*allow_io=*/true);
}

void WatchSession::WriteDone(bool ok) {
  // out_ is still ours: busy_ is set until below.
  if (ok) hub_.CountDelivered(out_events_);
  {
    atlas::MutexLock lock(&mu_);
    busy_ = false;
    if (ok) {
      delivered_ = out_revision_;
      last_write_ = hub_.options().now();
    } else if (!finish_status_) {
      finish_status_ = grpc::Status(grpc::StatusCode::CANCELLED,
                                    "the stream broke while writing");
    }
  }
  Drive(/*allow_io=*/true);
}

void WatchSession::Cancel(const grpc::Status& why) {
  {
    atlas::MutexLock lock(&mu_);
    if (!finish_status_) finish_status_ = why;
  }
  Drive(/*allow_io=*/false);
}

bool WatchSession::OnChangeSet(
    const std::shared_ptr<const EncodedChangeSet>& set) {
  atlas::MutexLock lock(&mu_);
  if (phase_ != Phase::kLive || finished_) return false;
  if (set->revision() <= through_) return false;  // already handled
  if (queue_.size() >= hub_.options().subscriber_queue_bound) {
    // Too far behind to queue: read the rest from the change log. The
    // write in flight resumes the session when it completes.
    phase_ = Phase::kCatchUp;
    return WantPumpLocked();
  }
  QueueLocked(set);
  return !queue_.empty() && WantPumpLocked();
}

bool WatchSession::OnMissed() {
  atlas::MutexLock lock(&mu_);
  if (phase_ != Phase::kLive || finished_) return false;
  phase_ = Phase::kCatchUp;
  return WantPumpLocked();
}

bool WatchSession::OnTick(absl::Time now, uint64_t dispatched_through) {
  atlas::MutexLock lock(&mu_);
  // Live, this session was offered every set up to dispatched_through that
  // could match it; the others it has handled by not wanting them.
  if (phase_ == Phase::kLive) through_ = std::max(through_, dispatched_through);
  if (phase_ != Phase::kLive || busy_ || finished_ || !queue_.empty() ||
      now - last_write_ < hub_.options().progress_interval) {
    return false;
  }
  progress_due_ = true;
  return WantPumpLocked();
}

bool WatchSession::OnShutdown() {
  atlas::MutexLock lock(&mu_);
  shutting_down_ = true;
  return WantPumpLocked();
}

void WatchSession::Pump() {
  {
    atlas::MutexLock lock(&mu_);
    pump_wanted_ = false;
  }
  Drive(/*allow_io=*/true);
}

SubscriptionStats WatchSession::Stats(uint64_t dispatched_through) {
  atlas::MutexLock lock(&mu_);
  uint64_t handled_through = through_;
  if (!queue_.empty()) {
    handled_through = queue_.front().set->revision() - 1;
  } else if (phase_ == Phase::kLive) {
    handled_through = std::max(through_, dispatched_through);
  }
  return {queue_.size(), phase_ != Phase::kLive, handled_through};
}

absl::Status WatchSession::Setup() {
  auto filter = SubscriptionFilter::Create(request_.filter());
  if (!filter.ok()) return filter.status();
  filter_ = *std::move(filter);
  if (request_.snapshot() && request_.start_revision() != 0) {
    return absl::InvalidArgumentError(
        "start_revision: cannot be combined with snapshot");
  }
  const uint64_t oldest = store_.OldestRevision();
  if (request_.start_revision() != 0 && request_.start_revision() < oldest) {
    return absl::OutOfRangeError(absl::StrCat(
        "start_revision: revision ", request_.start_revision(),
        " is no longer retained; the oldest retained revision is ", oldest));
  }
  {
    atlas::MutexLock lock(&mu_);
    last_write_ = hub_.options().now();
    if (request_.snapshot()) {
      phase_ = Phase::kSnapshot;
    } else {
      phase_ = Phase::kCatchUp;
      through_ = request_.start_revision() != 0
                     ? request_.start_revision() - 1
                     : store_.CurrentRevision();
      // Tell a "now" subscriber at once where it starts, so it can resume
      // from there even if the stream breaks before anything matches.
      progress_due_ = request_.start_revision() == 0;
    }
  }
  // Registered before reading anything, so no live change set is missed.
  return hub_.Register(this, std::vector<std::string>(
                                 filter_.topics().begin(),
                                 filter_.topics().end()));
}

void WatchSession::QueueLocked(const std::shared_ptr<const EncodedChangeSet>& set) {
  Pending pending{set, {}};
  const v1::ChangeSet& changes = set->set();
  for (int i = 0; i < changes.changes_size(); ++i) {
    auto verdict = filter_.Evaluate(changes.changes(i));
    if (verdict.deliver) {
      pending.matches.push_back({i, verdict.left, verdict.entered});
    }
  }
  through_ = set->revision();
  if (!pending.matches.empty()) queue_.push_back(std::move(pending));
}

void WatchSession::BuildEventsLocked() {
  while (!queue_.empty() && message_.event_count() < kMaxEventsPerMessage &&
         message_.byte_size() < kMaxMessageBytes) {
    const Pending& pending = queue_.front();
    for (const Match& match : pending.matches) {
      message_.Add(pending.set->ChangeBytes(match.index,
                                            request_.include_before()),
                   match.left, match.entered);
    }
    out_revision_ = pending.set->revision();
    queue_.pop_front();
  }
  out_events_ = message_.event_count();
  out_ = message_.Finish(out_revision_);
}

void WatchSession::BuildMarkerLocked(v1::WatchResponse::Type type, uint64_t revision) {
  v1::WatchResponse marker;
  marker.set_type(type);
  marker.set_revision(revision);
  out_ = SerializeResponse(marker);
  out_events_ = 0;
  out_revision_ = revision;
}

bool WatchSession::WantPumpLocked() {
  if (busy_ || finished_ || pump_wanted_) return false;
  pump_wanted_ = true;
  return true;
}

void WatchSession::Drive(bool allow_io) {
  for (;;) {
    enum class Step { kWrite, kFinish, kSnapshotPage, kCatchUp } step;
    grpc::Status finish_status;
    {
      atlas::MutexLock lock(&mu_);
      if (busy_ || finished_) return;
      if (shutting_down_ && !finish_status_) {
        finish_status_ = grpc::Status(
            grpc::StatusCode::UNAVAILABLE,
            absl::StrCat("server is shutting down; last revision delivered: ",
                         delivered_, "; resume with start_revision ",
                         delivered_ + 1));
      }
      if (finish_status_) {
        finished_ = true;
        finish_status = *finish_status_;
        step = Step::kFinish;
      } else if (synced_pending_) {
        synced_pending_ = false;
        BuildMarkerLocked(v1::WatchResponse::TYPE_SYNCED, through_);
        step = Step::kWrite;
      } else if (!queue_.empty()) {
        BuildEventsLocked();
        step = Step::kWrite;
      } else if (phase_ == Phase::kSnapshot || phase_ == Phase::kCatchUp) {
        if (!allow_io) return;
        step = phase_ == Phase::kSnapshot ? Step::kSnapshotPage
                                          : Step::kCatchUp;
      } else if (progress_due_) {
        progress_due_ = false;
        BuildMarkerLocked(v1::WatchResponse::TYPE_PROGRESS, through_);
        step = Step::kWrite;
      } else {
        return;
      }
      if (step != Step::kFinish) busy_ = true;
    }
    switch (step) {
      case Step::kFinish:
        End(finish_status);
        return;
      case Step::kWrite:
        Send(&out_);
        return;
      case Step::kSnapshotPage:
      case Step::kCatchUp:
        if (step == Step::kSnapshotPage ? SnapshotStep() : CatchUpStep()) {
          Send(&out_);
          return;
        }
        break;
    }
    atlas::MutexLock lock(&mu_);
    busy_ = false;
  }
}

bool WatchSession::SnapshotStep() {
  storage::ListQuery query;
  query.page_size = kSnapshotPageSize;
  query.page_token = snapshot_token_;
  auto page = store_.List(query);
  atlas::MutexLock lock(&mu_);
  if (!page.ok()) {
    finish_status_ = ToGrpcStatus(page.status());
    return false;
  }
  snapshot_token_ = page->next_page_token;
  if (snapshot_token_.empty()) {
    phase_ = Phase::kCatchUp;
    through_ = page->revision;
    synced_pending_ = true;
  }
  v1::WatchResponse message;
  message.set_type(v1::WatchResponse::TYPE_SNAPSHOT);
  message.set_revision(page->revision);
  for (auto& entity : page->entities) {
    if (filter_.MatchesEntity(entity)) {
      *message.add_snapshot() = std::move(entity);
    }
  }
  out_revision_ = delivered_;  // a snapshot page completes no revision
  if (message.snapshot_size() == 0) return false;
  out_ = SerializeResponse(message);
  out_events_ = 0;
  return true;
}

bool WatchSession::CatchUpStep() {
  uint64_t from;
  {
    atlas::MutexLock lock(&mu_);
    from = through_ + 1;
  }
  auto read = store_.ReadChanges(from, kCatchUpChunk);
  uint64_t through;
  {
    atlas::MutexLock lock(&mu_);
    if (!read.ok()) {
      finish_status_ = ToGrpcStatus(read.status());
      return false;
    }
    for (auto& set : read->sets) {
      QueueLocked(std::make_shared<const EncodedChangeSet>(
          std::make_shared<const v1::ChangeSet>(std::move(set))));
    }
    through = through_;
  }
  if (read->sets.size() < kCatchUpChunk) {
    // At the end of the log: rejoin the live path if nothing was
    // dispatched past `through` meanwhile (else the next chunk has it).
    hub_.TryGoLive(through, [this] {
      atlas::MutexLock lock(&mu_);
      phase_ = Phase::kLive;
    });
  }
  atlas::MutexLock lock(&mu_);
  if (!queue_.empty()) {
    BuildEventsLocked();
  } else if (phase_ == Phase::kLive ||
             ++chunks_without_output_ < kChunksPerProgress) {
    return false;
  } else {
    BuildMarkerLocked(v1::WatchResponse::TYPE_PROGRESS, through_);
  }
  chunks_without_output_ = 0;
  return true;
}

}  // namespace atlas::services
