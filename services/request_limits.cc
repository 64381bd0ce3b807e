#include "services/request_limits.h"

#include "absl/strings/str_cat.h"

namespace atlas::services {

absl::Status CheckEntitySize(const v1::Entity& entity, absl::string_view field,
                             const RequestLimits& limits) {
  const size_t size = entity.ByteSizeLong();
  if (size <= limits.max_entity_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat(field, ": entity size limit: the entity is ", size,
                   " bytes, more than --max_entity_bytes=",
                   limits.max_entity_bytes));
}

absl::Status CheckApplyLimits(const v1::ApplyEntitiesRequest& request,
                              const RequestLimits& limits) {
  if (request.entities_size() > limits.max_apply_entities) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "entities: apply size limit: ", request.entities_size(),
        " entities in one request, more than --max_apply_entities=",
        limits.max_apply_entities, "; apply them in smaller batches"));
  }
  for (int i = 0; i < request.entities_size(); ++i) {
    absl::Status status = CheckEntitySize(
        request.entities(i), absl::StrCat("entities[", i, "]"), limits);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace atlas::services
