#include "services/entity_reads.h"

#include <utility>

#include "services/request_validation.h"
#include "storage/status_macros.h"

namespace atlas::services {

absl::StatusOr<v1::GetEntityResponse> GetEntity(
    const storage::Store& store, const v1::GetEntityRequest& request) {
  ATLAS_RETURN_IF_ERROR(ValidateGetEntity(request));
  ATLAS_ASSIGN_OR_RETURN(storage::EntityRead read,
                         store.Get(request.name(), request.revision()));
  v1::GetEntityResponse response;
  *response.mutable_entity() = std::move(read.entity);
  response.set_revision(read.revision);
  return response;
}

absl::StatusOr<v1::ListEntitiesResponse> ListEntities(
    storage::Store& store, const v1::ListEntitiesRequest& request) {
  ATLAS_RETURN_IF_ERROR(ValidateListEntities(request));
  storage::ListQuery query;
  query.kind = request.kind();
  query.topic = request.topic();
  query.link = request.link();
  query.page_size = request.page_size();
  query.page_token = request.page_token();
  ATLAS_ASSIGN_OR_RETURN(storage::ListPage page, store.List(query));
  v1::ListEntitiesResponse response;
  response.mutable_entities()->Reserve(static_cast<int>(page.entities.size()));
  for (v1::Entity& entity : page.entities) {
    *response.add_entities() = std::move(entity);
  }
  response.set_next_page_token(std::move(page.next_page_token));
  response.set_revision(page.revision);
  return response;
}

absl::StatusOr<v1::ListEntityHistoryResponse> ListEntityHistory(
    const storage::Store& store, const v1::ListEntityHistoryRequest& request) {
  ATLAS_RETURN_IF_ERROR(ValidateListEntityHistory(request));
  ATLAS_ASSIGN_OR_RETURN(
      storage::HistoryPage page,
      store.History(request.name(), request.page_size(), request.page_token()));
  v1::ListEntityHistoryResponse response;
  response.mutable_versions()->Reserve(static_cast<int>(page.versions.size()));
  for (v1::Entity& version : page.versions) {
    *response.add_versions() = std::move(version);
  }
  response.set_next_page_token(std::move(page.next_page_token));
  response.set_revision(page.revision);
  return response;
}

}  // namespace atlas::services
