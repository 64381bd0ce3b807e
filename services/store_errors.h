#pragma once

// The store names the field at fault from its own point of view: mutation i
// is "mutations[i]". The API names it from the request's: "entities[i]" in
// ApplyEntities, "entity" or "name" in the single-entity methods.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace atlas::services {

// If the message of `status` starts with the field path `from` (followed by
// '.', '[' or ':'), returns the status with `from` replaced by `to`; else
// returns `status` unchanged. The code and the rest of the message are kept.
absl::Status RenameErrorField(const absl::Status& status,
                              absl::string_view from, absl::string_view to);

// "mutations[i]..." -> "entities[i]..." and "mutations: ..." -> "entities:
// ...".
absl::Status AsApplyError(const absl::Status& status);

}  // namespace atlas::services
