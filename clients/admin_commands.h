#pragma once

// atlasctl backup and trim-changelog: the atlas.v1.Admin calls (admin role).

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "clients/command_context.h"

namespace atlas::client {

struct BackupOptions {
  // On the server's machine; relative to the server's working directory.
  std::string directory;
};

// Asks the server for a backup and prints its revision, path and size.
absl::Status RunBackup(const BackupOptions& options, CommandContext& context);

struct TrimChangeLogOptions {
  uint64_t oldest_revision = 0;
};

// Drops change-log entries below oldest_revision; prints what is kept.
absl::Status RunTrimChangeLog(const TrimChangeLogOptions& options,
                              CommandContext& context);

}  // namespace atlas::client
