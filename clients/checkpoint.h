#pragma once

// The watch checkpoint file: the last revision fully delivered, so that a
// restarted `atlasctl watch --checkpoint FILE` resumes without losing or
// repeating changes.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atlas::client {

// The revision recorded in `path`, or nullopt if the file does not exist.
// INVALID_ARGUMENT if it holds anything but a revision.
absl::StatusOr<std::optional<uint64_t>> ReadCheckpoint(const std::string& path);

// Records `revision` atomically and durably: writes `path`.tmp, fsyncs it,
// renames it over `path` and fsyncs the directory. A crash leaves either the
// old or the new revision.
absl::Status WriteCheckpoint(const std::string& path, uint64_t revision);

}  // namespace atlas::client
