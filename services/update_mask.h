#pragma once

// UpdateEntity's update_mask: which paths of atlas.v1.Entity a client may
// name, and how the named fields of a request entity replace those of the
// stored one.

#include "absl/status/status.h"
#include "atlas/v1/entity.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace atlas::services {

// True if the mask asks for a full replacement: no paths, or only "*".
bool IsFullReplacement(const google::protobuf::FieldMask& mask);

// OK if every path names a field of atlas.v1.Entity that clients may set
// ("topics", "agreement.summary"); "*" is accepted only on its own.
// INVALID_ARGUMENT naming update_mask.paths[i] otherwise, including for
// output-only fields (etag, revisions, times, ...).
absl::Status ValidateUpdateMask(const google::protobuf::FieldMask& mask);

// Replaces the fields of `target` named by `mask` (already validated, not a
// full replacement) with those of `source`. A named message or repeated
// field is replaced as a whole, so a field absent from `source` is cleared.
void ApplyUpdateMask(const google::protobuf::FieldMask& mask,
                     const v1::Entity& source, v1::Entity& target);

}  // namespace atlas::services
