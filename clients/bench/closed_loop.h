#pragma once

// RunClosedLoop: `concurrency` slots, each issuing its next operation as soon
// as the previous one completes, until the time is up (or max_ops were
// issued). Operations that start after the warm-up and complete before the
// end are measured.

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "clients/bench/latency_histogram.h"
#include "clients/bench/target.h"

namespace atlas::bench {

struct LoopOptions {
  int concurrency = 256;
  double warmup_s = 1;
  double duration_s = 10;
  // Stop after issuing this many operations (0: no limit). The measured
  // window then ends at the last completion.
  uint64_t max_ops = 0;
  // If > 0, also measure how many cores this process (e.g. the server's)
  // used over the measured window.
  int cpu_pid = 0;
};

// Issues operation number `sequence` (0, 1, ... in issue order) on behalf of
// `slot`; must call `done` exactly once, asynchronously.
using IssueFn = std::function<void(int slot, uint64_t sequence, OpDone done)>;

struct LoopStats {
  uint64_t ops = 0;     // measured successful operations
  uint64_t errors = 0;  // failed operations, measured or not
  double seconds = 0;   // length of the measured window
  std::unique_ptr<LatencyHistogram> latency;
  // Revisions reported by successful operations.
  uint64_t min_revision = std::numeric_limits<uint64_t>::max();
  uint64_t max_revision = 0;
  std::string first_error;
  // Cores used over the measured window by options.cpu_pid and by this
  // process (the client); negative when not measured.
  double server_cores = -1;
  double client_cores = -1;

  double ops_per_s() const { return seconds > 0 ? ops / seconds : 0; }
};

LoopStats RunClosedLoop(const LoopOptions& options, const IssueFn& issue);

}  // namespace atlas::bench
