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

// The reply to a one-mutation commit. Errors name the field as the request
// does: the request's `entity` for a put, its `name` for a delete.
absl::StatusOr<v1::WriteEntityResponse> ToWriteResponse(
    bool is_delete, absl::StatusOr<CommitResult> result) {
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

// Commits one mutation and replies when it is durable, with the entity as
// `view` asks.
void CommitOne(storage::Store& store, Mutation mutation, v1::WriteView view,
               WriteReply<v1::WriteEntityResponse> reply) {
  const bool is_delete = mutation.op == Mutation::Op::kDelete;
  CommitRequest request;
  request.basic_results = view == v1::WRITE_VIEW_BASIC;
  request.mutations.push_back(std::move(mutation));
  store.CommitAsync(std::move(request),
                    [is_delete, reply = std::move(reply)](
                        absl::StatusOr<CommitResult> result) {
                      reply(ToWriteResponse(is_delete, std::move(result)));
                    });
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

// The mutation of one read-merge-write attempt of a masked update. It fails
// with ABORTED (changed since read) or ALREADY_EXISTS (created since read) if
// a concurrent writer got in between.
absl::StatusOr<Mutation> MaskedMutation(
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
  return mutation;
}

// A masked update, re-read and retried up to `attempts` times when a
// concurrent writer won the race.
void MaskedUpdate(storage::Store& store, v1::UpdateEntityRequest request,
                  int attempts, WriteReply<v1::WriteEntityResponse> reply) {
  absl::StatusOr<Mutation> mutation = MaskedMutation(store, request);
  if (!mutation.ok()) return reply(mutation.status());
  const v1::WriteView view = request.view();
  CommitOne(store, *std::move(mutation), view,
            [&store, request = std::move(request), attempts,
             reply = std::move(reply)](
                absl::StatusOr<v1::WriteEntityResponse> result) mutable {
              const bool raced = absl::IsAborted(result.status()) ||
                                 absl::IsAlreadyExists(result.status());
              if (raced && attempts > 1) {
                MaskedUpdate(store, std::move(request), attempts - 1,
                             std::move(reply));
                return;
              }
              reply(std::move(result));
            });
}

// A put of `entity`, moved out of its request, with the etag it expects.
Mutation PutOf(v1::Entity& entity, Expect expect) {
  std::string etag;
  // (mutable_etag() of an unset etag would allocate an empty string.)
  if (!entity.etag().empty()) etag = std::move(*entity.mutable_etag());
  Mutation mutation = Mutation::Put(std::move(entity), expect);
  mutation.expected_etag = std::move(etag);
  return mutation;
}

}  // namespace

void CreateEntity(storage::Store& store, v1::CreateEntityRequest request,
                  WriteReply<v1::WriteEntityResponse> reply) {
  if (absl::Status valid = ValidateCreateEntity(request); !valid.ok()) {
    return reply(valid);
  }
  CommitOne(store,
            Mutation::Put(std::move(*request.mutable_entity()),
                          Expect::kMustNotExist),
            request.view(), std::move(reply));
}

void UpdateEntity(storage::Store& store, v1::UpdateEntityRequest request,
                  WriteReply<v1::WriteEntityResponse> reply) {
  if (absl::Status valid = ValidateUpdateEntity(request); !valid.ok()) {
    return reply(valid);
  }
  if (IsFullReplacement(request.update_mask())) {
    const Expect expect =
        request.allow_missing() ? Expect::kAny : Expect::kMustExist;
    return CommitOne(store, PutOf(*request.mutable_entity(), expect),
                     request.view(), std::move(reply));
  }
  // With an etag the client asked for exactly the version it read: a
  // conflict is its to resolve. Without one, retry on a fresh read.
  const int attempts =
      request.entity().etag().empty() ? kMaskedUpdateAttempts : 1;
  MaskedUpdate(store, std::move(request), attempts, std::move(reply));
}

void DeleteEntity(storage::Store& store, v1::DeleteEntityRequest request,
                  WriteReply<v1::WriteEntityResponse> reply) {
  if (absl::Status valid = ValidateDeleteEntity(request); !valid.ok()) {
    return reply(valid);
  }
  const Expect expect =
      request.allow_missing() ? Expect::kAny : Expect::kMustExist;
  Mutation mutation =
      Mutation::Delete(std::move(*request.mutable_name()), expect);
  mutation.expected_etag = std::move(*request.mutable_etag());
  CommitOne(store, std::move(mutation), request.view(), std::move(reply));
}

void ApplyEntities(storage::Store& store, v1::ApplyEntitiesRequest request,
                   WriteReply<v1::ApplyEntitiesResponse> reply) {
  if (absl::Status valid = ValidateApplyEntities(request); !valid.ok()) {
    return reply(valid);
  }
  CommitRequest commit;
  commit.validate_only = request.validate_only();
  commit.basic_results = request.view() == v1::APPLY_VIEW_BASIC;
  commit.mutations.reserve(request.entities_size());
  for (v1::Entity& entity : *request.mutable_entities()) {
    commit.mutations.push_back(PutOf(entity, Expect::kAny));
  }
  store.CommitAsync(
      std::move(commit),
      [reply = std::move(reply)](absl::StatusOr<CommitResult> result) {
        if (!result.ok()) return reply(AsApplyError(result.status()));
        v1::ApplyEntitiesResponse response;
        response.set_revision(result->revision);
        for (storage::MutationResult& applied : result->results) {
          v1::ApplyResult* out = response.add_results();
          // Every result, whatever its view, names its entity.
          out->set_name(applied.entity.name());
          out->set_outcome(ToApplyOutcome(applied.outcome));
          *out->mutable_entity() = std::move(applied.entity);
        }
        reply(std::move(response));
      });
}

}  // namespace atlas::services
