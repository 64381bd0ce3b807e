#include "storage/store.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "storage/disk_full.h"
#include "storage/keys.h"
#include "storage/list_snapshots.h"
#include "storage/status_macros.h"
#include "storage/store_internal.h"

namespace atlas::storage {
namespace {

// 2: history rows point into the change log (store_history.cc). A schema 1
// store (full history rows only) is read as it is and marked 2.
constexpr absl::string_view kSchemaVersion = "2";

rocksdb::ColumnFamilyOptions PointLookupOptions() {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // A bloom filter over the memtable's keys too: every write reads the
  // entity first, and for a new one that read would otherwise walk the
  // memtable's skip list to find nothing.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.02;
  return options;
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsNoSpace()) {
    // RocksDB refuses writes from the first failed one until space is freed
    // and DB::Resume() succeeds (storage/disk_full.h); reads go on.
    return absl::ResourceExhaustedError(absl::StrCat(
        what, ": disk full: writes are refused until space is freed in the "
              "data directory (",
        status.ToString(), ")"));
  }
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsInvalidArgument()) return absl::FailedPreconditionError(message);
  return absl::UnavailableError(message);
}

Store::Store(StoreOptions options) : options_(std::move(options)) {}

Store::~Store() {
  {  // A thread may still be leading asynchronous commits (CommitAsync).
    atlas::MutexLock lock(&queue_mu_);
    queue_mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return !leader_active_;
    });
  }
  list_snapshots_.reset();
  if (handles_ && handles_->disk_full) handles_->disk_full->Stop();
  if (handles_ && handles_->db) {
    // Write the memtables out now, so the next Open has no WAL to replay
    // and serves at once. Best effort: whatever is not flushed (a full
    // disk) is still in the WAL.
    rocksdb::FlushOptions flush;
    flush.allow_write_stall = true;
    handles_->db->Flush(flush, handles_->all).PermitUncheckedError();
    for (auto* handle : handles_->all) {
      handles_->db->DestroyColumnFamilyHandle(handle);
    }
    handles_->db->Close();
  }
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("store path is required");
  }
  std::unique_ptr<Store> store(new Store(std::move(options)));
  ATLAS_RETURN_IF_ERROR(store->Init());
  return store;
}

absl::Status Store::Init() {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  db_options.max_total_wal_size = options_.max_wal_bytes;
  // After a crash, replay the WAL into memtables and start serving, rather
  // than first writing what it holds out as level-0 files.
  db_options.avoid_flush_during_recovery = true;
  // RocksDB's LOG, written so that a full disk cannot abort the process, and
  // the handler that resumes writes once space is freed (disk_full.h).
  std::error_code ignored;
  std::filesystem::create_directories(options_.path, ignored);
  db_options.info_log = std::make_shared<InfoLogFile>(
      options_.path + "/LOG", rocksdb::InfoLogLevel::INFO_LEVEL);
  auto disk_full = std::make_shared<DiskFullRecovery>(options_.resume_interval);
  db_options.listeners.push_back(disk_full);

  const rocksdb::ColumnFamilyOptions point = PointLookupOptions();
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"entities", point},
      {"history", rocksdb::ColumnFamilyOptions()},
      {"changes", rocksdb::ColumnFamilyOptions()},
      {"index", rocksdb::ColumnFamilyOptions()},
      {"meta", rocksdb::ColumnFamilyOptions()},
  };
  handles_ = std::make_unique<Handles>();
  rocksdb::DB* db = nullptr;
  ATLAS_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::Open(db_options, options_.path, families,
                                  &handles_->all, &db),
                absl::StrCat("opening store at ", options_.path)));
  handles_->db.reset(db);
  handles_->disk_full = disk_full;
  disk_full->Start(db);
  handles_->entities = handles_->all[1];
  handles_->history = handles_->all[2];
  handles_->changes = handles_->all[3];
  handles_->index = handles_->all[4];
  handles_->meta = handles_->all[5];

  rocksdb::ReadOptions read;
  std::string value;
  rocksdb::Status status =
      db->Get(read, handles_->meta, std::string(keys::kMetaSchema), &value);
  if (!status.ok() && !status.IsNotFound()) {
    return FromRocks(status, "reading schema version");
  }
  // A new store, or schema 1 (full history rows), which schema 2 reads as it
  // is: record the current version.
  if (status.IsNotFound() || value == "1") {
    rocksdb::WriteOptions write;
    write.sync = true;
    ATLAS_RETURN_IF_ERROR(FromRocks(
        db->Put(write, handles_->meta, std::string(keys::kMetaSchema),
                std::string(kSchemaVersion)),
        "writing schema version"));
  } else if (value != kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("store at ", options_.path, " has schema version ",
                     value, "; this build reads ", kSchemaVersion));
  }
  uint64_t revision = 0;
  uint64_t oldest = 1;
  status = db->Get(read, handles_->meta, std::string(keys::kMetaRevision), &value);
  if (status.ok()) {
    revision = keys::ParseRevision(value).value_or(0);
  } else if (!status.IsNotFound()) {
    return FromRocks(status, "reading revision");
  }
  status = db->Get(read, handles_->meta, std::string(keys::kMetaOldest), &value);
  if (status.ok()) {
    oldest = keys::ParseRevision(value).value_or(1);
  } else if (!status.IsNotFound()) {
    return FromRocks(status, "reading oldest revision");
  }
  {
    atlas::MutexLock lock(&revision_mu_);
    revision_ = revision;
    oldest_ = oldest;
  }
  list_snapshots_ = std::make_unique<ListSnapshots>(
      *handles_->db, handles_->meta, options_.list_snapshot_ttl, options_.max_list_snapshots,
      options_.now);
  return absl::OkStatus();
}

