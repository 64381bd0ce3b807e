// fanout, idle and catchup: workloads built on Watch streams.

#include <atomic>
#include <memory>
#include <thread>
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/bench/latency_histogram.h"
#include "clients/bench/payload.h"
#include "clients/bench/process_stats.h"
#include "clients/bench/workloads.h"
#include "common/mutex.h"

namespace atlas::bench {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Watch streams opened together: counts how many of their watches are ready
// and done.
class StreamGroup {
 public:
  // One stream with one watch per spec. `on_event` may be empty.
  void Open(Target& target, int lane, const std::vector<WatchSpec>& specs,
            std::function<void(uint64_t, int64_t)> on_event) {
    const int watches = static_cast<int>(specs.size());
    const int64_t opened = NowNanos();
    WatchCallbacks callbacks;
    callbacks.on_ready = [this, opened] {
      open_latency_.Record(NowNanos() - opened);
      atlas::MutexLock lock(&mu_);
      ++ready_;
      last_ready_ = NowNanos();
    };
    callbacks.on_event = on_event ? std::move(on_event)
                                  : [](uint64_t, int64_t) {};
    callbacks.on_done = [this, watches](const grpc::Status& status) {
      atlas::MutexLock lock(&mu_);
      done_ += watches;
      if (!cancelling_ && !status.ok() && first_error_.empty()) {
        first_error_ = absl::StrCat(status.error_code(), ": ",
                                    status.error_message());
      }
      if (!cancelling_) failed_ += watches;
    };
    {
      atlas::MutexLock lock(&mu_);
      opened_ += watches;
    }
    streams_.push_back(target.Watch(lane, specs, std::move(callbacks)));
  }

  // Waits until every watch is ready or has ended; false on timeout.
  bool AwaitReady(double timeout_s) {
    atlas::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        [this] { return ready_ + failed_ >= opened_; },
        absl::Seconds(timeout_s));
  }

  // Cancels every stream and waits for them to end.
  void CancelAll() {
    {
      atlas::MutexLock lock(&mu_);
      cancelling_ = true;
    }
    for (auto& stream : streams_) stream->Cancel();
    atlas::MutexLock lock(&mu_);
    mu_.Await([this] { return done_ >= opened_; });
    streams_.clear();
  }

  int ready() {
    atlas::MutexLock lock(&mu_);
    return ready_;
  }
  int failed() {
    atlas::MutexLock lock(&mu_);
    return failed_;
  }
  std::string first_error() {
    atlas::MutexLock lock(&mu_);
    return first_error_;
  }
  int64_t last_ready() {
    atlas::MutexLock lock(&mu_);
    return last_ready_;
  }
  const LatencyHistogram& open_latency() const { return open_latency_; }

 private:
  std::vector<std::unique_ptr<WatchStream>> streams_;
  LatencyHistogram open_latency_;
  atlas::Mutex mu_;
  int opened_ ABSL_GUARDED_BY(mu_) = 0;
  int ready_ ABSL_GUARDED_BY(mu_) = 0;
  int done_ ABSL_GUARDED_BY(mu_) = 0;
  int failed_ ABSL_GUARDED_BY(mu_) = 0;
  bool cancelling_ ABSL_GUARDED_BY(mu_) = false;
  int64_t last_ready_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

WorkloadResult Failed(const char* workload, const Target& target,
                      std::string why) {
  WorkloadResult result;
  result.workload = workload;
  result.target = target.name();
  result.errors = 1;
  result.note = std::move(why);
  return result;
}

double Mb(uint64_t kb) { return static_cast<double>(kb) * 1024.0 / kMiB; }

}  // namespace

