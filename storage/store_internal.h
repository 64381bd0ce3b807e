#pragma once

// Private to storage/: the RocksDB handles behind Store and the one place a
// rocksdb::Status becomes an absl::Status.

#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/store.h"

namespace atlas::storage {

class DiskFullRecovery;

// The entities written at revisions after `floor`, with the last revision
// each was written at. A caller's read of an entity made when the current
// revision was R >= floor is still current if the entity was not written
// after R (store_commit.cc).
struct RecentWrites {
  bool started = false;
  uint64_t floor = 0;
  absl::flat_hash_map<std::string, uint64_t> names;
};

struct Store::Handles {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* entities = nullptr;
  rocksdb::ColumnFamilyHandle* history = nullptr;
  rocksdb::ColumnFamilyHandle* changes = nullptr;
  rocksdb::ColumnFamilyHandle* index = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> all;  // owned; destroyed on close
  // Resumes writes stopped by a full disk; stopped before the database
  // closes (storage/disk_full.h).
  std::shared_ptr<DiskFullRecovery> disk_full;
  // Group leaders only (store_commit.cc).
  RecentWrites recent_writes;
};

// Maps a RocksDB failure to a canonical code: I/O and space trouble is
// UNAVAILABLE (retryable), corruption DATA_LOSS.
absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what);

// History rows (store_history.cc). The version a history row stands for:
// `row` itself, or (an empty row) the entity `name` inside the change set row
// of `revision`, read with `read` (use the snapshot the row came from).
absl::StatusOr<v1::Entity> ReadHistoryVersion(
    rocksdb::DB& db, rocksdb::ColumnFamilyHandle* changes,
    const rocksdb::ReadOptions& read, absl::string_view name,
    uint64_t revision, absl::string_view row);
// Stages into `batch` a full history row for each version in the change set
// row `set_row` of `revision`, before that row is compacted away.
absl::Status StageHistoryRows(rocksdb::ColumnFamilyHandle* history,
                              uint64_t revision, absl::string_view set_row,
                              rocksdb::WriteBatch& batch);

}  // namespace atlas::storage
