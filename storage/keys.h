#pragma once

// Key layout of the column families (see store.h). Revisions are encoded
// big-endian so that byte order is numeric order.

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

namespace atlas::storage::keys {

std::string Revision(uint64_t revision);
// The revision encoded in the first 8 bytes of `key`, if it has 8.
std::optional<uint64_t> ParseRevision(absl::string_view key);

// history: name \0 BE64(revision). Names never contain '\0'.
std::string History(absl::string_view name, uint64_t revision);
std::string HistoryPrefix(absl::string_view name);
// The revision of a history key (its last 8 bytes).
std::optional<uint64_t> HistoryRevision(absl::string_view key);

// index: "{t|l}\0{value}\0{name}": entities by topic slug or by link target.
inline constexpr char kTopicIndex = 't';
inline constexpr char kLinkIndex = 'l';
std::string IndexPrefix(char index, absl::string_view value);
std::string Index(char index, absl::string_view value, absl::string_view name);

// The smallest key greater than every key starting with `prefix`.
std::string PrefixEnd(absl::string_view prefix);

// meta rows.
inline constexpr absl::string_view kMetaRevision = "revision";
inline constexpr absl::string_view kMetaOldest = "oldest";
inline constexpr absl::string_view kMetaSchema = "schema";

}  // namespace atlas::storage::keys
