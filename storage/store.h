#pragma once

// Store: the one owner of Atlas' RocksDB database.
//
// Column families:
//   entities  name -> Entity (current version of each live entity)
//   history   name \0 BE64(revision) -> "" (every version, tombstones too:
//             the version is in the change set row of that revision) or
//             the Entity itself (once that row is compacted away)
//   changes   BE64(revision) -> ChangeSet (the change log)
//   index     "k\0kind\0name", "t\0topic\0name", "l\0target\0name" -> ""
//   meta      "revision" -> BE64, "oldest" -> BE64, "schema" -> version
//
// Writes go through Commit(): concurrent callers are merged into groups
// (group commit); each group is one rocksdb::WriteBatch and one WAL sync, and
// every request in it that succeeds gets its own revision, in order.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "absl/time/time.h"
#include "atlas/v1/change.pb.h"
#include "atlas/v1/entity.pb.h"
#include "storage/store_stats.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Snapshot;
}  // namespace rocksdb

namespace atlas::storage {

struct StoreOptions {
  // Directory of the RocksDB database; created if missing.
  std::string path;
  // Sync the WAL before a commit is acknowledged (durable writes).
  bool sync_writes = true;
  // Largest accepted serialized entity, in bytes.
  size_t max_entity_bytes = 1 << 20;
  // Most commit requests merged into one write group.
  size_t max_group_size = 1024;
  // Live write-ahead log above which the column families that still have
  // data in its oldest file are flushed, so that the file can be deleted
  // (RocksDB's max_total_wal_size; 0 leaves it to RocksDB, which keeps
  // gigabytes for the rarely written families). Bounds what a restart after
  // a crash replays, and the disk and page cache the log holds.
  uint64_t max_wal_bytes = 256 << 20;
  // How long an unused list snapshot (behind a page token) is kept.
  absl::Duration list_snapshot_ttl = absl::Minutes(5);
  // Most list snapshots kept at once; the least recently used goes first.
  size_t max_list_snapshots = 64;
  // Source of create/update times (injectable for tests).
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // While a full disk stops writes, how often resuming them is retried
  // (storage/disk_full.h); reads go on meanwhile.
  absl::Duration resume_interval = absl::Seconds(1);
};

// What a mutation requires of the stored entity.
enum class Expect {
  kAny,           // no requirement
  kMustExist,     // NOT_FOUND if missing
  kMustNotExist,  // ALREADY_EXISTS if present
};

struct Mutation {
  enum class Op { kPut, kDelete };
  Op op = Op::kPut;
  // kPut: the full new content; output-only fields are ignored.
  v1::Entity entity;
  // kDelete: the name to delete.
  std::string name;
  Expect expect = Expect::kAny;
  // If non-empty, the stored etag must equal it (ABORTED otherwise).
  std::string expected_etag;
  // If non-zero, the stored update_revision must equal it (ABORTED otherwise).
  uint64_t expected_revision = 0;

  static Mutation Put(v1::Entity entity, Expect expect = Expect::kAny);
  static Mutation Delete(std::string name, Expect expect = Expect::kMustExist);
  const std::string& target_name() const {
    return op == Op::kPut ? entity.name() : name;
  }
};

struct CommitRequest {
  std::vector<Mutation> mutations;
  // Evaluate validation and preconditions without writing.
  bool validate_only = false;
  // Results carry each entity's name and output-only fields, not its
  // content (OutputOnlyView): less to copy when the caller has the content.
  bool basic_results = false;
};

enum class Outcome { kCreated, kUpdated, kDeleted, kUnchanged };

struct MutationResult {
  Outcome outcome = Outcome::kUnchanged;
  // The entity after the mutation (the tombstone for a delete; empty for a
  // delete of a missing entity).
  v1::Entity entity;
};

struct CommitResult {
  // Revision of the commit, or the current revision if nothing changed.
  uint64_t revision = 0;
  // One per mutation, in request order.
  std::vector<MutationResult> results;
};

struct EntityRead {
  v1::Entity entity;
  uint64_t revision = 0;  // the revision the read reflects
};

struct ListQuery {
  std::string kind;
  std::string topic;
  std::string link;
  int page_size = 0;  // 0 -> 100, at most 1000
  std::string page_token;
};

struct ListPage {
  std::vector<v1::Entity> entities;
  std::string next_page_token;
  uint64_t revision = 0;
};

struct HistoryPage {
  std::vector<v1::Entity> versions;
  std::string next_page_token;
  uint64_t revision = 0;
};

struct BackupResult {
  std::string directory;  // absolute path of the backup
  uint64_t revision = 0;  // the last revision it contains
  uint64_t bytes = 0;     // total size of its files
};

struct ChangeRead {
  // Change sets with revision >= from, in order, no gaps.
  std::vector<v1::ChangeSet> sets;
  // Current revision when the read was made.
  uint64_t revision = 0;
};

// Told about every committed change set, in revision order, after it is
// durable. Called on the committing thread: keep it short and non-blocking.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  virtual void OnCommit(const v1::ChangeSet& change_set) = 0;
  // The same, sharing the committed set (never changed afterwards) instead
  // of lending it. The store calls this one; by default it calls OnCommit.
  virtual void OnCommitShared(std::shared_ptr<const v1::ChangeSet> change_set) {
    OnCommit(*change_set);
  }
  // The sets of one write group, in revision order, in one call (so that an
  // observer handing them to another thread takes its lock and wakes that
  // thread once per group, not once per set). The store calls this one; by
  // default it calls OnCommitShared for each.
  virtual void OnCommitGroup(
      std::vector<std::shared_ptr<const v1::ChangeSet>> change_sets) {
    for (auto& set : change_sets) OnCommitShared(std::move(set));
  }
};

