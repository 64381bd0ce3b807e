// History rows (schema 2). A commit writes each new version once, inside its
// change set row, and leaves an empty history row (name \0 BE64(revision) ->
// "") pointing there. Before the change log is compacted below a revision,
// the versions in the rows being dropped are copied into their history rows,
// so history outlives the change log. A non-empty history row is the version
// itself (materialized, or written by schema 1).
//
// Change set rows are scanned in their wire format (atlas/v1/change.proto)
// to find one entity without parsing the others.

#include <rocksdb/write_batch.h>

#include "absl/strings/str_cat.h"
#include "storage/keys.h"
#include "storage/status_macros.h"
#include "storage/store_internal.h"

namespace atlas::storage {
namespace {

// Field numbers read here: ChangeSet.changes, Change.entity, Entity.name.
constexpr int kChangeSetChanges = 3;
constexpr int kChangeEntity = 3;
constexpr int kEntityName = 1;
constexpr int kWireLen = 2;

// Reads protobuf wire format fields one by one.
class WireReader {
 public:
  explicit WireReader(absl::string_view data) : data_(data) {}

  bool done() const { return data_.empty(); }

  // The next field: its number, wire type, and for LEN fields its bytes.
  // False if the data is malformed.
  bool Next(int& number, int& wire_type, absl::string_view& bytes) {
    uint64_t tag = 0;
    if (!Varint(tag)) return false;
    number = static_cast<int>(tag >> 3);
    wire_type = static_cast<int>(tag & 7);
    bytes = absl::string_view();
    uint64_t skip = 0;
    switch (wire_type) {
      case 0:
        return Varint(skip);
      case 1:
        return Skip(8);
      case kWireLen: {
        uint64_t length = 0;
        if (!Varint(length) || length > data_.size()) return false;
        bytes = data_.substr(0, length);
        data_.remove_prefix(length);
        return true;
      }
      case 5:
        return Skip(4);
      default:
        return false;
    }
  }

 private:
  bool Varint(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64 && !data_.empty(); shift += 7) {
      const auto byte = static_cast<unsigned char>(data_.front());
      data_.remove_prefix(1);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool Skip(size_t n) {
    if (data_.size() < n) return false;
    data_.remove_prefix(n);
    return true;
  }

  absl::string_view data_;
};

// The first LEN field `number` of `message`, if any.
bool FindLenField(absl::string_view message, int number,
                  absl::string_view& out) {
  WireReader reader(message);
  int field = 0, type = 0;
  absl::string_view bytes;
  while (!reader.done()) {
    if (!reader.Next(field, type, bytes)) return false;
    if (field == number && type == kWireLen) {
      out = bytes;
      return true;
    }
  }
  return false;
}

// Calls `each(name, entity_bytes)` for every change of a change set row;
// false if the row is malformed.
template <typename Each>
bool ForEachEntity(absl::string_view set_row, Each each) {
  WireReader reader(set_row);
  int field = 0, type = 0;
  absl::string_view change;
  while (!reader.done()) {
    if (!reader.Next(field, type, change)) return false;
    if (field != kChangeSetChanges || type != kWireLen) continue;
    absl::string_view entity, name;
    if (!FindLenField(change, kChangeEntity, entity) ||
        !FindLenField(entity, kEntityName, name)) {
      return false;
    }
    if (!each(name, entity)) return true;
  }
  return true;
}

}  // namespace

absl::StatusOr<v1::Entity> ReadHistoryVersion(
    rocksdb::DB& db, rocksdb::ColumnFamilyHandle* changes,
    const rocksdb::ReadOptions& read, absl::string_view name,
    uint64_t revision, absl::string_view row) {
  v1::Entity entity;
  if (!row.empty()) {
    if (!entity.ParseFromArray(row.data(), static_cast<int>(row.size()))) {
      return absl::DataLossError(absl::StrCat(
          "corrupt history row of ", name, " at revision ", revision));
    }
    return entity;
  }
  rocksdb::PinnableSlice set_row;
  rocksdb::Status status =
      db.Get(read, changes, keys::Revision(revision), &set_row);
  if (status.IsNotFound()) {
    return absl::DataLossError(
        absl::StrCat("history of ", name, " points at revision ", revision,
                     ", which is missing from the change log"));
  }
  ATLAS_RETURN_IF_ERROR(FromRocks(status, "reading change log"));
  bool found = false, parsed = false;
  const bool well_formed = ForEachEntity(
      absl::string_view(set_row.data(), set_row.size()),
      [&](absl::string_view entity_name, absl::string_view bytes) {
        if (entity_name != name) return true;
        found = true;
        parsed = entity.ParseFromArray(bytes.data(),
                                       static_cast<int>(bytes.size()));
        return false;
      });
  if (!well_formed || !found || !parsed) {
    return absl::DataLossError(absl::StrCat("change log row ", revision,
                                            " has no valid version of ", name));
  }
  return entity;
}

absl::Status StageHistoryRows(rocksdb::ColumnFamilyHandle* history,
                              uint64_t revision, absl::string_view set_row,
                              rocksdb::WriteBatch& batch) {
  rocksdb::Status status;
  const bool well_formed = ForEachEntity(
      set_row, [&](absl::string_view name, absl::string_view bytes) {
        status = batch.Put(history, keys::History(name, revision),
                           rocksdb::Slice(bytes.data(), bytes.size()));
        return status.ok();
      });
  ATLAS_RETURN_IF_ERROR(FromRocks(status, "staging history rows"));
  if (!well_formed) {
    return absl::DataLossError(
        absl::StrCat("change log row ", revision, " is corrupt"));
  }
  return absl::OkStatus();
}

}  // namespace atlas::storage
