// Store's read paths: Get (current or at a revision), List, History and the
// change log.

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "storage/entity_rules.h"
#include "storage/keys.h"
#include "storage/list_snapshots.h"
#include "storage/status_macros.h"
#include "storage/store.h"
#include "storage/store_internal.h"

namespace atlas::storage {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0 || requested > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size: ", requested, " is outside 0..", kMaxPageSize));
  }
  return requested == 0 ? kDefaultPageSize : requested;
}

absl::string_view View(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

absl::StatusOr<v1::Entity> ParseEntity(const std::string& bytes,
                                       absl::string_view where) {
  v1::Entity entity;
  if (!entity.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("corrupt entity row at ", where));
  }
  return entity;
}

absl::StatusOr<uint64_t> ReadMetaRevision(rocksdb::DB& db,
                                          rocksdb::ColumnFamilyHandle* meta,
                                          const rocksdb::ReadOptions& read,
                                          absl::string_view key,
                                          uint64_t missing) {
  std::string value;
  rocksdb::Status status = db.Get(read, meta, std::string(key), &value);
  if (status.IsNotFound()) return missing;
  ATLAS_RETURN_IF_ERROR(FromRocks(status, "reading meta"));
  return keys::ParseRevision(value).value_or(missing);
}

// A List page token: the listing's revision, its filter, and the last name
// returned. Fields are '\n'-separated (no field may contain '\n').
struct ListCursor {
  uint64_t revision = 0;
  std::string filter;
  std::string after;
};

std::string FilterKey(const ListQuery& query) {
  return absl::StrCat(query.kind, "|", query.topic, "|", query.link);
}

std::string EncodeCursor(const ListCursor& cursor) {
  return absl::WebSafeBase64Escape(
      absl::StrCat("L1\n", cursor.revision, "\n", cursor.filter, "\n",
                   cursor.after));
}

absl::StatusOr<ListCursor> DecodeCursor(const std::string& token) {
  const auto malformed = absl::InvalidArgumentError(
      "page_token: malformed; pass next_page_token from the previous page");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return malformed;
  std::vector<std::string> parts = absl::StrSplit(raw, '\n');
  ListCursor cursor;
  if (parts.size() != 4 || parts[0] != "L1" ||
      !absl::SimpleAtoi(parts[1], &cursor.revision)) {
    return malformed;
  }
  cursor.filter = parts[2];
  cursor.after = parts[3];
  return cursor;
}

bool Matches(const v1::Entity& entity, const ListQuery& query) {
  if (!query.kind.empty() && KindOf(entity) != query.kind) return false;
  if (!query.topic.empty()) {
    bool found = false;
    for (const auto& topic : entity.topics()) found |= topic == query.topic;
    if (!found) return false;
  }
  if (!query.link.empty()) {
    bool found = false;
    for (const auto& link : entity.links()) found |= link.target() == query.link;
    if (!found) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<EntityRead> Store::Get(const std::string& name,
                                      uint64_t revision) const {
  ATLAS_RETURN_IF_ERROR(ValidateResourceName(name, "name"));
  rocksdb::DB& db = *handles_->db;
  rocksdb::ManagedSnapshot snapshot(&db);
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.snapshot();
  ATLAS_ASSIGN_OR_RETURN(
      uint64_t current,
      ReadMetaRevision(db, handles_->meta, read, keys::kMetaRevision, 0));

  if (revision == 0) {
    std::string value;
    rocksdb::Status status = db.Get(read, handles_->entities, name, &value);
    if (status.IsNotFound()) {
      return absl::NotFoundError(
          absl::StrCat("entity \"", name, "\" does not exist"));
    }
    ATLAS_RETURN_IF_ERROR(FromRocks(status, "reading entity"));
    ATLAS_ASSIGN_OR_RETURN(v1::Entity entity, ParseEntity(value, name));
    return EntityRead{std::move(entity), current};
  }
  if (revision > current) {
    return absl::OutOfRangeError(absl::StrCat("revision: ", revision,
                                              " is in the future; the current "
                                              "revision is ",
                                              current));
  }
  // The newest version at or below `revision`.
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, handles_->history));
  it->SeekForPrev(keys::History(name, revision));
  const std::string prefix = keys::HistoryPrefix(name);
  if (!it->Valid() || !it->key().starts_with(prefix)) {
    ATLAS_RETURN_IF_ERROR(FromRocks(it->status(), "reading history"));
    return absl::NotFoundError(absl::StrCat("entity \"", name,
                                            "\" did not exist at revision ",
                                            revision));
  }
  ATLAS_ASSIGN_OR_RETURN(
      v1::Entity entity,
      ReadHistoryVersion(
          db, handles_->changes, read, name,
          keys::HistoryRevision(View(it->key())).value_or(0),
          View(it->value())));
  if (entity.deleted()) {
    return absl::NotFoundError(absl::StrCat(
        "entity \"", name, "\" did not exist at revision ", revision,
        " (deleted at revision ", entity.update_revision(), ")"));
  }
  return EntityRead{std::move(entity), revision};
}

