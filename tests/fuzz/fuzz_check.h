#pragma once

// What the fuzz targets use to report a broken property: print the reason
// and abort, so libFuzzer (or the replay driver) records the input.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/stubs/logging.h"

namespace atlas::fuzz {

[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void Check(bool ok, const std::string& what) {
  if (!ok) Fail(what);
}

// Bad input must come back as a status naming the problem, never as a
// broken invariant or a storage fault.
inline void CheckInputError(const absl::Status& status,
                            const std::string& where) {
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable:
      Fail(where + " returned " + status.ToString());
    default:
      break;
  }
}

// Protobuf logs every string with invalid UTF-8 it parses; for fuzz inputs
// that is noise (and time). Call once, first thing in a target.
inline void SilenceProtobufLogs() {
  static const bool silenced = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)silenced;
}

}  // namespace atlas::fuzz
