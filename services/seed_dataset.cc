#include "services/seed_dataset.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/document_files.h"
#include "storage/status_macros.h"

namespace atlas::services {
namespace {

// The store names the entity at fault "mutations[i]"; name its document.
absl::Status WithOrigin(const absl::Status& status,
                        const std::vector<documents::DecodedEntity>& loaded) {
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
      index >= loaded.size()) {
    return status;
  }
  absl::string_view rest = message.substr(close + 1);
  if (absl::StartsWith(rest, ".")) rest.remove_prefix(1);
  if (absl::StartsWith(rest, ": ")) rest.remove_prefix(2);
  return absl::Status(
      status.code(),
      absl::StrCat(documents::DescribeOrigin(loaded[index].origin), " (",
                   loaded[index].entity.name(), "): ", rest));
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
  storage::CommitRequest commit;
  commit.mutations.reserve(loaded.size());
  for (const documents::DecodedEntity& decoded : loaded) {
    commit.mutations.push_back(
        storage::Mutation::Put(decoded.entity, storage::Expect::kAny));
  }
  absl::StatusOr<storage::CommitResult> committed =
      store.Commit(std::move(commit));
  if (!committed.ok()) return WithOrigin(committed.status(), loaded);
  result.seeded = true;
  result.entities = loaded.size();
  result.revision = committed->revision;
  return result;
}

}  // namespace atlas::services
