#pragma once

// The bytes a benchmark write carries: "t=<ns>;s=<seq>;" then filler up to
// the payload size. `t` is the writer's monotonic clock when the write was
// issued, so a subscriber in the same process can measure write->delivery
// latency from the event alone. Atlas carries it in document.summary, etcd
// as the value.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace atlas::bench {

// Monotonic clock, nanoseconds.
int64_t NowNanos();

std::string MakePayload(int64_t written_ns, uint64_t sequence, size_t bytes);

// The `t` of a payload, or 0 if it has none.
int64_t WrittenNanos(absl::string_view payload);

}  // namespace atlas::bench
