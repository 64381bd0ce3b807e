#include "services/change_log_retention.h"

#include "common/log.h"

namespace atlas::services {

ChangeLogRetention::ChangeLogRetention(storage::Store& store,
                                       uint64_t keep_revisions,
                                       absl::Duration interval)
    : store_(store), keep_revisions_(keep_revisions), interval_(interval) {}

ChangeLogRetention::~ChangeLogRetention() { Stop(); }

void ChangeLogRetention::Start() {
  if (keep_revisions_ == 0 || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void ChangeLogRetention::Stop() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

absl::Status ChangeLogRetention::EnforceOnce() {
  if (keep_revisions_ == 0) return absl::OkStatus();
  const uint64_t current = store_.CurrentRevision();
  if (current < keep_revisions_) return absl::OkStatus();
  return store_.CompactChangeLog(current - keep_revisions_ + 1);
}

void ChangeLogRetention::Run() {
  while (!stop_.WaitForNotificationWithTimeout(interval_)) {
    absl::Status status = EnforceOnce();
    // A failed pass is retried at the next interval; nothing else waits on it.
    if (!status.ok()) {
      log::Warning("retention", "change-log retention failed; retrying",
                   {{"error", status.ToString()}});
    }
  }
}

}  // namespace atlas::services
