#include "storage/disk_full.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/log.h"

namespace atlas::storage {

DiskFullRecovery::DiskFullRecovery(absl::Duration retry_interval)
    : retry_interval_(retry_interval) {}

DiskFullRecovery::~DiskFullRecovery() { Stop(); }

void DiskFullRecovery::Start(rocksdb::DB* db) {
  atlas::MutexLock lock(&mu_);
  if (db_ != nullptr || stopping_) return;
  db_ = db;
  thread_ = std::thread([this] { Run(); });
}

void DiskFullRecovery::Stop() {
  {
    atlas::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void DiskFullRecovery::OnBackgroundError(rocksdb::BackgroundErrorReason,
                                         rocksdb::Status* error) {
  if (error == nullptr || !error->IsNoSpace()) return;
  atlas::MutexLock lock(&mu_);
  if (writes_stopped_) return;  // already known (e.g. a failed Resume)
  writes_stopped_ = true;
  error_ = error->ToString();
}

void DiskFullRecovery::OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason,
                                            rocksdb::Status error,
                                            bool* auto_recovery) {
  // Ours retries DB::Resume() instead (see the header); other errors keep
  // RocksDB's own handling.
  if (error.IsNoSpace()) *auto_recovery = false;
}

void DiskFullRecovery::OnErrorRecoveryEnd(
    const rocksdb::BackgroundErrorRecoveryInfo& info) {
  if (!info.new_bg_error.ok()) return;
  atlas::MutexLock lock(&mu_);
  if (!writes_stopped_) return;
  writes_stopped_ = false;
  log::Info("storage", "disk space available again: writes resumed");
}

// Writes count as stopped from the first no-space error until RocksDB
// reports a completed recovery: DB::Resume() also returns OK when it finds
// nothing to do, which it does if it runs before RocksDB has recorded the
// error it is telling listeners about.
void DiskFullRecovery::Run() {
  bool announced = false;
  mu_.Lock();
  while (true) {
    mu_.AwaitWithTimeout(
        [this, &announced]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return stopping_ || (writes_stopped_ && !announced);
        },
        retry_interval_);
    if (stopping_) break;
    if (!writes_stopped_) {
      announced = false;
      continue;
    }
    rocksdb::DB* db = db_;
    if (!announced) {
      announced = true;
      log::Error("storage",
                 "disk full: writes are refused until space is freed; reads "
                 "and watches go on",
                 {{"error", error_}});
      continue;  // first attempt after one interval
    }
    // DB::Resume() flushes and opens a new WAL; it runs unlocked, and it
    // reports back through OnBackgroundError / OnErrorRecoveryEnd.
    mu_.Unlock();
    (void)db->Resume();
    mu_.Lock();
  }
  mu_.Unlock();
}

InfoLogFile::InfoLogFile(std::string path, rocksdb::InfoLogLevel level,
                         uint64_t rotate_bytes)
    : rocksdb::Logger(level),
      path_(std::move(path)),
      rotate_bytes_(rotate_bytes) {
  if (path_.empty()) return;
  atlas::MutexLock lock(&mu_);
  OpenRotating();
}

void InfoLogFile::OpenRotating() {
  if (fd_ >= 0) ::close(fd_);
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path_, error);
  bytes_ = error ? 0 : size;
  if (bytes_ > rotate_bytes_) {
    std::filesystem::rename(path_, path_ + ".old", error);
    if (!error) bytes_ = 0;
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

InfoLogFile::~InfoLogFile() { (void)CloseImpl(); }

rocksdb::Status InfoLogFile::CloseImpl() {
  atlas::MutexLock lock(&mu_);
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  return rocksdb::Status::OK();
}

void InfoLogFile::Logv(const char* format, va_list ap) {
  char text[1024];
  va_list copy;
  va_copy(copy, ap);
  const int n = std::vsnprintf(text, sizeof(text), format, copy);
  va_end(copy);
  if (n < 0) return;
  const std::string line = absl::StrCat(
      absl::FormatTime("%Y/%m/%d-%H:%M:%E6S ", absl::Now(), absl::UTCTimeZone()),
      text, "\n");
  atlas::MutexLock lock(&mu_);
  if (fd_ < 0) return;
  // One write(2) per line; a failed one (a full disk) loses this line only.
  const ssize_t written = ::write(fd_, line.data(), line.size());
  if (written > 0) bytes_ += static_cast<uint64_t>(written);
  if (bytes_ > rotate_bytes_) OpenRotating();
}

}  // namespace atlas::storage
