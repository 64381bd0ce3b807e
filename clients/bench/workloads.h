#pragma once

// The atlas-bench workloads. Each runs against one Target and returns what
// it measured; see the flag help in bench_main.cc for what each measures.

#include <cstdint>
#include <string>
#include <vector>

#include "clients/bench/closed_loop.h"
#include "clients/bench/report.h"
#include "clients/bench/target.h"

namespace atlas::bench {

struct BenchConfig {
  double duration_s = 10;
  double warmup_s = 1;
  int concurrency = 256;
  size_t payload_bytes = 1024;
  // write: 0 = a new key per write; N = uniformly over N keys (1: one hot key).
  uint64_t keys = 0;
  // read: keys written first, then read uniformly.
  uint64_t read_keys = 10'000;
  // apply: entities per call.
  int batch = 100;
  // write/apply: stop after this many calls (0: run for duration_s).
  uint64_t max_ops = 0;
  // fanout
  int subscribers = 1000;
  int topics = 10;
  double rate = 1000;
  double drain_s = 5;
  // idle
  int streams = 10'000;  // watches, in fact
  int watches_per_stream = 1;
  int server_pid = 0;
  double hold_s = 5;
  // catchup: events written first (entities per write: catchup_batch, by
  // ApplyEntities when > 1), then replayed by one subscriber.
  uint64_t catchup_events = 100'000;
  int catchup_batch = 1;
  // ready: give up after this long.
  double ready_timeout_s = 30;
};

const std::vector<std::string>& WorkloadNames();

WorkloadResult RunWorkload(const std::string& workload,
                           const BenchConfig& config, Target& target);

// Writes `entities` new keys 0..entities-1 of `space` (by ApplyEntities
// calls of `batch` when the target has them and batch > 1, else one write
// per key); the stats carry the revisions written.
LoopStats Preload(const BenchConfig& config, Target& target, char space,
                  uint64_t entities, int batch);

// The individual workloads (unary_workloads.cc, watch_workloads.cc).
WorkloadResult RunWrite(const BenchConfig& config, Target& target);
WorkloadResult RunApply(const BenchConfig& config, Target& target);
WorkloadResult RunRead(const BenchConfig& config, Target& target);
WorkloadResult RunReady(const BenchConfig& config, Target& target);
WorkloadResult RunFanout(const BenchConfig& config, Target& target);
WorkloadResult RunIdle(const BenchConfig& config, Target& target);
WorkloadResult RunCatchup(const BenchConfig& config, Target& target);

}  // namespace atlas::bench
