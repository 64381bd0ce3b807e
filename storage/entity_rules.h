#pragma once

// What a valid entity is: resource names, kinds and their collections, slugs,
// partial dates, and the rules each payload states in entity.proto.

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atlas/v1/entity.pb.h"

namespace atlas::storage {

// The kind of an entity: the name of its payload field ("agreement"), or ""
// if it has none.
std::string KindOf(const v1::Entity& entity);
// All kinds, in proto order.
const std::vector<std::string>& AllKinds();
bool IsKnownKind(absl::string_view kind);
// "agreement" -> "agreements"; "" for an unknown kind.
std::string CollectionOfKind(absl::string_view kind);

// `value` in double quotes for an error message, with control characters,
// quotes and backslashes escaped C-style (UTF-8 kept): a message quoting
// bad input stays one line and cannot carry terminal escapes.
std::string Quoted(absl::string_view value);

bool IsSlug(absl::string_view s);
bool IsPartialDate(absl::string_view s);
// OK if `name` is "{collection}/{slug}" with a known collection.
// INVALID_ARGUMENT naming `field` otherwise.
absl::Status ValidateResourceName(absl::string_view name, absl::string_view field);

// Checks everything that can be checked from the entity alone. Messages name
// the field under `prefix`, e.g. "entities[2].topics[0]: ...".
absl::Status ValidateEntity(const v1::Entity& entity, size_t max_bytes,
                            absl::string_view prefix);

// Clears output-only fields (revisions, etag, version, times, deleted).
void ClearOutputOnly(v1::Entity& entity);
// The entity's name and output-only fields alone: what ClearOutputOnly
// clears, so the two split an entity in two.
v1::Entity OutputOnlyView(const v1::Entity& entity);

}  // namespace atlas::storage
