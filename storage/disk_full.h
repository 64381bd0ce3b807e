#pragma once

// How the store lives through a full disk. Private to storage/.
//
// When a WAL append or a flush fails for lack of space, RocksDB stops
// accepting writes (a "hard" background error) while reads go on. RocksDB's
// own recovery waits until the free space reaches its write-buffer reserve
// (64 MiB by default), which a small or nearly full volume may never reach,
// and meanwhile refuses DB::Resume(). DiskFullRecovery takes that job over:
// it turns RocksDB's automatic recovery off for no-space errors and retries
// DB::Resume() from a thread of its own every interval until it succeeds
// (space was freed), logging when writes stop and when they resume.
//
// InfoLogFile is RocksDB's info log (the LOG file in the store directory)
// without RocksDB's default file writer, which (in Debian's build, with
// assertions on) aborts the process on its next line after a write to the
// LOG failed for lack of space. Lines that cannot be written are dropped.

#include <memory>
#include <string>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/listener.h>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace atlas::storage {

class DiskFullRecovery final : public rocksdb::EventListener {
 public:
  explicit DiskFullRecovery(absl::Duration retry_interval);
  ~DiskFullRecovery() override;  // Stop()
  DiskFullRecovery(const DiskFullRecovery&) = delete;
  DiskFullRecovery& operator=(const DiskFullRecovery&) = delete;

  // Once the database is open; `db` must outlive Stop().
  void Start(rocksdb::DB* db);
  // Before the database closes. Idempotent; returns once the thread exited.
  void Stop();

  // rocksdb::EventListener (called on RocksDB's threads, never under its
  // database mutex).
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason,
                         rocksdb::Status* error) override;
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason reason,
                            rocksdb::Status error,
                            bool* auto_recovery) override;
  void OnErrorRecoveryEnd(
      const rocksdb::BackgroundErrorRecoveryInfo& info) override;

 private:
  void Run();

  const absl::Duration retry_interval_;
  atlas::Mutex mu_;
  rocksdb::DB* db_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // A no-space error stopped writes and DB::Resume() has not yet succeeded.
  bool writes_stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::string error_ ABSL_GUARDED_BY(mu_);  // what stopped them
  std::thread thread_;
};

class InfoLogFile final : public rocksdb::Logger {
 public:
  // Appends to `path` (created if missing); no file at all if `path` is
  // empty or cannot be opened (lines are dropped). Whenever the file has
  // outgrown `rotate_bytes` (at open, or after a line while running) it
  // becomes `path`.old, replacing the previous one, and a new file is
  // begun: the log takes at most about twice `rotate_bytes` however long
  // the store runs.
  InfoLogFile(std::string path, rocksdb::InfoLogLevel level,
              uint64_t rotate_bytes = 64 << 20);
  ~InfoLogFile() override;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;

 private:
  rocksdb::Status CloseImpl() override;
  // Moves the file to `path_`.old if it outgrew rotate_bytes_, then opens
  // `path_` for appending.
  void OpenRotating() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const uint64_t rotate_bytes_;
  atlas::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;  // the file's size
};

}  // namespace atlas::storage
