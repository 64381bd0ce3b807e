#include "services/request_validation.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "services/update_mask.h"
#include "storage/entity_rules.h"
#include "storage/status_macros.h"

namespace atlas::services {
namespace {

absl::Status ValidatePageSize(int page_size, absl::string_view field) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", page_size, " is outside 0..", kMaxPageSize,
                     " (0 means the default of 100)"));
  }
  return absl::OkStatus();
}

absl::Status RequireEntity(bool has_entity, const v1::Entity& entity) {
  if (!has_entity) return absl::InvalidArgumentError("entity: is required");
  return storage::ValidateResourceName(entity.name(), "entity.name");
}

absl::Status ValidateWriteView(v1::WriteView view) {
  if (!v1::WriteView_IsValid(view)) {
    return absl::InvalidArgumentError(
        absl::StrCat("view: unknown WriteView value ", view,
                     " (WRITE_VIEW_FULL or WRITE_VIEW_BASIC)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateGetEntity(const v1::GetEntityRequest& request) {
  return storage::ValidateResourceName(request.name(), "name");
}

absl::Status ValidateListEntities(const v1::ListEntitiesRequest& request) {
  if (!request.kind().empty() && !storage::IsKnownKind(request.kind())) {
    std::string known;
    for (const std::string& kind : storage::AllKinds()) {
      absl::StrAppend(&known, known.empty() ? "" : ", ", kind);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("kind: \"", request.kind(),
                     "\" is not a known kind (want one of ", known, ")"));
  }
  if (!request.topic().empty() && !storage::IsSlug(request.topic())) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic: \"", request.topic(),
                     "\" is not a topic slug (e.g. cybersecurity)"));
  }
  if (!request.link().empty()) {
    absl::Status status = storage::ValidateResourceName(request.link(), "link");
    if (!status.ok()) return status;
  }
  return ValidatePageSize(request.page_size(), "page_size");
}

absl::Status ValidateCreateEntity(const v1::CreateEntityRequest& request) {
  ATLAS_RETURN_IF_ERROR(RequireEntity(request.has_entity(), request.entity()));
  return ValidateWriteView(request.view());
}

absl::Status ValidateUpdateEntity(const v1::UpdateEntityRequest& request) {
  ATLAS_RETURN_IF_ERROR(RequireEntity(request.has_entity(), request.entity()));
  ATLAS_RETURN_IF_ERROR(ValidateUpdateMask(request.update_mask()));
  return ValidateWriteView(request.view());
}

absl::Status ValidateDeleteEntity(const v1::DeleteEntityRequest& request) {
  ATLAS_RETURN_IF_ERROR(storage::ValidateResourceName(request.name(), "name"));
  return ValidateWriteView(request.view());
}

absl::Status ValidateApplyEntities(const v1::ApplyEntitiesRequest& request) {
  if (request.entities().empty()) {
    return absl::InvalidArgumentError("entities: at least one is required");
  }
  if (!v1::ApplyView_IsValid(request.view())) {
    return absl::InvalidArgumentError(
        absl::StrCat("view: unknown ApplyView value ", request.view(),
                     " (APPLY_VIEW_FULL or APPLY_VIEW_BASIC)"));
  }
  absl::flat_hash_map<absl::string_view, int> first_index;
  first_index.reserve(request.entities_size());
  for (int i = 0; i < request.entities_size(); ++i) {
    const std::string& name = request.entities(i).name();
    // The path is built only for a name that fails.
    if (!storage::ValidateResourceName(name, "name").ok()) {
      return storage::ValidateResourceName(
          name, absl::StrCat("entities[", i, "].name"));
    }
    auto [it, inserted] = first_index.emplace(name, i);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("entities[", i, "].name: \"", name,
                       "\" appears more than once (also entities[", it->second,
                       "]); apply each entity at most once per request"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateListEntityHistory(
    const v1::ListEntityHistoryRequest& request) {
  absl::Status status = storage::ValidateResourceName(request.name(), "name");
  if (!status.ok()) return status;
  return ValidatePageSize(request.page_size(), "page_size");
}

}  // namespace atlas::services
