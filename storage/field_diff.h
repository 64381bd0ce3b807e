#pragma once

// Which fields of an entity a change touched, as field-mask style paths.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "atlas/v1/entity.pb.h"

namespace atlas::storage {

// Paths of the input fields that differ between `before` and `after`, e.g.
// "topics", "agreement.summary". A path stops at the first repeated field
// ("organization.issue_sections"). Output-only metadata is ignored. Sorted,
// no duplicates; empty when the contents are equal.
std::vector<std::string> ChangedPaths(const v1::Entity& before,
                                      const v1::Entity& after);

// The same paths for a new entity, ChangedPaths(v1::Entity(), entity), read
// from `serialized`, the entity's wire form: the top-level fields present in
// it (which for proto3 are exactly the set ones), named, output-only and
// unknown fields left out. No reflection: a write of a new entity is common
// and listing its fields by reflection cost 8 % of it.
std::vector<std::string> CreatedPaths(absl::string_view serialized);

}  // namespace atlas::storage
