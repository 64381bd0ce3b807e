#pragma once

// The read methods of atlas.v1.Atlas over a Store: validated requests in,
// responses (each with the revision it reflects) out.

#include "absl/status/statusor.h"
#include "atlas/v1/atlas_service.pb.h"
#include "storage/store.h"

namespace atlas::services {

absl::StatusOr<v1::GetEntityResponse> GetEntity(
    const storage::Store& store, const v1::GetEntityRequest& request);

absl::StatusOr<v1::ListEntitiesResponse> ListEntities(
    storage::Store& store, const v1::ListEntitiesRequest& request);

absl::StatusOr<v1::ListEntityHistoryResponse> ListEntityHistory(
    const storage::Store& store, const v1::ListEntityHistoryRequest& request);

}  // namespace atlas::services
