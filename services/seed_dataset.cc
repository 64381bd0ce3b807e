#include "services/seed_dataset.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/document_files.h"
#include "storage/entity_rules.h"
#include "storage/status_macros.h"

namespace atlas::services {
namespace {

// The taxonomy first: the store resolves an entity's topics against the
// store and the mutations before it in the same commit, so topics must
// precede the entities that refer to them, whatever the file order.
std::vector<size_t> CommitOrder(
    const std::vector<documents::DecodedEntity>& loaded) {
  auto rank = [&](size_t i) {
    const std::string kind = storage::KindOf(loaded[i].entity);
    return kind == "basket" ? 0 : kind == "topic" ? 1 : 2;
  };
  std::vector<size_t> order(loaded.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rank(a) < rank(b); });
  return order;
}

// The store names the entity at fault "mutations[i]" (i in commit order);
// name its document instead.
absl::Status WithOrigin(const absl::Status& status,
                        const std::vector<documents::DecodedEntity>& loaded,
                        const std::vector<size_t>& order) {
  absl::string_view message = status.message();
  constexpr absl::string_view kPrefix = "mutations[";
  if (!absl::StartsWith(message, kPrefix)) {
    return absl::Status(status.code(),
                        absl::StrCat("seeding the store: ", message));
  }
  const size_t close = message.find(']');
  size_t index = 0;
  if (close == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(kPrefix.size(), close - kPrefix.size()),
                        &index) ||
      index >= order.size()) {
    return status;
  }
  const documents::DecodedEntity& at_fault = loaded[order[index]];
  absl::string_view rest = message.substr(close + 1);
  if (absl::StartsWith(rest, ".")) rest.remove_prefix(1);
  if (absl::StartsWith(rest, ": ")) rest.remove_prefix(2);
  return absl::Status(status.code(),
                      absl::StrCat(documents::DescribeOrigin(at_fault.origin),
                                   " (", at_fault.entity.name(), "): ", rest));
}

}  // namespace

absl::StatusOr<SeedResult> SeedIfEmpty(storage::Store& store,
                                       const std::string& seed_dir) {
  SeedResult result;
  result.revision = store.CurrentRevision();
  if (result.revision != 0) return result;
  ATLAS_ASSIGN_OR_RETURN(std::vector<documents::DecodedEntity> loaded,
                         documents::LoadEntities(seed_dir));
  if (loaded.empty()) return result;
  const std::vector<size_t> order = CommitOrder(loaded);
  storage::CommitRequest commit;
  commit.mutations.reserve(loaded.size());
  for (size_t i : order) {
    commit.mutations.push_back(
        storage::Mutation::Put(loaded[i].entity, storage::Expect::kAny));
  }
  absl::StatusOr<storage::CommitResult> committed =
      store.Commit(std::move(commit));
  if (!committed.ok()) return WithOrigin(committed.status(), loaded, order);
  result.seeded = true;
  result.entities = loaded.size();
  result.revision = committed->revision;
  return result;
}

}  // namespace atlas::services
