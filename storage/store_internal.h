#pragma once

// Private to storage/: the RocksDB handles behind Store and the one place a
// rocksdb::Status becomes an absl::Status.

#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "absl/status/status.h"
#include "storage/store.h"

namespace atlas::storage {

struct Store::Handles {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* entities = nullptr;
  rocksdb::ColumnFamilyHandle* history = nullptr;
  rocksdb::ColumnFamilyHandle* changes = nullptr;
  rocksdb::ColumnFamilyHandle* index = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> all;  // owned; destroyed on close
};

// Maps a RocksDB failure to a canonical code: I/O and space trouble is
// UNAVAILABLE (retryable), corruption DATA_LOSS.
absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what);

}  // namespace atlas::storage
