#pragma once

// Small pieces of JSON text handling the document codec needs and Protobuf
// does not expose: string quoting, number grammar, and splitting a top-level
// JSON array into its elements without losing their positions.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atlas::documents {

// Appends `text` (UTF-8) to `out` as a quoted JSON string.
void AppendJsonString(absl::string_view text, std::string* out);

// True if `text` is exactly a JSON number (RFC 8259 grammar).
bool IsJsonNumber(absl::string_view text);

// One top-level JSON value in a larger text.
struct JsonSlice {
  absl::string_view text;
  int line = 1;    // 1-based line of the first character
  int column = 1;  // 1-based column of the first character
};

// Splits a JSON text holding one object or an array of values into the
// object, or the array elements, each with its position. Strings are skipped
// correctly; anything else is left for the real parser to judge. On a
// structural problem (unbalanced brackets, text after the value, a document
// that is neither an object nor an array) returns INVALID_ARGUMENT with
// "LINE:COLUMN: malformed JSON: reason".
absl::StatusOr<std::vector<JsonSlice>> SplitJsonDocuments(
    absl::string_view text);

}  // namespace atlas::documents
