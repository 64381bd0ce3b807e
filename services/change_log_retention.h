#pragma once

// Bounds the change log to the most recent revisions: every interval a
// background thread drops change-log entries older than the newest
// `keep_revisions` revisions. Entities and their history are not touched.

#include <cstdint>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "storage/store.h"

namespace atlas::services {

class ChangeLogRetention {
 public:
  // keep_revisions 0 keeps everything (Start() then runs no thread).
  ChangeLogRetention(storage::Store& store, uint64_t keep_revisions,
                     absl::Duration interval);
  ~ChangeLogRetention();  // Stops the thread.
  ChangeLogRetention(const ChangeLogRetention&) = delete;
  ChangeLogRetention& operator=(const ChangeLogRetention&) = delete;

  void Start();
  // Idempotent; returns once the thread has exited.
  void Stop();

  // One pass: compacts the change log to keep the newest `keep_revisions`.
  absl::Status EnforceOnce();

 private:
  void Run();

  storage::Store& store_;
  const uint64_t keep_revisions_;
  const absl::Duration interval_;
  atlas::Notification stop_;
  std::thread thread_;
};

}  // namespace atlas::services
