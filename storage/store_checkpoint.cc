// Store::Backup: an online, consistent copy of the store as a RocksDB
// checkpoint. RocksDB flushes the memtables, then hard-links the SST files
// (copies them across filesystems) and copies the rest, all at one point of
// its write sequence; a commit group is one WriteBatch, so the copy holds
// whole commits and its meta/revision row names the last one. Writes go on
// meanwhile. The copy is then opened read-only to read that revision, which
// also proves it opens.

#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include <rocksdb/utilities/checkpoint.h>

#include "absl/strings/str_cat.h"
#include "storage/disk_full.h"
#include "storage/keys.h"
#include "storage/status_macros.h"
#include "storage/store.h"
#include "storage/store_internal.h"

namespace atlas::storage {
namespace {

namespace fs = std::filesystem;

// The target as an absolute path, ready for RocksDB to create: refused if it
// exists and is not an empty directory; an empty one is removed (RocksDB
// creates the checkpoint under a temporary name and renames it into place);
// missing parents are created.
absl::StatusOr<fs::path> PrepareTarget(const std::string& directory) {
  if (directory.empty()) {
    return absl::InvalidArgumentError("directory: is required");
  }
  std::error_code error;
  const fs::path target = fs::absolute(directory, error).lexically_normal();
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "directory: cannot resolve \"", directory, "\": ", error.message()));
  }
  const fs::file_status status = fs::status(target, error);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "directory: ", target.string(), " exists and is not a directory"));
    }
    if (!fs::is_empty(target, error) || error) {
      return absl::FailedPreconditionError(
          absl::StrCat("directory: ", target.string(),
                       " exists and is not empty; a backup needs a new or "
                       "empty directory"));
    }
    fs::remove(target, error);
  } else {
    fs::create_directories(target.parent_path(), error);
  }
  if (error) {
    return absl::FailedPreconditionError(absl::StrCat(
        "directory: cannot prepare ", target.string(), ": ", error.message()));
  }
  return target;
}

uint64_t DirectoryBytes(const fs::path& directory) {
  uint64_t bytes = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    if (entry.is_regular_file(error)) bytes += entry.file_size(error);
  }
  return bytes;
}

// The revision recorded in the store at `path` (column families `families`,
// `meta` among them), opened read-only.
absl::StatusOr<uint64_t> RecordedRevision(
    const std::string& path, const std::vector<std::string>& families,
    const std::string& meta_family) {
  rocksdb::DBOptions options;
  options.info_log = std::make_shared<InfoLogFile>(
      "", rocksdb::InfoLogLevel::ERROR_LEVEL);  // leave no LOG behind
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : families) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> opened;
  rocksdb::DB* raw = nullptr;
  ATLAS_RETURN_IF_ERROR(FromRocks(
      rocksdb::DB::OpenForReadOnly(options, path, descriptors, &opened, &raw),
      absl::StrCat("opening the backup at ", path)));
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  for (rocksdb::ColumnFamilyHandle* handle : opened) {
    if (handle->GetName() == meta_family) meta = handle;
  }
  std::string value;
  const rocksdb::Status status = db->Get(
      rocksdb::ReadOptions(), meta, std::string(keys::kMetaRevision), &value);
  for (rocksdb::ColumnFamilyHandle* handle : opened) {
    db->DestroyColumnFamilyHandle(handle);
  }
  if (status.IsNotFound()) return 0;  // an empty store
  ATLAS_RETURN_IF_ERROR(FromRocks(status, "reading the backup's revision"));
  std::optional<uint64_t> revision = keys::ParseRevision(value);
  if (!revision.has_value()) {
    return absl::DataLossError(
        absl::StrCat("the backup at ", path, " has a corrupt revision row"));
  }
  return *revision;
}

}  // namespace

absl::StatusOr<BackupResult> Store::Backup(const std::string& directory) {
  ATLAS_ASSIGN_OR_RETURN(const fs::path target, PrepareTarget(directory));
  rocksdb::Checkpoint* raw = nullptr;
  ATLAS_RETURN_IF_ERROR(FromRocks(
      rocksdb::Checkpoint::Create(handles_->db.get(), &raw), "backup"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  ATLAS_RETURN_IF_ERROR(
      FromRocks(checkpoint->CreateCheckpoint(target.string()),
                absl::StrCat("writing the backup to ", target.string())));
  BackupResult result;
  result.directory = target.string();
  std::vector<std::string> families;
  for (rocksdb::ColumnFamilyHandle* handle : handles_->all) {
    families.push_back(handle->GetName());
  }
  ATLAS_ASSIGN_OR_RETURN(
      result.revision,
      RecordedRevision(result.directory, families, handles_->meta->GetName()));
  result.bytes = DirectoryBytes(target);
  return result;
}

}  // namespace atlas::storage
