#pragma once

// Which fields of an entity a change touched, as field-mask style paths.

#include <string>
#include <vector>

#include "atlas/v1/entity.pb.h"

namespace atlas::storage {

// Paths of the input fields that differ between `before` and `after`, e.g.
// "topics", "agreement.summary". A path stops at the first repeated field
// ("organization.issue_sections"). Output-only metadata is ignored. Sorted,
// no duplicates; empty when the contents are equal.
std::vector<std::string> ChangedPaths(const v1::Entity& before,
                                      const v1::Entity& after);

}  // namespace atlas::storage