WorkloadResult RunFanout(const BenchConfig& config, Target& target) {
  const int topics = std::max(1, config.topics);
  if (absl::Status setup = target.Setup(topics); !setup.ok()) {
    return Failed("fanout", target, std::string(setup.message()));
  }
  std::vector<uint64_t> subscribers_of(topics, 0);
  // Write timestamps inside [measure_from, measure_until) are measured.
  std::atomic<int64_t> measure_from{std::numeric_limits<int64_t>::max()};
  std::atomic<int64_t> measure_until{std::numeric_limits<int64_t>::max()};
  std::atomic<uint64_t> delivered{0};
  LatencyHistogram delivery_latency;
  auto on_event = [&](uint64_t, int64_t written) {
    if (written < measure_from.load(std::memory_order_relaxed) ||
        written >= measure_until.load(std::memory_order_relaxed)) {
      return;
    }
    delivery_latency.Record(NowNanos() - written);
    delivered.fetch_add(1, std::memory_order_relaxed);
  };

  // Subscriber s filters on topic s % topics; --watches_per_stream of them
  // share a stream.
  StreamGroup group;
  const int per_stream = std::max(1, config.watches_per_stream);
  int streams = 0;
  for (int first = 0; first < config.subscribers; first += per_stream) {
    std::vector<WatchSpec> specs;
    for (int s = first; s < std::min(first + per_stream, config.subscribers);
         ++s) {
      ++subscribers_of[s % topics];
      specs.push_back({'f', s % topics, 0});
    }
    group.Open(target, streams++, specs, on_event);
  }
  if (!group.AwaitReady(120) || group.failed() > 0) {
    group.CancelAll();
    return Failed("fanout", target,
                  absl::StrCat("subscribers did not start: ", group.ready(),
                               " ready, ", group.failed(), " failed; ",
                               group.first_error()));
  }

  // Writers: open loop at config.rate, each write to one topic in turn.
  LatencyHistogram write_latency;
  std::atomic<uint64_t> acked{0};     // measured writes acknowledged
  std::atomic<uint64_t> expected{0};  // deliveries they owe
  std::atomic<uint64_t> write_errors{0};
  std::atomic<int64_t> in_flight{0};
  std::string first_write_error;
  atlas::Mutex error_mu;
  const int64_t begin = NowNanos();
  measure_from = begin + static_cast<int64_t>(config.warmup_s * 1e9);
  measure_until =
      measure_from.load() + static_cast<int64_t>(config.duration_s * 1e9);
  const double interval_ns = 1e9 / std::max(1.0, config.rate);
  for (uint64_t i = 0;; ++i) {
    const int64_t due = begin + static_cast<int64_t>(i * interval_ns);
    if (due >= measure_until.load()) break;
    const int64_t now = NowNanos();
    if (due > now) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
    }
    const int topic = static_cast<int>(i % topics);
    const int64_t written = NowNanos();
    in_flight.fetch_add(1);
    target.Write(
        static_cast<int>(i), {'f', i, topic,
                              MakePayload(written, i, config.payload_bytes)},
        [&, topic, written](const OpResult& result) {
          if (!result.status.ok()) {
            if (write_errors.fetch_add(1) == 0) {
              atlas::MutexLock lock(&error_mu);
              first_write_error = result.status.error_message();
            }
          } else if (written >= measure_from.load() &&
                     written < measure_until.load()) {
            write_latency.Record(NowNanos() - written);
            acked.fetch_add(1);
            expected.fetch_add(subscribers_of[topic]);
          }
          in_flight.fetch_sub(1);
        });
  }
  while (in_flight.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Let the last deliveries arrive.
  const int64_t drain_until =
      NowNanos() + static_cast<int64_t>(config.drain_s * 1e9);
  while (delivered.load() < expected.load() && NowNanos() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int stream_failures = group.failed();
  const std::string stream_error = group.first_error();
  group.CancelAll();

  WorkloadResult result;
  result.workload = "fanout";
  result.target = target.name();
  result.unit = "deliveries";
  result.ops_per_s = delivered.load() / config.duration_s;
  result.p50_ms = delivery_latency.QuantileMs(0.50);
  result.p99_ms = delivery_latency.QuantileMs(0.99);
  const uint64_t missing =
      expected.load() > delivered.load() ? expected.load() - delivered.load()
                                         : 0;
  result.errors = write_errors.load() + stream_failures + missing;
  result.Add("subscribers", config.subscribers);
  result.Add("watches_per_stream", per_stream);
  result.Add("topics", topics);
  result.Add("writes_per_s", acked.load() / config.duration_s);
  result.Add("write_p50_ms", write_latency.QuantileMs(0.50));
  result.Add("write_p99_ms", write_latency.QuantileMs(0.99));
  result.Add("delivery_max_ms", delivery_latency.MaxMs());
  result.Add("expected", static_cast<double>(expected.load()));
  result.Add("missing", static_cast<double>(missing));
  result.Add("payload_bytes", static_cast<double>(config.payload_bytes));
  if (!first_write_error.empty()) {
    result.note = absl::StrCat("first write error: ", first_write_error);
  } else if (!stream_error.empty()) {
    result.note = absl::StrCat("first stream error: ", stream_error);
  }
  return result;
}

WorkloadResult RunIdle(const BenchConfig& config, Target& target) {
  absl::StatusOr<ProcessMemory> before{absl::NotFoundError("no --server_pid")};
  if (config.server_pid > 0) before = ReadProcessMemory(config.server_pid);
  StreamGroup group;
  const int64_t start = NowNanos();
  // A topic nothing is written to: the streams stay idle.
  constexpr int kIdleTopic = 1'000'000;
  const int per_stream = std::max(1, config.watches_per_stream);
  int streams = 0;
  for (int opened = 0; opened < config.streams; opened += per_stream) {
    const int watches = std::min(per_stream, config.streams - opened);
    group.Open(target, streams++,
               std::vector<WatchSpec>(watches, {'i', kIdleTopic, 0}), nullptr);
  }
  const bool all_ready = group.AwaitReady(300);
  const double open_s = static_cast<double>(group.last_ready() - start) / 1e9;
  absl::StatusOr<ProcessMemory> opened{absl::NotFoundError("")};
  absl::StatusOr<ProcessMemory> held{absl::NotFoundError("")};
  if (config.server_pid > 0) opened = ReadProcessMemory(config.server_pid);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int64_t>(config.hold_s * 1000)));
  if (config.server_pid > 0) held = ReadProcessMemory(config.server_pid);
  const int ready = group.ready();
  const int failed = group.failed();
  const std::string error = group.first_error();
  group.CancelAll();

  WorkloadResult result;
  result.workload = "idle";
  result.target = target.name();
  result.unit = "opens";
  result.ops_per_s = open_s > 0 ? ready / open_s : 0;
  result.p50_ms = group.open_latency().QuantileMs(0.50);
  result.p99_ms = group.open_latency().QuantileMs(0.99);
  result.errors = static_cast<uint64_t>(failed) +
                  (all_ready ? 0 : config.streams - ready - failed);
  result.Add("watches", config.streams);
  result.Add("watches_per_stream", per_stream);
  result.Add("grpc_streams", streams);
  result.Add("ready", ready);
  if (before.ok() && held.ok()) {
    result.Add("rss_before_mb", Mb(before->rss_kb));
    result.Add("rss_open_mb", Mb(opened.ok() ? opened->rss_kb : 0));
    result.Add("rss_after_mb", Mb(held->rss_kb));
    result.Add("rss_delta_mb", Mb(held->rss_kb) - Mb(before->rss_kb));
    result.Add("kb_per_watch",
               ready > 0 ? (static_cast<double>(held->rss_kb) -
                            static_cast<double>(before->rss_kb)) /
                               ready
                         : 0);
    result.Add("hwm_mb", Mb(held->hwm_kb));
  } else {
    result.note = config.server_pid > 0
                      ? std::string(before.ok() ? held.status().message()
                                                : before.status().message())
                      : "no --server_pid: server memory not measured";
  }
  if (!error.empty()) result.note = absl::StrCat("first error: ", error);
  return result;
}

