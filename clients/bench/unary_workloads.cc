// write, apply, read and ready: unary calls in a closed loop.

#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "clients/bench/closed_loop.h"
#include "clients/bench/payload.h"
#include "clients/bench/workloads.h"
#include "common/mutex.h"

namespace atlas::bench {
namespace {

uint64_t RandomBelow(uint64_t n) {
  thread_local std::mt19937_64 random(
      std::hash<std::thread::id>()(std::this_thread::get_id()));
  return std::uniform_int_distribution<uint64_t>(0, n - 1)(random);
}

// `units_per_op`: entities per call (apply), for the CPU per unit.
WorkloadResult FromLoop(const char* workload, const Target& target,
                        const LoopStats& stats, int units_per_op = 1) {
  WorkloadResult result;
  result.workload = workload;
  result.target = target.name();
  result.ops_per_s = stats.ops_per_s();
  result.p50_ms = stats.latency->QuantileMs(0.50);
  result.p99_ms = stats.latency->QuantileMs(0.99);
  result.errors = stats.errors;
  if (!stats.first_error.empty()) {
    result.note = absl::StrCat("first error: ", stats.first_error);
  }
  // Where the CPU goes: cores used by each side, and the server's CPU time
  // per unit (e.g. per entity of an apply).
  if (stats.server_cores >= 0 && stats.ops > 0) {
    result.Add("server_cores", stats.server_cores);
    result.Add("server_cpu_us",
               stats.server_cores * 1e6 / (stats.ops_per_s() * units_per_op));
  }
  if (stats.client_cores >= 0) result.Add("client_cores", stats.client_cores);
  return result;
}

LoopOptions MeasuredLoop(const BenchConfig& config) {
  LoopOptions options{config.concurrency, config.warmup_s, config.duration_s,
                      config.max_ops};
  options.cpu_pid = config.server_pid;
  return options;
}

}  // namespace

LoopStats Preload(const BenchConfig& config, Target& target, char space,
                  uint64_t entities, int batch) {
  LoopOptions options;
  options.warmup_s = 0;
  options.duration_s = 0;
  if (batch > 1 && target.SupportsApply()) {
    options.concurrency = 8;
    options.max_ops = (entities + batch - 1) / batch;
    return RunClosedLoop(options, [&](int slot, uint64_t sequence,
                                      OpDone done) {
      std::vector<WriteOp> ops;
      for (uint64_t key = sequence * batch;
           key < std::min<uint64_t>(entities, (sequence + 1) * batch); ++key) {
        ops.push_back({space, key, -1,
                       MakePayload(NowNanos(), key, config.payload_bytes)});
      }
      target.Apply(slot, ops, std::move(done));
    });
  }
  options.concurrency = 256;
  options.max_ops = entities;
  return RunClosedLoop(options, [&](int slot, uint64_t sequence, OpDone done) {
    target.Write(slot,
                 {space, sequence, -1,
                  MakePayload(NowNanos(), sequence, config.payload_bytes)},
                 std::move(done));
  });
}

WorkloadResult RunWrite(const BenchConfig& config, Target& target) {
  const LoopOptions options = MeasuredLoop(config);
  LoopStats stats = RunClosedLoop(options, [&](int slot, uint64_t sequence,
                                               OpDone done) {
    const uint64_t key = config.keys == 0 ? sequence : RandomBelow(config.keys);
    target.Write(
        slot,
        {'w', key, -1, MakePayload(NowNanos(), sequence, config.payload_bytes)},
        std::move(done));
  });
  WorkloadResult result = FromLoop("write", target, stats);
  result.unit = "writes";
  result.Add("concurrency", config.concurrency);
  result.Add("payload_bytes", static_cast<double>(config.payload_bytes));
  result.Add("keys", static_cast<double>(config.keys));
  return result;
}

WorkloadResult RunApply(const BenchConfig& config, Target& target) {
  if (!target.SupportsApply()) {
    WorkloadResult result;
    result.workload = "apply";
    result.target = target.name();
    result.skipped = true;
    result.note = "no multi-entity apply on this target";
    return result;
  }
  const int batch = std::max(1, config.batch);
  const LoopOptions options = MeasuredLoop(config);
  LoopStats stats =
      RunClosedLoop(options, [&](int slot, uint64_t sequence, OpDone done) {
        std::vector<WriteOp> ops;
        ops.reserve(batch);
        const int64_t now = NowNanos();
        for (int i = 0; i < batch; ++i) {
          const uint64_t key = sequence * batch + i;
          ops.push_back(
              {'a', key, -1, MakePayload(now, key, config.payload_bytes)});
        }
        target.Apply(slot, ops, std::move(done));
      });
  WorkloadResult result = FromLoop("apply", target, stats, batch);
  result.unit = "entities";
  result.ops_per_s = stats.ops_per_s() * batch;
  result.Add("calls_per_s", stats.ops_per_s());
  result.Add("batch", batch);
  result.Add("concurrency", config.concurrency);
  result.Add("payload_bytes", static_cast<double>(config.payload_bytes));
  return result;
}

WorkloadResult RunRead(const BenchConfig& config, Target& target) {
  const uint64_t keys = std::max<uint64_t>(1, config.read_keys);
  LoopStats preload = Preload(config, target, 'r', keys, 100);
  if (preload.errors > 0) {
    WorkloadResult result = FromLoop("read", target, preload);
    result.note = absl::StrCat("preload failed: ", preload.first_error);
    result.ops_per_s = 0;
    return result;
  }
  LoopOptions options = MeasuredLoop(config);
  options.max_ops = 0;
  LoopStats stats =
      RunClosedLoop(options, [&](int slot, uint64_t, OpDone done) {
        target.Read(slot, 'r', RandomBelow(keys), std::move(done));
      });
  WorkloadResult result = FromLoop("read", target, stats);
  result.unit = "reads";
  result.Add("concurrency", config.concurrency);
  result.Add("payload_bytes", static_cast<double>(config.payload_bytes));
  result.Add("keys", static_cast<double>(keys));
  return result;
}

WorkloadResult RunReady(const BenchConfig& config, Target& target) {
  WorkloadResult result;
  result.workload = "ready";
  result.target = target.name();
  result.unit = "-";
  const int64_t start = NowNanos();
  const int64_t give_up =
      start + static_cast<int64_t>(config.ready_timeout_s * 1e9);
  for (int attempt = 1;; ++attempt) {
    atlas::Notification answered;
    grpc::Status status;
    target.Read(0, 'r', 0, [&](const OpResult& op) {
      status = op.status;
      answered.Notify();
    });
    answered.WaitForNotification();
    const grpc::StatusCode code = status.error_code();
    if (code != grpc::StatusCode::UNAVAILABLE &&
        code != grpc::StatusCode::DEADLINE_EXCEEDED) {
      const double ms = static_cast<double>(NowNanos() - start) / 1e6;
      result.p50_ms = result.p99_ms = ms;
      result.Add("ready_ms", ms);
      result.Add("attempts", attempt);
      return result;
    }
    if (NowNanos() > give_up) {
      result.errors = 1;
      result.note = absl::StrCat("not serving after ", config.ready_timeout_s,
                                 " s: ", status.error_message());
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace atlas::bench
