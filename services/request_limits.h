#pragma once

// The size limits of write requests, checked before a request reaches the
// store: each exceeded limit is RESOURCE_EXHAUSTED naming the field and the
// flag that sets the limit.

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "atlas/v1/atlas_service.pb.h"

namespace atlas::services {

struct RequestLimits {
  // Largest request message the server accepts (--max_message_bytes);
  // enforced by gRPC itself.
  int max_message_bytes = 16 << 20;
  // Largest entity a write may carry, serialized (--max_entity_bytes).
  size_t max_entity_bytes = 1 << 20;
  // Most entities in one ApplyEntities request (--max_apply_entities).
  int max_apply_entities = 10'000;
};

// `entity` (the request's field `field`) within max_entity_bytes.
absl::Status CheckEntitySize(const v1::Entity& entity, absl::string_view field,
                             const RequestLimits& limits);
// The entity count and every entity's size.
absl::Status CheckApplyLimits(const v1::ApplyEntitiesRequest& request,
                              const RequestLimits& limits);

}  // namespace atlas::services
