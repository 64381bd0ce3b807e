#pragma once

// Resident memory of another process, from /proc/PID/status.

#include <cstdint>

#include "absl/status/statusor.h"

namespace atlas::bench {

struct ProcessMemory {
  uint64_t rss_kb = 0;  // VmRSS
  uint64_t hwm_kb = 0;  // VmHWM, the peak
};

absl::StatusOr<ProcessMemory> ReadProcessMemory(int pid);

}  // namespace atlas::bench
