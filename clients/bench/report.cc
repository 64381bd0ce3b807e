#include "clients/bench/report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace atlas::bench {
namespace {

std::string Number(double value) {
  if (!std::isfinite(value)) return "null";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrFormat("%.0f", value);
  }
  return absl::StrFormat("%.3f", value);
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

void PrintTable(const std::vector<WorkloadResult>& results, std::ostream& out) {
  out << absl::StrFormat("%-8s %-6s %12s %-11s %9s %9s %7s  %s\n", "WORKLOAD",
                         "TARGET", "PER_SECOND", "UNIT", "P50_MS", "P99_MS",
                         "ERRORS", "DETAILS");
  for (const WorkloadResult& r : results) {
    std::string details;
    for (const auto& [key, value] : r.extras) {
      absl::StrAppend(&details, details.empty() ? "" : " ", key, "=",
                      Number(value));
    }
    if (!r.note.empty()) {
      absl::StrAppend(&details, details.empty() ? "" : " ", "(", r.note, ")");
    }
    if (r.skipped) {
      out << absl::StrFormat("%-8s %-6s %12s %-11s %9s %9s %7s  %s\n",
                             r.workload, r.target, "-", "-", "-", "-", "-",
                             details);
      continue;
    }
    out << absl::StrFormat("%-8s %-6s %12.1f %-11s %9.2f %9.2f %7d  %s\n",
                           r.workload, r.target, r.ops_per_s, r.unit, r.p50_ms,
                           r.p99_ms, r.errors, details);
  }
  out.flush();
}

std::string ToJsonLine(const WorkloadResult& r) {
  std::string line = absl::StrCat(
      "{\"workload\":", JsonString(r.workload),
      ",\"target\":", JsonString(r.target),
      ",\"ops_per_s\":", r.skipped ? "null" : Number(r.ops_per_s),
      ",\"unit\":", JsonString(r.unit),
      ",\"p50_ms\":", r.skipped ? "null" : Number(r.p50_ms),
      ",\"p99_ms\":", r.skipped ? "null" : Number(r.p99_ms),
      ",\"errors\":", r.errors);
  if (r.skipped) absl::StrAppend(&line, ",\"skipped\":true");
  for (const auto& [key, value] : r.extras) {
    absl::StrAppend(&line, ",", JsonString(key), ":", Number(value));
  }
  if (!r.note.empty()) absl::StrAppend(&line, ",\"note\":", JsonString(r.note));
  return line + "}";
}

}  // namespace atlas::bench
