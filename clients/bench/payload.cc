#include "clients/bench/payload.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace atlas::bench {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string MakePayload(int64_t written_ns, uint64_t sequence, size_t bytes) {
  std::string payload = absl::StrCat("t=", written_ns, ";s=", sequence, ";");
  if (payload.size() < bytes) payload.append(bytes - payload.size(), 'x');
  return payload;
}

int64_t WrittenNanos(absl::string_view payload) {
  if (payload.size() < 3 || payload[0] != 't' || payload[1] != '=') return 0;
  int64_t value = 0;
  for (size_t i = 2; i < payload.size() && payload[i] >= '0' && payload[i] <= '9';
       ++i) {
    value = value * 10 + (payload[i] - '0');
  }
  return value;
}

}  // namespace atlas::bench
