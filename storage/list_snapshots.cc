#include "storage/list_snapshots.h"

#include "storage/keys.h"
#include "storage/store_internal.h"

namespace atlas::storage {

Store::ListSnapshots::ListSnapshots(rocksdb::DB& db,
                                    rocksdb::ColumnFamilyHandle* meta,
                                    absl::Duration ttl, size_t max_count,
                                    std::function<absl::Time()> now)
    : db_(db),
      meta_(meta),
      ttl_(ttl),
      max_count_(std::max<size_t>(max_count, 1)),
      now_(std::move(now)) {}

absl::StatusOr<Store::ListSnapshots::Listing> Store::ListSnapshots::Begin() {
  rocksdb::DB* db = &db_;
  std::shared_ptr<const rocksdb::Snapshot> snapshot(
      db->GetSnapshot(),
      [db](const rocksdb::Snapshot* s) { db->ReleaseSnapshot(s); });
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  std::string value;
  uint64_t revision = 0;
  rocksdb::Status status =
      db->Get(read, meta_, std::string(keys::kMetaRevision), &value);
  if (status.ok()) {
    revision = keys::ParseRevision(value).value_or(0);
  } else if (!status.IsNotFound()) {
    return FromRocks(status, "reading revision");
  }
  const absl::Time now = now_();
  atlas::MutexLock lock(&mu_);
  ExpireLocked(now);
  auto [it, inserted] = by_revision_.try_emplace(revision, Entry{snapshot, now});
  it->second.last_used = now;
  if (inserted && by_revision_.size() > max_count_) {
    // Drop the least recently used listing other than this one.
    auto victim = by_revision_.end();
    for (auto e = by_revision_.begin(); e != by_revision_.end(); ++e) {
      if (e->first == revision) continue;
      if (victim == by_revision_.end() ||
          e->second.last_used < victim->second.last_used) {
        victim = e;
      }
    }
    if (victim != by_revision_.end()) by_revision_.erase(victim);
  }
  return Listing{it->second.snapshot, revision};
}

std::shared_ptr<const rocksdb::Snapshot> Store::ListSnapshots::Find(
    uint64_t revision) {
  const absl::Time now = now_();
  atlas::MutexLock lock(&mu_);
  ExpireLocked(now);
  auto it = by_revision_.find(revision);
  if (it == by_revision_.end()) return nullptr;
  it->second.last_used = now;
  return it->second.snapshot;
}

void Store::ListSnapshots::ExpireLocked(absl::Time now) {
  for (auto it = by_revision_.begin(); it != by_revision_.end();) {
    if (now - it->second.last_used > ttl_) {
      it = by_revision_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace atlas::storage
