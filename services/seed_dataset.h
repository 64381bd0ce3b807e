#pragma once

// Seeding an empty store with the dataset under a directory (data/wto): every
// .yaml/.yml/.json document below it, applied in one commit, so the first
// revision holds the whole dataset or nothing.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace atlas::services {

struct SeedResult {
  // False if the store already held data (nothing was read or written).
  bool seeded = false;
  size_t entities = 0;
  // The store's revision afterwards.
  uint64_t revision = 0;
};

// If the store is empty (revision 0), loads every entity under `seed_dir` and
// commits them together. Errors name the file and document at fault, e.g.
// "data/wto/x.yaml document 2 (line 14): topics[0]: unknown topic ...".
absl::StatusOr<SeedResult> SeedIfEmpty(storage::Store& store,
                                       const std::string& seed_dir);

}  // namespace atlas::services