absl::StatusOr<ListPage> Store::List(const ListQuery& query) {
  if (!query.kind.empty() && !IsKnownKind(query.kind)) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind: \"", query.kind, "\" is not a known kind"));
  }
  if (!query.topic.empty() && !IsSlug(query.topic)) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic: \"", query.topic, "\" is not a topic slug"));
  }
  if (!query.link.empty()) {
    ATLAS_RETURN_IF_ERROR(ValidateResourceName(query.link, "link"));
  }
  ATLAS_ASSIGN_OR_RETURN(int page_size, PageSize(query.page_size));

  ListCursor cursor;
  std::shared_ptr<const rocksdb::Snapshot> snapshot;
  if (query.page_token.empty()) {
    ATLAS_ASSIGN_OR_RETURN(auto listing, list_snapshots_->Begin());
    snapshot = std::move(listing.snapshot);
    cursor.revision = listing.revision;
    cursor.filter = FilterKey(query);
  } else {
    ATLAS_ASSIGN_OR_RETURN(cursor, DecodeCursor(query.page_token));
    if (cursor.filter != FilterKey(query)) {
      return absl::InvalidArgumentError(
          "page_token: was issued for a listing with other filters");
    }
    snapshot = list_snapshots_->Find(cursor.revision);
    if (snapshot == nullptr) {
      return absl::OutOfRangeError(absl::StrCat(
          "page_token: the listing at revision ", cursor.revision,
          " has expired (kept ", absl::FormatDuration(options_.list_snapshot_ttl),
          " after last use); start the listing again"));
    }
  }

  rocksdb::DB& db = *handles_->db;
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  // Scan the narrowest source: an index, or the name range of a collection.
  rocksdb::ColumnFamilyHandle* family = handles_->entities;
  std::string prefix;
  bool via_index = false;
  if (!query.link.empty()) {
    family = handles_->index;
    prefix = keys::IndexPrefix(keys::kLinkIndex, query.link);
    via_index = true;
  } else if (!query.topic.empty()) {
    family = handles_->index;
    prefix = keys::IndexPrefix(keys::kTopicIndex, query.topic);
    via_index = true;
  } else if (!query.kind.empty()) {
    prefix = absl::StrCat(CollectionOfKind(query.kind), "/");
  }
  const std::string upper = keys::PrefixEnd(prefix);
  rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) read.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, family));
  if (cursor.after.empty()) {
    it->Seek(prefix);
  } else {
    const std::string from =
        via_index ? absl::StrCat(prefix, cursor.after) : cursor.after;
    it->Seek(from);
    if (it->Valid() && it->key() == rocksdb::Slice(from)) it->Next();
  }

  ListPage page;
  page.revision = cursor.revision;
  rocksdb::ReadOptions point = read;
  point.iterate_upper_bound = nullptr;
  for (; it->Valid(); it->Next()) {
    const std::string name = via_index
                                 ? it->key().ToString().substr(prefix.size())
                                 : it->key().ToString();
    v1::Entity entity;
    if (via_index) {
      std::string value;
      ATLAS_RETURN_IF_ERROR(
          FromRocks(db.Get(point, handles_->entities, name, &value),
                    absl::StrCat("reading indexed entity ", name)));
      ATLAS_ASSIGN_OR_RETURN(entity, ParseEntity(value, name));
    } else {
      ATLAS_ASSIGN_OR_RETURN(entity, ParseEntity(it->value().ToString(), name));
    }
    if (!Matches(entity, query)) continue;
    if (static_cast<int>(page.entities.size()) == page_size) {
      // One more match exists: this page is not the last.
      cursor.after = page.entities.back().name();
      page.next_page_token = EncodeCursor(cursor);
      break;
    }
    page.entities.push_back(std::move(entity));
  }
  ATLAS_RETURN_IF_ERROR(FromRocks(it->status(), "listing entities"));
  return page;
}

