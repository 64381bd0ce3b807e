#pragma once

// Loading entity documents from the file system: one file, or a directory
// tree of .yaml, .yml and .json files.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/document_codec.h"

namespace atlas::documents {

// The document files under `path`: `path` itself if it is a file (whatever
// its extension), else every regular file below it, recursively, whose name
// ends in .yaml, .yml or .json, sorted by path. Names starting with '.'
// (editor backups, hidden folders) are skipped. NOT_FOUND if `path` does not
// exist.
absl::StatusOr<std::vector<std::string>> ListDocumentFiles(
    const std::string& path);

// Reads a whole file. NOT_FOUND or PERMISSION_DENIED/UNAVAILABLE on failure,
// with the path in the message.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

// Decodes every entity in the files ListDocumentFiles(path) names, in file
// order then document order.
absl::StatusOr<std::vector<DecodedEntity>> LoadEntities(
    const std::string& path);

}  // namespace atlas::documents
