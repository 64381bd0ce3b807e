// Store's monitoring hooks (storage/store_stats.h): the write-group report
// made by the commit path, and RocksDB's size estimates.

#include <chrono>

#include "storage/store.h"
#include "storage/store_internal.h"

namespace atlas::storage {

void Store::SetCommitStatsObserver(CommitStatsObserver* observer) {
  stats_observer_.store(observer, std::memory_order_release);
}

void Store::ReportGroupWritten(
    size_t requests, uint64_t revisions,
    std::chrono::steady_clock::time_point write_start) {
  CommitStatsObserver* observer =
      stats_observer_.load(std::memory_order_acquire);
  if (observer == nullptr) return;
  observer->OnGroupWritten(
      requests, revisions,
      absl::FromChrono(std::chrono::steady_clock::now() - write_start));
}

DiskStats Store::GetDiskStats() const {
  DiskStats stats;
  // Estimates; a property RocksDB cannot compute leaves its field at 0.
  handles_->db->GetAggregatedIntProperty(
      "rocksdb.estimate-live-data-size", &stats.live_data_bytes);
  handles_->db->GetAggregatedIntProperty(
      "rocksdb.estimate-pending-compaction-bytes",
      &stats.pending_compaction_bytes);
  return stats;
}

}  // namespace atlas::storage
