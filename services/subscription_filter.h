#pragma once

// SubscriptionFilter: which changes a Watch wants. Fields combine with AND,
// values within a field with OR. Topic and link filters look at the entity
// both before and after the change, so a subscriber hears about an entity
// entering or leaving its topic.

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "atlas/v1/atlas_service.pb.h"

namespace atlas::services {

class SubscriptionFilter {
 public:
  // INVALID_ARGUMENT naming the field ("filter.kinds[1]: ...") if malformed.
  static absl::StatusOr<SubscriptionFilter> Create(const v1::WatchFilter& filter);

  struct Verdict {
    bool deliver = false;
    bool left = false;     // matched before the change, not after
    bool entered = false;  // matched after the change, not before
  };
  Verdict Evaluate(const v1::Change& change) const;
  // For the snapshot of current entities.
  bool MatchesEntity(const v1::Entity& entity) const;
  // The topics asked for (empty: any). A change can match only if its entity
  // has one of them before or after the change, which lets the hub route
  // changes by topic.
  const absl::flat_hash_set<std::string>& topics() const { return topics_; }

 private:
  // The entity-dependent part that can change with an update (topics, links).
  bool MatchesContent(const v1::Entity& entity) const;
  // The part fixed for an entity's life (kind, name).
  bool MatchesIdentity(const v1::Entity& entity) const;

  absl::flat_hash_set<std::string> topics_;
  absl::flat_hash_set<std::string> kinds_;
  std::vector<std::string> name_prefixes_;
  absl::flat_hash_set<std::string> linked_;
  absl::flat_hash_set<int> change_types_;
};

}  // namespace atlas::services
