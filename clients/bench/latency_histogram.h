#pragma once

// LatencyHistogram: a lock-free log-linear histogram of durations in
// nanoseconds (64 sub-buckets per power of two, so percentiles are within
// about 1.6 %). Any thread may Record while others do; read it once the
// recording threads are done.

#include <array>
#include <atomic>
#include <cstdint>

namespace atlas::bench {

class LatencyHistogram {
 public:
  void Record(int64_t nanos);

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // The q-quantile (q in [0, 1]) in milliseconds; 0 when empty.
  double QuantileMs(double q) const;
  double MeanMs() const;
  double MaxMs() const;

 private:
  static constexpr int kSubBits = 6;
  static constexpr int kLinear = 1 << (kSubBits + 1);  // exact below this
  static constexpr int kMaxExponent = 44;               // ~4.8 hours
  static constexpr int kBuckets =
      kLinear + (kMaxExponent - kSubBits) * (1 << kSubBits);

  static int BucketOf(uint64_t nanos);
  static uint64_t UpperBoundOf(int bucket);

  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace atlas::bench
