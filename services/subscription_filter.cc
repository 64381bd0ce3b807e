#include "services/subscription_filter.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/entity_rules.h"

namespace atlas::services {
namespace {

absl::Status Invalid(const std::string& field, int index,
                     const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("filter.", field, "[", index, "]: ", why));
}

}  // namespace

absl::StatusOr<SubscriptionFilter> SubscriptionFilter::Create(
    const v1::WatchFilter& filter) {
  SubscriptionFilter out;
  for (int i = 0; i < filter.topics_size(); ++i) {
    if (!storage::IsSlug(filter.topics(i))) {
      return Invalid("topics", i,
                     absl::StrCat(storage::Quoted(filter.topics(i)),
                                  " is not a topic slug"));
    }
    out.topics_.insert(filter.topics(i));
  }
  for (int i = 0; i < filter.kinds_size(); ++i) {
    if (!storage::IsKnownKind(filter.kinds(i))) {
      return Invalid("kinds", i,
                     absl::StrCat(storage::Quoted(filter.kinds(i)),
                                  " is not a known kind"));
    }
    out.kinds_.insert(filter.kinds(i));
  }
  for (int i = 0; i < filter.name_prefixes_size(); ++i) {
    if (filter.name_prefixes(i).empty()) {
      return Invalid("name_prefixes", i, "must not be empty");
    }
    out.name_prefixes_.push_back(filter.name_prefixes(i));
  }
  for (int i = 0; i < filter.linked_size(); ++i) {
    absl::Status status = storage::ValidateResourceName(
        filter.linked(i), absl::StrCat("filter.linked[", i, "]"));
    if (!status.ok()) return status;
    out.linked_.insert(filter.linked(i));
  }
  for (int i = 0; i < filter.change_types_size(); ++i) {
    const int type = filter.change_types(i);
    if (type == v1::CHANGE_TYPE_UNSPECIFIED || !v1::ChangeType_IsValid(type)) {
      return Invalid("change_types", i, "must be CREATED, UPDATED or DELETED");
    }
    out.change_types_.insert(type);
  }
  return out;
}

bool SubscriptionFilter::MatchesIdentity(const v1::Entity& entity) const {
  if (!kinds_.empty() && !kinds_.contains(storage::KindOf(entity))) return false;
  if (!name_prefixes_.empty()) {
    bool any = false;
    for (const auto& prefix : name_prefixes_) {
      any |= absl::StartsWith(entity.name(), prefix);
    }
    if (!any) return false;
  }
  return true;
}

bool SubscriptionFilter::MatchesContent(const v1::Entity& entity) const {
  if (!topics_.empty()) {
    bool any = false;
    for (const auto& topic : entity.topics()) any |= topics_.contains(topic);
    if (!any) return false;
  }
  if (!linked_.empty()) {
    bool any = false;
    for (const auto& link : entity.links()) any |= linked_.contains(link.target());
    if (!any) return false;
  }
  return true;
}

bool SubscriptionFilter::MatchesEntity(const v1::Entity& entity) const {
  return MatchesIdentity(entity) && MatchesContent(entity);
}

SubscriptionFilter::Verdict SubscriptionFilter::Evaluate(
    const v1::Change& change) const {
  Verdict verdict;
  if (!change_types_.empty() && !change_types_.contains(change.type())) {
    return verdict;
  }
  if (!MatchesIdentity(change.entity())) return verdict;
  const bool before = change.has_before() && MatchesContent(change.before());
  const bool after = MatchesContent(change.entity());
  verdict.deliver = before || after;
  if (change.type() == v1::CHANGE_TYPE_UPDATED) {
    verdict.left = before && !after;
    verdict.entered = !before && after;
  }
  return verdict;
}

}  // namespace atlas::services
