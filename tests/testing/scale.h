#pragma once

// Load sizes for tests: full size normally; smaller under sanitizers, which
// run the same code 5-20x slower (the full sizes are covered by the normal
// build of the same tests).

namespace atlas::testing {

#ifdef ATLAS_SANITIZER_BUILD
inline constexpr int kLoadDivisor = 5;
#else
inline constexpr int kLoadDivisor = 1;
#endif

constexpr int Scaled(int full) { return full / kLoadDivisor > 0 ? full / kLoadDivisor : 1; }

}  // namespace atlas::testing
