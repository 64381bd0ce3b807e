// Fuzz target: request decoding and validation.
//
// The first byte picks an atlas.v1 request message, the rest is its wire
// encoding (what a client sends). Whatever decodes must be judged OK or
// INVALID_ARGUMENT by the service's checks, without crashing; a valid update
// mask must apply cleanly.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "atlas/v1/atlas_service.pb.h"
#include "services/request_validation.h"
#include "services/subscription_filter.h"
#include "services/update_mask.h"
#include "storage/entity_rules.h"
#include "tests/fuzz/fuzz_check.h"

namespace atlas::fuzz {
namespace {

void CheckVerdict(const absl::Status& status, const char* what) {
  Check(status.ok() || status.code() == absl::StatusCode::kInvalidArgument,
        std::string(what) + " returned " + status.ToString());
  Check(status.ok() || !status.message().empty(),
        std::string(what) + " returned an error without a message");
}

// The store's own entity rules run on every entity a write carries.
void CheckEntity(const v1::Entity& entity) {
  CheckVerdict(storage::ValidateEntity(entity, 1 << 20, "entity"),
               "ValidateEntity");
  v1::Entity cleared = entity;
  storage::ClearOutputOnly(cleared);
  Check(cleared.etag().empty() && cleared.update_revision() == 0,
        "ClearOutputOnly left output-only fields");
}

template <typename Request>
bool Decode(const uint8_t* data, size_t size, Request& request) {
  return request.ParseFromArray(data, static_cast<int>(size));
}

void FuzzOne(uint8_t selector, const uint8_t* data, size_t size) {
  switch (selector % 8) {
    case 0: {
      v1::GetEntityRequest request;
      if (!Decode(data, size, request)) return;
      CheckVerdict(services::ValidateGetEntity(request), "ValidateGetEntity");
      return;
    }
    case 1: {
      v1::ListEntitiesRequest request;
      if (!Decode(data, size, request)) return;
      CheckVerdict(services::ValidateListEntities(request),
                   "ValidateListEntities");
      return;
    }
    case 2: {
      v1::CreateEntityRequest request;
      if (!Decode(data, size, request)) return;
      CheckVerdict(services::ValidateCreateEntity(request),
                   "ValidateCreateEntity");
      CheckEntity(request.entity());
      return;
    }
    case 3: {
      v1::UpdateEntityRequest request;
      if (!Decode(data, size, request)) return;
      absl::Status status = services::ValidateUpdateEntity(request);
      CheckVerdict(status, "ValidateUpdateEntity");
      CheckEntity(request.entity());
      if (status.ok() && !services::IsFullReplacement(request.update_mask())) {
        // What a masked update does with a stored entity: copy the named
        // fields into it. Doing it twice gives what doing it once gave.
        v1::Entity once = request.entity();
        once.set_title("stored");
        services::ApplyUpdateMask(request.update_mask(), request.entity(),
                                  once);
        v1::Entity twice = once;
        services::ApplyUpdateMask(request.update_mask(), request.entity(),
                                  twice);
        Check(once.SerializeAsString() == twice.SerializeAsString(),
              "ApplyUpdateMask is not idempotent");
        v1::Entity created;
        created.set_name(request.entity().name());
        services::ApplyUpdateMask(request.update_mask(), request.entity(),
                                  created);
      }
      return;
    }
    case 4: {
      v1::DeleteEntityRequest request;
      if (!Decode(data, size, request)) return;
      CheckVerdict(services::ValidateDeleteEntity(request),
                   "ValidateDeleteEntity");
      return;
    }
    case 5: {
      v1::ApplyEntitiesRequest request;
      if (!Decode(data, size, request)) return;
      CheckVerdict(services::ValidateApplyEntities(request),
                   "ValidateApplyEntities");
      for (const v1::Entity& entity : request.entities()) CheckEntity(entity);
      return;
    }
    case 6: {
      v1::ListEntityHistoryRequest request;
      if (!Decode(data, size, request)) return;
      CheckVerdict(services::ValidateListEntityHistory(request),
                   "ValidateListEntityHistory");
      return;
    }
    case 7: {
      v1::WatchRequest request;
      if (!Decode(data, size, request)) return;
      absl::StatusOr<services::SubscriptionFilter> filter =
          services::SubscriptionFilter::Create(request.filter());
      CheckVerdict(filter.status(), "SubscriptionFilter::Create");
      if (!filter.ok()) return;
      // Judge a change made of the filter's own values.
      v1::Change change;
      change.set_type(v1::CHANGE_TYPE_UPDATED);
      v1::Entity* entity = change.mutable_entity();
      if (request.filter().name_prefixes_size() > 0) {
        entity->set_name(request.filter().name_prefixes(0));
      }
      for (const std::string& topic : request.filter().topics()) {
        entity->add_topics(topic);
      }
      for (const std::string& target : request.filter().linked()) {
        entity->add_links()->set_target(target);
      }
      *change.mutable_before() = *entity;
      const services::SubscriptionFilter::Verdict verdict =
          filter->Evaluate(change);
      Check(!(verdict.left && verdict.entered),
            "a change both entered and left the filter");
      filter->MatchesEntity(*entity);
      return;
    }
  }
}

}  // namespace
}  // namespace atlas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  atlas::fuzz::SilenceProtobufLogs();
  if (size == 0) return 0;
  atlas::fuzz::FuzzOne(data[0], data + 1, size - 1);
  return 0;
}
