#pragma once

// The write methods of atlas.v1.Atlas over a Store. Each validates its
// request, turns it into one Store::Commit (one revision, all or nothing) and
// names fields in errors the way the request does.

#include "absl/status/statusor.h"
#include "atlas/v1/atlas_service.pb.h"
#include "storage/store.h"

namespace atlas::services {

// How often UpdateEntity with an update_mask and no etag re-reads and retries
// when a concurrent writer changed the entity between its read and its write.
inline constexpr int kMaskedUpdateAttempts = 5;

absl::StatusOr<v1::WriteEntityResponse> CreateEntity(
    storage::Store& store, const v1::CreateEntityRequest& request);

// Without an update_mask the request entity replaces the stored one. With a
// mask the stored entity is read, the masked fields are copied into it, and
// it is written only if nothing changed it in between (expected_revision), so
// a concurrent write is never lost.
absl::StatusOr<v1::WriteEntityResponse> UpdateEntity(
    storage::Store& store, const v1::UpdateEntityRequest& request);

absl::StatusOr<v1::WriteEntityResponse> DeleteEntity(
    storage::Store& store, const v1::DeleteEntityRequest& request);

absl::StatusOr<v1::ApplyEntitiesResponse> ApplyEntities(
    storage::Store& store, const v1::ApplyEntitiesRequest& request);

}  // namespace atlas::services
