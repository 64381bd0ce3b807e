#pragma once

// What a workload measured, and how atlas-bench prints it: a readable table
// and, with --json, one JSON object per workload per line.

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace atlas::bench {

struct WorkloadResult {
  std::string workload;
  std::string target;  // "atlas" or "etcd"
  // Throughput in `unit`s per second and latency percentiles (what the
  // latency measures depends on the workload; see atlas-bench --help).
  double ops_per_s = 0;
  std::string unit = "ops";
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t errors = 0;
  // Further figures, in order (e.g. "rss_after_mb").
  std::vector<std::pair<std::string, double>> extras;
  // Why the workload was skipped or failed, or the first error.
  std::string note;
  bool skipped = false;

  void Add(std::string key, double value) {
    extras.emplace_back(std::move(key), value);
  }
};

void PrintTable(const std::vector<WorkloadResult>& results, std::ostream& out);
// One line, no trailing newline.
std::string ToJsonLine(const WorkloadResult& result);

}  // namespace atlas::bench
