#include "clients/bench/process_stats.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

absl::StatusOr<double> ReadProcessCpuSeconds(int pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  std::ifstream in(path);
  const std::string stat((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  // "PID (comm) state ppid ...": comm may hold spaces and parentheses, so
  // the fields are counted from the last ')'. utime and stime are fields 14
  // and 15 of proc(5), in clock ticks.
  const size_t comm_end = stat.rfind(')');
  if (comm_end == std::string::npos) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  const std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(stat).substr(comm_end + 1), ' ', absl::SkipEmpty());
  uint64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::DataLossError(absl::StrCat("no utime/stime in ", path));
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace atlas::bench
