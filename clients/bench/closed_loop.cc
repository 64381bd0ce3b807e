#include "clients/bench/closed_loop.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "clients/bench/payload.h"
#include "clients/bench/process_stats.h"
#include "common/mutex.h"

namespace atlas::bench {
namespace {

// CPU time of the server and of this process between Start and Stop.
struct CpuUse {
  void Start(int pid) {
    pid_ = pid;
    start_ns_ = NowNanos();
    server_ = ReadProcessCpuSeconds(pid);
    client_ = ReadProcessCpuSeconds(getpid());
  }
  void Stop() {
    if (pid_ == 0) return;
    const double seconds = static_cast<double>(NowNanos() - start_ns_) / 1e9;
    if (seconds <= 0) return;
    absl::StatusOr<double> server = ReadProcessCpuSeconds(pid_);
    absl::StatusOr<double> client = ReadProcessCpuSeconds(getpid());
    if (server.ok() && server_.ok())
      server_cores = (*server - *server_) / seconds;
    if (client.ok() && client_.ok())
      client_cores = (*client - *client_) / seconds;
  }

  double server_cores = -1;
  double client_cores = -1;

 private:
  int pid_ = 0;
  int64_t start_ns_ = 0;
  absl::StatusOr<double> server_ = absl::UnknownError("not started");
  absl::StatusOr<double> client_ = absl::UnknownError("not started");
};

class ClosedLoop {
 public:
  ClosedLoop(const LoopOptions& options, const IssueFn& issue)
      : options_(options), issue_(issue) {}

  LoopStats Run() {
    const int64_t start = NowNanos();
    measure_from_ = start + static_cast<int64_t>(options_.warmup_s * 1e9);
    stop_at_ =
        options_.max_ops > 0 && options_.duration_s <= 0
            ? std::numeric_limits<int64_t>::max()
            : measure_from_ + static_cast<int64_t>(options_.duration_s * 1e9);
    {
      atlas::MutexLock lock(&mu_);
      active_ = std::max(1, options_.concurrency);
    }
    for (int slot = 0; slot < std::max(1, options_.concurrency); ++slot) {
      IssueNext(slot);
    }
    atlas::MutexLock lock(&mu_);
    CpuUse cpu;
    if (options_.cpu_pid > 0) {
      // Until the warm-up ends, then until the time is up (or all ops done).
      mu_.AwaitWithTimeout([this] { return active_ == 0; },
                           absl::Nanoseconds(measure_from_ - NowNanos()));
      cpu.Start(options_.cpu_pid);
      mu_.AwaitWithTimeout([this] { return active_ == 0; },
                           stop_at_ == std::numeric_limits<int64_t>::max()
                               ? absl::InfiniteDuration()
                               : absl::Nanoseconds(stop_at_ - NowNanos()));
      cpu.Stop();
    }
    mu_.Await([this] { return active_ == 0; });

    LoopStats stats;
    stats.ops = ops_.load();
    stats.errors = errors_.load();
    const int64_t window_end =
        std::min(stop_at_, std::max(last_done_.load(), measure_from_));
    stats.seconds = static_cast<double>(window_end - measure_from_) / 1e9;
    stats.latency = std::move(latency_);
    stats.min_revision = min_revision_.load();
    stats.max_revision = max_revision_.load();
    stats.first_error = first_error_;
    stats.server_cores = cpu.server_cores;
    stats.client_cores = cpu.client_cores;
    return stats;
  }

 private:
  void IssueNext(int slot) {
    const uint64_t sequence = next_.fetch_add(1, std::memory_order_relaxed);
    const int64_t start = NowNanos();
    if ((options_.max_ops > 0 && sequence >= options_.max_ops) ||
        start >= stop_at_) {
      atlas::MutexLock lock(&mu_);
      --active_;
      return;
    }
    issue_(slot, sequence, [this, slot, start](const OpResult& result) {
      Completed(start, result);
      IssueNext(slot);
    });
  }

  void Completed(int64_t start, const OpResult& result) {
    const int64_t end = NowNanos();
    if (!result.status.ok()) {
      if (errors_.fetch_add(1) == 0) {
        atlas::MutexLock lock(&mu_);
        first_error_ = absl::StrCat(result.status.error_code(), ": ",
                                    result.status.error_message());
      }
      return;
    }
    uint64_t seen = min_revision_.load();
    while (result.revision < seen &&
           !min_revision_.compare_exchange_weak(seen, result.revision)) {
    }
    seen = max_revision_.load();
    while (result.revision > seen &&
           !max_revision_.compare_exchange_weak(seen, result.revision)) {
    }
    if (start >= measure_from_ && end <= stop_at_) {
      ops_.fetch_add(1, std::memory_order_relaxed);
      latency_->Record(end - start);
      int64_t last = last_done_.load();
      while (end > last && !last_done_.compare_exchange_weak(last, end)) {
      }
    }
  }

  const LoopOptions options_;
  const IssueFn& issue_;
  int64_t measure_from_ = 0;
  int64_t stop_at_ = 0;
  std::atomic<uint64_t> next_{0};
  std::atomic<uint64_t> ops_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<int64_t> last_done_{0};
  std::atomic<uint64_t> min_revision_{std::numeric_limits<uint64_t>::max()};
  std::atomic<uint64_t> max_revision_{0};
  std::unique_ptr<LatencyHistogram> latency_ =
      std::make_unique<LatencyHistogram>();
  atlas::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

LoopStats RunClosedLoop(const LoopOptions& options, const IssueFn& issue) {
  ClosedLoop loop(options, issue);
  return loop.Run();
}

}  // namespace atlas::bench
