#pragma once

// Text documents <-> atlas.v1 messages.
//
// Decoding: a text holds one or many YAML documents ("---" separated; a
// document may also be a list of entities) or JSON (an object or an array of
// objects). YAML is converted to JSON following the message schema, then read
// by Protobuf's JSON parser, which rejects unknown fields. Errors are
// INVALID_ARGUMENT with one line naming the file, line, column, document and
// reason, e.g.
//   data/x.yaml:4:1: document 2: no such field "titel" in atlas.v1.Entity
//
// Encoding: Protobuf's JSON mapping with proto field names, and YAML made
// from that JSON. Decoding the YAML or JSON output gives back the identical
// message.
//
// Free of gRPC: the server uses this to load its seed dataset.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atlas/v1/entity.pb.h"
#include "google/protobuf/message.h"

namespace atlas::documents {

// Where a decoded entity came from.
struct DocumentOrigin {
  // The file as named by the caller (a path, or a label such as "<stdin>").
  std::string file;
  // 1-based position of the entity among the file's entities.
  int index = 0;
  // 1-based line where the entity's document starts.
  int line = 0;
};

// "data/x.yaml document 2 (line 14)".
std::string DescribeOrigin(const DocumentOrigin& origin);

struct DecodedEntity {
  DocumentOrigin origin;
  atlas::v1::Entity entity;
};

enum class TextFormat {
  kAuto,  // by file extension (.json, .yaml, .yml), else by content
  kYaml,
  kJson,
};

// Decodes every entity in `text`; `file` names it in origins and errors.
// Empty documents are skipped; a text without documents yields no entities.
absl::StatusOr<std::vector<DecodedEntity>> DecodeEntities(
    absl::string_view text, absl::string_view file,
    TextFormat format = TextFormat::kAuto);

enum class JsonLayout {
  kSingleLine,  // one line without a trailing newline: for streams
  kPretty,      // indented, multi-line, ends with a newline
};

// Protobuf's JSON mapping with proto field names ("create_revision").
absl::StatusOr<std::string> EncodeJson(const google::protobuf::Message& message,
                                       JsonLayout layout);

// One YAML document (without a "---" line) ending with a newline. Strings
// that YAML readers could take for numbers, booleans or null are quoted.
absl::StatusOr<std::string> EncodeYaml(
    const google::protobuf::Message& message);

}  // namespace atlas::documents
