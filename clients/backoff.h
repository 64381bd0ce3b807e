#pragma once

// Exponential reconnect delays: 100 ms, 200 ms, ... doubling up to 5 s.

#include <algorithm>
#include <chrono>

namespace atlas::client {

class Backoff {
 public:
  using Delay = std::chrono::milliseconds;

  explicit Backoff(Delay initial = Delay(100), Delay maximum = Delay(5000))
      : initial_(initial), maximum_(maximum), next_(initial) {}

  // The delay before the next attempt; each call doubles the following one.
  Delay Next() {
    const Delay delay = next_;
    next_ = std::min(next_ * 2, maximum_);
    return delay;
  }

  // After a successful attempt the next failure waits `initial` again.
  void Reset() { next_ = initial_; }

 private:
  Delay initial_;
  Delay maximum_;
  Delay next_;
};

}  // namespace atlas::client
