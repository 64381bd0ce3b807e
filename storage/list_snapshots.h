#pragma once

// The RocksDB snapshots behind List page tokens: every page of a listing reads
// the snapshot its first page took, so pages stay consistent while writes
// land. A snapshot unused for the TTL, or beyond the count cap, is released.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include <rocksdb/db.h>

#include "common/mutex.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace atlas::storage {

class Store::ListSnapshots {
 public:
  struct Listing {
    std::shared_ptr<const rocksdb::Snapshot> snapshot;
    uint64_t revision = 0;
  };

  ListSnapshots(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* meta,
                absl::Duration ttl, size_t max_count,
                std::function<absl::Time()> now);

  // A snapshot of the current state and the revision it reflects.
  absl::StatusOr<Listing> Begin();
  // The snapshot of a listing begun at `revision`, if still kept.
  std::shared_ptr<const rocksdb::Snapshot> Find(uint64_t revision);

 private:
  struct Entry {
    std::shared_ptr<const rocksdb::Snapshot> snapshot;
    absl::Time last_used;
  };
  void ExpireLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  rocksdb::DB& db_;
  rocksdb::ColumnFamilyHandle* meta_;
  const absl::Duration ttl_;
  const size_t max_count_;
  const std::function<absl::Time()> now_;
  atlas::Mutex mu_;
  std::map<uint64_t, Entry> by_revision_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atlas::storage
