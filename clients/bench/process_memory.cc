#include "clients/bench/process_memory.h"

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace atlas::bench {
namespace {

// "VmRSS:\t  123456 kB" -> 123456
bool ParseKb(absl::string_view line, absl::string_view key, uint64_t& out) {
  if (!absl::ConsumePrefix(&line, key)) return false;
  line = absl::StripAsciiWhitespace(line);
  absl::ConsumeSuffix(&line, "kB");
  return absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &out);
}

}  // namespace

absl::StatusOr<ProcessMemory> ReadProcessMemory(int pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  ProcessMemory memory;
  bool found = false;
  for (std::string line; std::getline(in, line);) {
    found |= ParseKb(line, "VmRSS:", memory.rss_kb);
    ParseKb(line, "VmHWM:", memory.hwm_kb);
  }
  if (!found) return absl::NotFoundError(absl::StrCat("no VmRSS in ", path));
  return memory;
}

}  // namespace atlas::bench
