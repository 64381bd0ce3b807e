#pragma once

// Checks the shape of Atlas requests before they reach the store: required
// names, filters, page sizes, update masks and duplicate names. Entity
// contents are checked by the store (storage::ValidateEntity) when it commits.
// Every error is INVALID_ARGUMENT and starts with the request field at fault.

#include "absl/status/status.h"
#include "atlas/v1/atlas_service.pb.h"

namespace atlas::services {

// Most entities or versions one page may hold.
inline constexpr int kMaxPageSize = 1000;

absl::Status ValidateGetEntity(const v1::GetEntityRequest& request);
absl::Status ValidateListEntities(const v1::ListEntitiesRequest& request);
absl::Status ValidateCreateEntity(const v1::CreateEntityRequest& request);
absl::Status ValidateUpdateEntity(const v1::UpdateEntityRequest& request);
absl::Status ValidateDeleteEntity(const v1::DeleteEntityRequest& request);
absl::Status ValidateApplyEntities(const v1::ApplyEntitiesRequest& request);
absl::Status ValidateListEntityHistory(
    const v1::ListEntityHistoryRequest& request);

}  // namespace atlas::services
