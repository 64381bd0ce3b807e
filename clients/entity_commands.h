#pragma once

// atlasctl get, list, history and delete.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "clients/command_context.h"

namespace atlas::client {

struct GetOptions {
  std::string name;
  uint64_t revision = 0;  // 0: current
};

// Prints the entity (table, or a document `apply -f` accepts).
absl::Status RunGet(const GetOptions& options, CommandContext& context);

struct ListOptions {
  std::string kind;
  std::string topic;
  std::string link;
  int32_t page_size = 0;  // 0: the server's default
};

// Follows page tokens and prints every matching entity.
absl::Status RunList(const ListOptions& options, CommandContext& context);

struct HistoryOptions {
  std::string name;
  int32_t page_size = 0;
};

// Prints every version of one entity, oldest first.
absl::Status RunHistory(const HistoryOptions& options, CommandContext& context);

struct DeleteOptions {
  std::string name;
  std::string etag;  // precondition when not empty
  bool allow_missing = false;
};

// Deletes and prints "NAME deleted" (or the deleted version as a document).
absl::Status RunDelete(const DeleteOptions& options, CommandContext& context);

}  // namespace atlas::client
