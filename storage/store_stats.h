#pragma once

// What the store reports about itself for monitoring, with no dependency on
// a metrics library: services/ turns these into Prometheus series.

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"

namespace atlas::storage {

// Told about every write group the commit path writes (one WriteBatch, one
// WAL sync), on the group leader's thread right after the write: keep it
// short, the next group waits.
class CommitStatsObserver {
 public:
  virtual ~CommitStatsObserver() = default;
  // `requests`: commit requests in the group (its size); `revisions`:
  // revisions it created; `write_time`: the batch write including the WAL
  // sync.
  virtual void OnGroupWritten(size_t requests, uint64_t revisions,
                              absl::Duration write_time) = 0;
};

// RocksDB's own estimates, summed over the column families.
struct DiskStats {
  uint64_t live_data_bytes = 0;           // rocksdb.estimate-live-data-size
  uint64_t pending_compaction_bytes = 0;  // ...estimate-pending-compaction-bytes
};

}  // namespace atlas::storage