absl::StatusOr<HistoryPage> Store::History(const std::string& name,
                                           int page_size_requested,
                                           const std::string& page_token) const {
  ATLAS_RETURN_IF_ERROR(ValidateResourceName(name, "name"));
  ATLAS_ASSIGN_OR_RETURN(int page_size, PageSize(page_size_requested));
  uint64_t after = 0;
  if (!page_token.empty()) {
    std::string raw;
    if (!absl::WebSafeBase64Unescape(page_token, &raw) || raw.size() != 8) {
      return absl::InvalidArgumentError(
          "page_token: malformed; pass next_page_token from the previous page");
    }
    after = *keys::ParseRevision(raw);
  }
  HistoryPage page;
  page.revision = CurrentRevision();
  const std::string prefix = keys::HistoryPrefix(name);
  const std::string upper = keys::PrefixEnd(prefix);
  rocksdb::Slice upper_slice(upper);
  // One snapshot for the history rows and the change set rows they point at.
  rocksdb::ManagedSnapshot snapshot(handles_->db.get());
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.snapshot();
  read.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      handles_->db->NewIterator(read, handles_->history));
  for (it->Seek(keys::History(name, after + 1)); it->Valid(); it->Next()) {
    if (static_cast<int>(page.versions.size()) == page_size) {
      page.next_page_token = absl::WebSafeBase64Escape(
          keys::Revision(page.versions.back().update_revision()));
      break;
    }
    ATLAS_ASSIGN_OR_RETURN(
        v1::Entity version,
        ReadHistoryVersion(
            *handles_->db, handles_->changes, read, name,
            keys::HistoryRevision(View(it->key())).value_or(0),
            View(it->value())));
    page.versions.push_back(std::move(version));
  }
  ATLAS_RETURN_IF_ERROR(FromRocks(it->status(), "reading history"));
  if (page.versions.empty() && page_token.empty()) {
    return absl::NotFoundError(
        absl::StrCat("entity \"", name, "\" has no history"));
  }
  return page;
}

absl::StatusOr<ChangeRead> Store::ReadChanges(uint64_t from,
                                              size_t max_sets) const {
  rocksdb::DB& db = *handles_->db;
  rocksdb::ManagedSnapshot snapshot(&db);
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.snapshot();
  ATLAS_ASSIGN_OR_RETURN(
      uint64_t current,
      ReadMetaRevision(db, handles_->meta, read, keys::kMetaRevision, 0));
  ATLAS_ASSIGN_OR_RETURN(
      uint64_t oldest,
      ReadMetaRevision(db, handles_->meta, read, keys::kMetaOldest, 1));
  from = std::max<uint64_t>(from, 1);
  if (from < oldest) {
    return absl::OutOfRangeError(absl::StrCat(
        "revision ", from, " is no longer retained; the oldest retained "
        "revision is ", oldest));
  }
  ChangeRead out;
  out.revision = current;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, handles_->changes));
  uint64_t expected = from;
  for (it->Seek(keys::Revision(from)); it->Valid() && out.sets.size() < max_sets;
       it->Next()) {
    v1::ChangeSet set;
    if (!set.ParseFromArray(it->value().data(), it->value().size()) ||
        set.revision() != expected) {
      return absl::DataLossError(absl::StrCat(
          "change log is corrupt or has a gap at revision ", expected));
    }
    ++expected;
    out.sets.push_back(std::move(set));
  }
  ATLAS_RETURN_IF_ERROR(FromRocks(it->status(), "reading change log"));
  return out;
}

}  // namespace atlas::storage
