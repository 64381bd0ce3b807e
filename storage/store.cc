#include "storage/store.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include "absl/strings/str_cat.h"
#include "storage/keys.h"
#include "storage/list_snapshots.h"
#include "storage/status_macros.h"
#include "storage/store_internal.h"

namespace atlas::storage {
namespace {

constexpr absl::string_view kSchemaVersion = "1";

rocksdb::ColumnFamilyOptions PointLookupOptions() {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsInvalidArgument()) return absl::FailedPreconditionError(message);
  return absl::UnavailableError(message);
}

Store::Store(StoreOptions options) : options_(std::move(options)) {}

Store::~Store() {
  list_snapshots_.reset();
  if (handles_ && handles_->db) {
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
  handles_->entities = handles_->all[1];
  handles_->history = handles_->all[2];
  handles_->changes = handles_->all[3];
  handles_->index = handles_->all[4];
  handles_->meta = handles_->all[5];

  rocksdb::ReadOptions read;
  std::string value;
  rocksdb::Status status =
      db->Get(read, handles_->meta, std::string(keys::kMetaSchema), &value);
  if (status.IsNotFound()) {
    rocksdb::WriteOptions write;
    write.sync = true;
    ATLAS_RETURN_IF_ERROR(FromRocks(
        db->Put(write, handles_->meta, std::string(keys::kMetaSchema),
                std::string(kSchemaVersion)),
        "writing schema version"));
  } else {
    ATLAS_RETURN_IF_ERROR(FromRocks(status, "reading schema version"));
    if (value != kSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("store at ", options_.path, " has schema version ",
                       value, "; this build reads ", kSchemaVersion));
    }
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
  if (new_oldest <= oldest) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  batch.DeleteRange(handles_->changes, keys::Revision(oldest),
                    keys::Revision(new_oldest));
  batch.Put(handles_->meta, std::string(keys::kMetaOldest),
            keys::Revision(new_oldest));
  rocksdb::WriteOptions write;
  write.sync = options_.sync_writes;
  ATLAS_RETURN_IF_ERROR(
      FromRocks(handles_->db->Write(write, &batch), "compacting change log"));
  atlas::MutexLock revision_lock(&revision_mu_);
  oldest_ = new_oldest;
  return absl::OkStatus();
}

}  // namespace atlas::storage
