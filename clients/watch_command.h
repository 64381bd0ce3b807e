#pragma once

// atlasctl watch: follow the change stream, resuming across broken streams
// and restarts without losing or repeating a change.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "atlas/v1/atlas_service.pb.h"
#include "clients/command_context.h"

namespace atlas::client {

struct WatchOptions {
  atlas::v1::WatchFilter filter;
  // Start at this revision (inclusive); 0: start now.
  uint64_t from_revision = 0;
  // Start with the matching entities, then changes.
  bool snapshot = false;
  bool include_before = false;
  // File recording the last revision fully delivered. If it exists at start,
  // watching resumes after it (from_revision and snapshot are then ignored).
  std::string checkpoint;
  // Stop after printing this many events (snapshot entities count); 0: never.
  uint64_t max_events = 0;
};

// Runs until max_events are printed or a non-retryable error. UNAVAILABLE and
// other transient failures (and a stream the server ends) reconnect after
// 100 ms, doubling to 5 s, from the last delivered revision + 1.
absl::Status RunWatch(const WatchOptions& options, CommandContext& context);

// Whether a Watch stream that ended with `code` should be resumed.
bool IsRetryable(grpc::StatusCode code);

}  // namespace atlas::client