uint64_t Store::CurrentRevision() const {
  atlas::MutexLock lock(&revision_mu_);
  return revision_;
}

uint64_t Store::OldestRevision() const {
  atlas::MutexLock lock(&revision_mu_);
  return oldest_;
}

void Store::SetCommitObserver(CommitObserver* observer) {
  atlas::MutexLock lock(&queue_mu_);
  observer_ = observer;
}

absl::Status Store::CompactChangeLog(uint64_t new_oldest) {
  // Serialized with commits so the floor never passes a revision being made.
  atlas::MutexLock lock(&compaction_mu_);
  uint64_t current, oldest;
  {
    atlas::MutexLock revision_lock(&revision_mu_);
    current = revision_;
    oldest = oldest_;
  }
  new_oldest = std::min(new_oldest, current + 1);
  rocksdb::WriteOptions write;
  write.sync = options_.sync_writes;
  // The versions in the rows to drop are copied into their history rows
  // first (store_history.cc), in chunks of about kChunkBytes, each one batch
  // that also drops its rows and moves the floor.
  constexpr size_t kChunkBytes = 4 << 20;
  const std::string upper = keys::Revision(new_oldest);
  while (oldest < new_oldest) {
    rocksdb::WriteBatch batch;
    uint64_t end = new_oldest;
    {
      rocksdb::Slice upper_slice(upper);
      rocksdb::ReadOptions read;
      read.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(
          handles_->db->NewIterator(read, handles_->changes));
      for (it->Seek(keys::Revision(oldest)); it->Valid(); it->Next()) {
        if (batch.GetDataSize() >= kChunkBytes) {
          end = keys::ParseRevision(absl::string_view(it->key().data(),
                                                      it->key().size()))
                    .value_or(new_oldest);
          break;
        }
        const uint64_t revision =
            keys::ParseRevision(
                absl::string_view(it->key().data(), it->key().size()))
                .value_or(0);
        ATLAS_RETURN_IF_ERROR(StageHistoryRows(
            handles_->history, revision,
            absl::string_view(it->value().data(), it->value().size()),
            batch));
      }
      ATLAS_RETURN_IF_ERROR(FromRocks(it->status(), "reading change log"));
    }
    batch.DeleteRange(handles_->changes, keys::Revision(oldest),
                      keys::Revision(end));
    batch.Put(handles_->meta, std::string(keys::kMetaOldest),
              keys::Revision(end));
    ATLAS_RETURN_IF_ERROR(
        FromRocks(handles_->db->Write(write, &batch), "compacting change log"));
    atlas::MutexLock revision_lock(&revision_mu_);
    oldest_ = end;
    oldest = end;
  }
  return absl::OkStatus();
}

}  // namespace atlas::storage
