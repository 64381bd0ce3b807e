#pragma once

// Resident memory and CPU time of a process (another, or this one), from
// /proc/PID/status and /proc/PID/stat.

#include <cstdint>

#include "absl/status/statusor.h"

namespace atlas::bench {

struct ProcessMemory {
  uint64_t rss_kb = 0;  // VmRSS
  uint64_t hwm_kb = 0;  // VmHWM, the peak
};

absl::StatusOr<ProcessMemory> ReadProcessMemory(int pid);

// User plus system CPU time the process has used so far, in seconds.
absl::StatusOr<double> ReadProcessCpuSeconds(int pid);

}  // namespace atlas::bench
