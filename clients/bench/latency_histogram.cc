#include "clients/bench/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace atlas::bench {

int LatencyHistogram::BucketOf(uint64_t nanos) {
  if (nanos < static_cast<uint64_t>(kLinear)) return static_cast<int>(nanos);
  const int msb = 63 - __builtin_clzll(nanos);  // >= kSubBits + 1
  const int shift = msb - kSubBits;
  const int sub = static_cast<int>((nanos >> shift) & ((1 << kSubBits) - 1));
  const int bucket = kLinear + (shift - 1) * (1 << kSubBits) + sub;
  return std::min(bucket, kBuckets - 1);
}

uint64_t LatencyHistogram::UpperBoundOf(int bucket) {
  if (bucket < kLinear) return static_cast<uint64_t>(bucket);
  const int shift = (bucket - kLinear) / (1 << kSubBits) + 1;
  const uint64_t sub = static_cast<uint64_t>((bucket - kLinear) % (1 << kSubBits));
  const uint64_t base = (uint64_t{1} << kSubBits) | sub;
  return ((base + 1) << shift) - 1;
}

void LatencyHistogram::Record(int64_t nanos) {
  const uint64_t value = nanos < 0 ? 0 : static_cast<uint64_t>(nanos);
  counts_[BucketOf(value)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  uint64_t seen = max_.load(std::memory_order_relaxed);
  while (value > seen &&
         !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

double LatencyHistogram::QuantileMs(double q) const {
  const uint64_t total = count();
  if (total == 0) return 0;
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total))));
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b].load(std::memory_order_relaxed);
    if (seen >= rank) {
      const uint64_t bound = std::min(UpperBoundOf(b), max_.load());
      return static_cast<double>(bound) / 1e6;
    }
  }
  return MaxMs();
}

double LatencyHistogram::MeanMs() const {
  const uint64_t total = count();
  return total == 0 ? 0
                    : static_cast<double>(sum_.load()) /
                          static_cast<double>(total) / 1e6;
}

double LatencyHistogram::MaxMs() const {
  return static_cast<double>(max_.load()) / 1e6;
}

}  // namespace atlas::bench
