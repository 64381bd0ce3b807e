#pragma once

// Converts a parsed YAML document into the JSON text Protobuf's JSON parser
// reads, guided by the message descriptor so that every scalar follows the
// type of its field: `established: 1995` feeds a string field as "1995",
// `value: 2.5e12` feeds a double field as a number, `code: NO` stays a string.
// Fields unknown to the descriptor and values of the wrong shape are reported
// with their YAML position; value checks Protobuf itself does better
// (timestamps, ranges) are left to the JSON parser.

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "yaml-cpp/yaml.h"

namespace atlas::documents {

// Builds the prefix of an error message for a position in the source, e.g.
// "data/x.yaml:4:3: document 2: ".
using LocationPrefix = std::function<std::string(const YAML::Mark&)>;

// Returns JSON for `node` as a `type` message, or INVALID_ARGUMENT whose
// message starts with `where(position of the offending node)`.
absl::StatusOr<std::string> YamlToJson(const YAML::Node& node,
                                       const google::protobuf::Descriptor& type,
                                       const LocationPrefix& where);

// True if a plain (unquoted) YAML scalar with this text is read as something
// other than a string by YAML 1.1 or 1.2 readers: null, a boolean or a number.
// Such strings must be quoted when written as YAML.
bool PlainScalarIsNotString(absl::string_view text);

}  // namespace atlas::documents