class Store {
 public:
  static absl::StatusOr<std::unique_ptr<Store>> Open(StoreOptions options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Atomically applies all mutations at one new revision, or none.
  // INVALID_ARGUMENT for bad input ("mutations[i].field: why"), ABORTED for a
  // stale etag or revision, NOT_FOUND / ALREADY_EXISTS for existence
  // expectations, UNAVAILABLE when the write itself fails. Mutations that
  // change nothing are reported kUnchanged; if none changes anything, no
  // revision is created.
  absl::StatusOr<CommitResult> Commit(CommitRequest request);

  // Commit without waiting: returns at once, and `done` is called exactly
  // once with what Commit would have returned, after the commit is durable
  // (or failed), on whichever thread leads that group; possibly on this one
  // before CommitAsync returns. `done` must be short and must not call
  // Commit() (it may call CommitAsync()). This is what lets a server keep
  // thousands of writes in flight on a few threads, so that they share WAL
  // syncs.
  using CommitCallback = std::function<void(absl::StatusOr<CommitResult>)>;
  void CommitAsync(CommitRequest request, CommitCallback done);

  // The current entity, or the version visible at `revision` (0 = current).
  absl::StatusOr<EntityRead> Get(const std::string& name,
                                 uint64_t revision = 0) const;
  // One page of entities matching the query, in name order. Every page of a
  // listing reflects the revision of its first page.
  absl::StatusOr<ListPage> List(const ListQuery& query);
  // Versions of one entity, oldest first.
  absl::StatusOr<HistoryPage> History(const std::string& name, int page_size,
                                      const std::string& page_token) const;
  // Change sets from revision `from` (inclusive), at most `max_sets`.
  // OUT_OF_RANGE if `from` is below the oldest retained revision.
  absl::StatusOr<ChangeRead> ReadChanges(uint64_t from, size_t max_sets) const;

  uint64_t CurrentRevision() const;
  // Oldest revision still in the change log (1 when nothing was compacted).
  uint64_t OldestRevision() const;
  // Drops change-log entries below `new_oldest` (clamped to current + 1).
  absl::Status CompactChangeLog(uint64_t new_oldest);

  // Writes a consistent copy of the store to `directory` (absolute, or
  // relative to the working directory) while commits go on; the copy is a
  // store Open() accepts. The directory must not exist or be empty
  // (FAILED_PRECONDITION otherwise); missing parents are created. Same
  // filesystem: SST files are hard-linked, so a backup costs little space
  // until the store compacts (store_checkpoint.cc).
  absl::StatusOr<BackupResult> Backup(const std::string& directory);

  // At most one observer; set it before the first commit.
  void SetCommitObserver(CommitObserver* observer);
  // Told about every write group (size, WAL sync time); set it before the
  // first commit, clear it only when no commit runs (store_stats.cc).
  void SetCommitStatsObserver(CommitStatsObserver* observer);
  // RocksDB's size estimates, for monitoring.
  DiskStats GetDiskStats() const;

  const StoreOptions& options() const { return options_; }

 private:
  struct Handles;
  struct PendingCommit;
  class ListSnapshots;

  explicit Store(StoreOptions options);
  absl::Status Init();
  // Runs groups from the queue while this thread leads (store_commit.cc).
  void Lead(PendingCommit* self);
  void RunGroup(std::vector<PendingCommit*>& group);
  // Tells the stats observer about a written group (store_stats.cc).
  void ReportGroupWritten(size_t requests, uint64_t revisions,
                          std::chrono::steady_clock::time_point write_start);

  StoreOptions options_;
  std::unique_ptr<Handles> handles_;
  std::unique_ptr<ListSnapshots> list_snapshots_;

  mutable atlas::Mutex queue_mu_;
  std::vector<PendingCommit*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool leader_active_ ABSL_GUARDED_BY(queue_mu_) = false;

  // Written only by the group leader; read by anyone.
  mutable atlas::Mutex revision_mu_;
  uint64_t revision_ ABSL_GUARDED_BY(revision_mu_) = 0;
  uint64_t oldest_ ABSL_GUARDED_BY(revision_mu_) = 1;
  CommitObserver* observer_ ABSL_GUARDED_BY(queue_mu_) = nullptr;
  std::atomic<CommitStatsObserver*> stats_observer_{nullptr};
  // Serializes change-log compactions.
  atlas::Mutex compaction_mu_;
};

}  // namespace atlas::storage
