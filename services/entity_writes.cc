#include "services/entity_writes.h"

#include <utility>

#include "services/request_validation.h"
#include "services/store_errors.h"
#include "services/update_mask.h"
#include "storage/status_macros.h"

namespace atlas::services {
namespace {

using storage::CommitRequest;
using storage::CommitResult;
using storage::Expect;
using storage::Mutation;

// Commits one mutation. Errors name the field as the request does: the
// request's `entity` for a put, its `name` for a delete.
absl::StatusOr<v1::WriteEntityResponse> CommitOne(storage::Store& store,
                                                  Mutation mutation) {
  const bool is_delete = mutation.op == Mutation::Op::kDelete;
  CommitRequest request;
  request.mutations.push_back(std::move(mutation));
  absl::StatusOr<CommitResult> result = store.Commit(std::move(request));
  if (!result.ok()) {
    if (!is_delete) {
      return RenameErrorField(result.status(), "mutations[0]", "entity");
    }
    return RenameErrorField(
        RenameErrorField(result.status(), "mutations[0].name", "name"),
        "mutations[0]", "name");
  }
  v1::WriteEntityResponse response;
  // A delete of a missing entity (allow_missing) has no entity to return.
  if (!result->results.empty() &&
      !result->results.front().entity.name().empty()) {
    *response.mutable_entity() = std::move(result->results.front().entity);
  }
  response.set_revision(result->revision);
  return response;
}

v1::ApplyOutcome ToApplyOutcome(storage::Outcome outcome) {
  switch (outcome) {
    case storage::Outcome::kCreated:
      return v1::APPLY_OUTCOME_CREATED;
    case storage::Outcome::kUpdated:
      return v1::APPLY_OUTCOME_UPDATED;
    case storage::Outcome::kUnchanged:
      return v1::APPLY_OUTCOME_UNCHANGED;
    case storage::Outcome::kDeleted:
      break;  // ApplyEntities never deletes.
  }
  return v1::APPLY_OUTCOME_UNSPECIFIED;
}

// One read-merge-write attempt of a masked update. The mutation it builds
// fails with ABORTED (changed since read) or ALREADY_EXISTS (created since
// read) if a concurrent writer got in between.
absl::StatusOr<v1::WriteEntityResponse> MaskedUpdateOnce(
    storage::Store& store, const v1::UpdateEntityRequest& request) {
  const v1::Entity& input = request.entity();
  absl::StatusOr<storage::EntityRead> current = store.Get(input.name());
  Mutation mutation;
  if (current.ok()) {
    v1::Entity merged = std::move(current->entity);
    const uint64_t read_revision = merged.update_revision();
    ApplyUpdateMask(request.update_mask(), input, merged);
    mutation = Mutation::Put(std::move(merged), Expect::kAny);
    // Implies the entity still exists, at the version that was read.
    mutation.expected_revision = read_revision;
  } else if (absl::IsNotFound(current.status()) && request.allow_missing()) {
    v1::Entity created;
    created.set_name(input.name());
    ApplyUpdateMask(request.update_mask(), input, created);
    mutation = Mutation::Put(std::move(created), Expect::kMustNotExist);
  } else {
    return current.status();
  }
  mutation.expected_etag = input.etag();
  return CommitOne(store, std::move(mutation));
}

}  // namespace

absl::StatusOr<v1::WriteEntityResponse> CreateEntity(
    storage::Store& store, const v1::CreateEntityRequest& request) {
  ATLAS_RETURN_IF_ERROR(ValidateCreateEntity(request));
  return CommitOne(store,
                   Mutation::Put(request.entity(), Expect::kMustNotExist));
}

absl::StatusOr<v1::WriteEntityResponse> UpdateEntity(
    storage::Store& store, const v1::UpdateEntityRequest& request) {
  ATLAS_RETURN_IF_ERROR(ValidateUpdateEntity(request));
  const v1::Entity& input = request.entity();
  if (IsFullReplacement(request.update_mask())) {
    Mutation mutation = Mutation::Put(
        input, request.allow_missing() ? Expect::kAny : Expect::kMustExist);
    mutation.expected_etag = input.etag();
    return CommitOne(store, std::move(mutation));
  }
  // With an etag the client asked for exactly the version it read: a
  // conflict is its to resolve. Without one, retry on a fresh read.
  const int attempts = input.etag().empty() ? kMaskedUpdateAttempts : 1;
  absl::StatusOr<v1::WriteEntityResponse> result;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    result = MaskedUpdateOnce(store, request);
    const bool raced = absl::IsAborted(result.status()) ||
                       absl::IsAlreadyExists(result.status());
    if (!raced) break;
  }
  return result;
}

absl::StatusOr<v1::WriteEntityResponse> DeleteEntity(
    storage::Store& store, const v1::DeleteEntityRequest& request) {
  ATLAS_RETURN_IF_ERROR(ValidateDeleteEntity(request));
  Mutation mutation = Mutation::Delete(
      request.name(),
      request.allow_missing() ? Expect::kAny : Expect::kMustExist);
  mutation.expected_etag = request.etag();
  return CommitOne(store, std::move(mutation));
}

absl::StatusOr<v1::ApplyEntitiesResponse> ApplyEntities(
    storage::Store& store, const v1::ApplyEntitiesRequest& request) {
  ATLAS_RETURN_IF_ERROR(ValidateApplyEntities(request));
  CommitRequest commit;
  commit.validate_only = request.validate_only();
  commit.mutations.reserve(request.entities_size());
  for (const v1::Entity& entity : request.entities()) {
    Mutation mutation = Mutation::Put(entity, Expect::kAny);
    mutation.expected_etag = entity.etag();
    commit.mutations.push_back(std::move(mutation));
  }
  absl::StatusOr<CommitResult> result = store.Commit(std::move(commit));
  if (!result.ok()) return AsApplyError(result.status());
  v1::ApplyEntitiesResponse response;
  response.set_revision(result->revision);
  for (size_t i = 0; i < result->results.size(); ++i) {
    v1::ApplyResult* out = response.add_results();
    out->set_name(request.entities(static_cast<int>(i)).name());
    out->set_outcome(ToApplyOutcome(result->results[i].outcome));
    *out->mutable_entity() = std::move(result->results[i].entity);
  }
  return response;
}

}  // namespace atlas::services