WorkloadResult RunCatchup(const BenchConfig& config, Target& target) {
  const uint64_t events = std::max<uint64_t>(1, config.catchup_events);
  const int batch =
      target.SupportsApply() ? std::max(1, config.catchup_batch) : 1;
  const int64_t preload_start = NowNanos();
  LoopStats preload = Preload(config, target, 'c', events, batch);
  const double preload_s =
      static_cast<double>(NowNanos() - preload_start) / 1e9;
  if (preload.errors > 0 || preload.max_revision == 0) {
    return Failed("catchup", target,
                  absl::StrCat("preload failed: ", preload.first_error));
  }
  const uint64_t low = preload.min_revision;
  const uint64_t high = preload.max_revision;

  LatencyHistogram arrival;  // time from the watch start to each event
  std::atomic<uint64_t> received{0};
  atlas::Notification all_received;
  StreamGroup group;
  const int64_t start = NowNanos();
  group.Open(target, 0, {{'c', -1, low}}, [&](uint64_t revision, int64_t) {
    if (revision < low || revision > high) return;
    arrival.Record(NowNanos() - start);
    if (received.fetch_add(1) + 1 == events) all_received.Notify();
  });
  const bool complete = all_received.WaitForNotificationWithTimeout(
      absl::Seconds(std::max(60.0, events / 1000.0)));
  const double seconds =
      static_cast<double>(arrival.MaxMs()) / 1e3;  // last arrival
  const std::string error = group.first_error();
  group.CancelAll();

  WorkloadResult result;
  result.workload = "catchup";
  result.target = target.name();
  result.unit = "events";
  result.ops_per_s = seconds > 0 ? received.load() / seconds : 0;
  // Time until half / 99 % of the log had arrived.
  result.p50_ms = arrival.QuantileMs(0.50);
  result.p99_ms = arrival.QuantileMs(0.99);
  result.errors = complete ? 0 : events - received.load();
  result.Add("events", static_cast<double>(events));
  result.Add("received", static_cast<double>(received.load()));
  result.Add("entities_per_revision", batch);
  result.Add("payload_bytes", static_cast<double>(config.payload_bytes));
  result.Add("preload_s", preload_s);
  if (!error.empty()) result.note = absl::StrCat("stream error: ", error);
  return result;
}

}  // namespace atlas::bench
