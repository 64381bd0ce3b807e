#pragma once

// atlasctl apply: create-or-update entities from YAML/JSON documents.

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atlas/v1/atlas_service.pb.h"
#include "clients/command_context.h"
#include "proto/document_codec.h"

namespace atlas::client {

struct ApplyOptions {
  // Files or directories (read recursively); "-" reads standard input.
  std::vector<std::string> files;
  // All documents go into one atomic ApplyEntities call unless there are
  // more than this many; then they are sent in batches of this size, each
  // atomic on its own.
  size_t batch_size = 500;
  // Clear etags read from the documents (no precondition).
  bool force = false;
  // Validate and check preconditions without writing.
  bool dry_run = false;
};

absl::Status RunApply(const ApplyOptions& options, CommandContext& context);

// The documents of every file, in order. Errors: INVALID_ARGUMENT
// "invalid document FILE:LINE:COL: document N: ...", or the file error.
absl::StatusOr<std::vector<documents::DecodedEntity>> CollectDocuments(
    const std::vector<std::string>& files, std::istream& in);

// INVALID_ARGUMENT naming both documents if two share a name.
absl::Status CheckUniqueNames(
    const std::vector<documents::DecodedEntity>& documents);

// "created", "updated" or "unchanged".
std::string OutcomeWord(atlas::v1::ApplyOutcome outcome);

// The document a server error is about, if the message names one by request
// index ("entities[3]") or by quoted name; empty otherwise.
std::string LocateInBatch(
    const std::string& message,
    const std::vector<const documents::DecodedEntity*>& batch);

}  // namespace atlas::client
