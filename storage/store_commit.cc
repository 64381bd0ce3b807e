// Store::Commit: group commit. Concurrent callers queue up; the first becomes
// the leader, takes the whole queue, decides every request in order against
// the current state (earlier requests of the group included), writes one
// rocksdb::WriteBatch with one WAL sync, then tells each caller its result
// and the observer each change set, in revision order.

#include <optional>

#include <google/protobuf/util/time_util.h>
#include <rocksdb/write_batch.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "storage/entity_rules.h"
#include "storage/field_diff.h"
#include "storage/keys.h"
#include "storage/status_macros.h"
#include "storage/store.h"
#include "storage/store_internal.h"

namespace atlas::storage {

Mutation Mutation::Put(v1::Entity entity, Expect expect) {
  Mutation m;
  m.op = Op::kPut;
  m.entity = std::move(entity);
  m.expect = expect;
  return m;
}

Mutation Mutation::Delete(std::string name, Expect expect) {
  Mutation m;
  m.op = Op::kDelete;
  m.name = std::move(name);
  m.expect = expect;
  return m;
}

struct Store::PendingCommit {
  enum class State { kWaiting, kLead, kDone };

  // Waits until the leader finishes this commit or hands over leadership.
  State Wait() {
    mu.Lock();
    mu.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return state != State::kWaiting;
    });
    const State out = state;
    mu.Unlock();
    return out;
  }
  // Wakes this caller's thread alone (no other thread waits on `mu`).
  void Tell(State to) {
    atlas::MutexLock lock(&mu);
    state = to;
  }
  ~PendingCommit() {
    // Tell() may still be inside mu.Unlock() when Wait() returns: let it
    // leave before `mu` goes away (as atlas::Notification does).
    atlas::MutexLock lock(&mu);
  }

  CommitRequest request;
  absl::StatusOr<CommitResult> result = absl::UnknownError("not run");
  std::optional<v1::ChangeSet> change_set;  // set when it wrote something

  atlas::Mutex mu;
  State state ABSL_GUARDED_BY(mu) = State::kWaiting;
};

namespace {

// The entity state as the group leader sees it: the database plus what
// earlier requests of the group (and earlier mutations of this request) wrote.
// nullopt = known absent.
using Overlay = absl::flat_hash_map<std::string, std::optional<v1::Entity>>;

class GroupState {
 public:
  GroupState(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entities)
      : db_(db), entities_(entities) {}

  absl::StatusOr<std::optional<v1::Entity>> Lookup(const std::string& name,
                                                   const Overlay& local) {
    if (auto it = local.find(name); it != local.end()) return it->second;
    if (auto it = group_.find(name); it != group_.end()) return it->second;
    std::string value;
    rocksdb::Status status =
        db_.Get(rocksdb::ReadOptions(), entities_, name, &value);
    if (status.IsNotFound()) return std::nullopt;
    ATLAS_RETURN_IF_ERROR(FromRocks(status, "reading entity"));
    v1::Entity entity;
    if (!entity.ParseFromString(value)) {
      return absl::DataLossError(absl::StrCat("corrupt entity row ", name));
    }
    return entity;
  }

  void Merge(Overlay& local) {
    for (auto& [name, entity] : local) group_[name] = std::move(entity);
  }

 private:
  rocksdb::DB& db_;
  rocksdb::ColumnFamilyHandle* entities_;
  Overlay group_;
};

std::string Etag(uint64_t revision) { return absl::StrCat(revision); }

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(time));
}

absl::Status CheckPreconditions(const Mutation& m, const std::string& field,
                                const std::optional<v1::Entity>& current) {
  const std::string& name = m.target_name();
  if (!current.has_value()) {
    if (m.expect == Expect::kMustExist) {
      return absl::NotFoundError(
          absl::StrCat(field, ": entity \"", name, "\" does not exist"));
    }
    if (!m.expected_etag.empty() || m.expected_revision != 0) {
      return absl::AbortedError(absl::StrCat(
          field, ": precondition failed: entity \"", name,
          "\" does not exist, so it cannot match the expected version"));
    }
    return absl::OkStatus();
  }
  if (m.expect == Expect::kMustNotExist) {
    return absl::AlreadyExistsError(
        absl::StrCat(field, ": entity \"", name, "\" already exists"));
  }
  if (!m.expected_etag.empty() && m.expected_etag != current->etag()) {
    return absl::AbortedError(absl::StrCat(
        field, ": precondition failed: etag \"", m.expected_etag,
        "\" does not match the stored etag \"", current->etag(), "\" of \"",
        name, "\" (it changed at revision ", current->update_revision(), ")"));
  }
  if (m.expected_revision != 0 &&
      m.expected_revision != current->update_revision()) {
    return absl::AbortedError(absl::StrCat(
        field, ": precondition failed: \"", name, "\" was expected at revision ",
        m.expected_revision, " but changed at revision ",
        current->update_revision()));
  }
  return absl::OkStatus();
}

void IndexRows(const v1::Entity& entity, absl::flat_hash_set<std::string>& out) {
  for (const auto& topic : entity.topics()) {
    out.insert(keys::Index(keys::kTopicIndex, topic, entity.name()));
  }
  for (const auto& link : entity.links()) {
    out.insert(keys::Index(keys::kLinkIndex, link.target(), entity.name()));
  }
}

}  // namespace

// Every caller waits on its own mutex, and leadership passes directly from
// one leader to the next (the oldest queued caller): finishing a group wakes
// each member once and then the next leader, instead of waking every waiter
// to re-check a shared condition on queue_mu_ one after another.
// Invariant: queue_ is empty whenever leader_active_ is false.
absl::StatusOr<CommitResult> Store::Commit(CommitRequest request) {
  PendingCommit pending;
  pending.request = std::move(request);
  queue_mu_.Lock();
  queue_.push_back(&pending);
  const bool lead_now = !leader_active_;
  leader_active_ = true;
  queue_mu_.Unlock();
  if (!lead_now && pending.Wait() == PendingCommit::State::kDone) {
    return std::move(pending.result);
  }

  // This caller leads: it is at the front of the queue, and stays there until
  // it takes the group (later callers only append).
  queue_mu_.Lock();
  const size_t take = std::min(queue_.size(), options_.max_group_size);
  std::vector<PendingCommit*> group(queue_.begin(), queue_.begin() + take);
  queue_.erase(queue_.begin(), queue_.begin() + take);
  CommitObserver* observer = observer_;
  queue_mu_.Unlock();

  RunGroup(group);
  if (observer != nullptr) {
    for (PendingCommit* p : group) {
      if (p->change_set.has_value()) observer->OnCommit(*p->change_set);
    }
  }

  // Hand over: the next group starts only after this one is written and
  // observed, so revisions and observer calls stay in order.
  PendingCommit* next_leader = nullptr;
  queue_mu_.Lock();
  if (queue_.empty()) {
    leader_active_ = false;
  } else {
    next_leader = queue_.front();
  }
  queue_mu_.Unlock();
  // Members first: those that come straight back with another commit can
  // still join the next group.
  for (PendingCommit* p : group) {
    if (p != &pending) p->Tell(PendingCommit::State::kDone);
  }
  if (next_leader != nullptr) next_leader->Tell(PendingCommit::State::kLead);
  return std::move(pending.result);
}

void Store::RunGroup(std::vector<PendingCommit*>& group) {
  GroupState state(*handles_->db, handles_->entities);
  rocksdb::WriteBatch batch;
  const uint64_t base = CurrentRevision();
  uint64_t next = base + 1;
  const absl::Time now = options_.now();

  for (PendingCommit* p : group) {
    // Decide one request; nothing it does is visible unless all of it holds.
    auto decide = [&]() -> absl::StatusOr<CommitResult> {
      const uint64_t revision = next;
      Overlay local;
      v1::ChangeSet set;
      set.set_revision(revision);
      *set.mutable_commit_time() = ToTimestamp(now);
      CommitResult result;
      absl::flat_hash_set<std::string> names;
      // Topics this request creates or keeps, and those it deletes: an
      // entity may name a topic written anywhere in the same commit.
      absl::flat_hash_set<std::string> topics_put, topics_deleted;
      for (const Mutation& m : p->request.mutations) {
        const std::string& target = m.target_name();
        if (target.rfind("topics/", 0) != 0) continue;
        (m.op == Mutation::Op::kPut ? topics_put : topics_deleted).insert(target);
      }
      const auto& mutations = p->request.mutations;
      if (mutations.empty()) {
        return absl::InvalidArgumentError("mutations: at least one is required");
      }
      for (size_t i = 0; i < mutations.size(); ++i) {
        const Mutation& m = mutations[i];
        const std::string field = absl::StrCat("mutations[", i, "]");
        // kPut: the new content without output-only fields, validated once
        // and then completed below.
        v1::Entity entity;
        if (m.op == Mutation::Op::kPut) {
          entity = m.entity;
          ClearOutputOnly(entity);
          ATLAS_RETURN_IF_ERROR(
              ValidateEntity(entity, options_.max_entity_bytes, field));
        } else {
          ATLAS_RETURN_IF_ERROR(
              ValidateResourceName(m.name, absl::StrCat(field, ".name")));
        }
        const std::string& name = m.target_name();
        if (!names.insert(name).second) {
          return absl::InvalidArgumentError(absl::StrCat(
              field, ".name: \"", name, "\" appears twice in one commit"));
        }
        ATLAS_ASSIGN_OR_RETURN(std::optional<v1::Entity> current,
                               state.Lookup(name, local));
        ATLAS_RETURN_IF_ERROR(CheckPreconditions(m, field, current));

        MutationResult out;
        v1::Change change;
        change.set_revision(revision);
        if (m.op == Mutation::Op::kDelete) {
          if (!current.has_value()) {
            out.outcome = Outcome::kUnchanged;
            result.results.push_back(std::move(out));
            continue;
          }
          v1::Entity tombstone = *current;
          tombstone.set_deleted(true);
          tombstone.set_update_revision(revision);
          tombstone.set_version(current->version() + 1);
          tombstone.set_etag(Etag(revision));
          *tombstone.mutable_update_time() = ToTimestamp(now);
          change.set_type(v1::CHANGE_TYPE_DELETED);
          *change.mutable_before() = *current;
          *change.mutable_entity() = tombstone;
          local[name] = std::nullopt;
          out.outcome = Outcome::kDeleted;
          out.entity = std::move(tombstone);
        } else {
          for (int t = 0; t < entity.topics_size(); ++t) {
            const std::string topic_name =
                absl::StrCat("topics/", entity.topics(t));
            bool known = topics_put.contains(topic_name);
            if (!known && !topics_deleted.contains(topic_name)) {
              ATLAS_ASSIGN_OR_RETURN(std::optional<v1::Entity> topic,
                                     state.Lookup(topic_name, local));
              known = topic.has_value();
            }
            if (!known) {
              return absl::InvalidArgumentError(absl::StrCat(
                  field, ".topics[", t, "]: unknown topic \"", entity.topics(t),
                  "\" (no entity topics/", entity.topics(t), ")"));
            }
          }
          std::vector<std::string> paths;
          if (current.has_value()) {
            paths = ChangedPaths(*current, entity);
            if (paths.empty()) {
              out.outcome = Outcome::kUnchanged;
              out.entity = *current;
              result.results.push_back(std::move(out));
              continue;
            }
            entity.set_create_revision(current->create_revision());
            *entity.mutable_create_time() = current->create_time();
            entity.set_version(current->version() + 1);
            change.set_type(v1::CHANGE_TYPE_UPDATED);
            *change.mutable_before() = *current;
            out.outcome = Outcome::kUpdated;
          } else {
            paths = ChangedPaths(v1::Entity(), entity);
            entity.set_create_revision(revision);
            *entity.mutable_create_time() = ToTimestamp(now);
            entity.set_version(1);
            change.set_type(v1::CHANGE_TYPE_CREATED);
            out.outcome = Outcome::kCreated;
          }
          entity.set_update_revision(revision);
          entity.set_etag(Etag(revision));
          *entity.mutable_update_time() = ToTimestamp(now);
          for (auto& path : paths) change.add_changed_paths(std::move(path));
          *change.mutable_entity() = entity;
          local[name] = entity;
          out.entity = std::move(entity);
        }
        *set.add_changes() = std::move(change);
        result.results.push_back(std::move(out));
      }
      if (set.changes_size() == 0 || p->request.validate_only) {
        result.revision = next - 1;
        return result;
      }
      // Stage the rows: entities, history, indexes, change log, revision.
      for (const v1::Change& change : set.changes()) {
        const v1::Entity& after = change.entity();
        absl::flat_hash_set<std::string> old_rows, new_rows;
        if (change.has_before()) IndexRows(change.before(), old_rows);
        // One serialization serves the entity row and the history row.
        const std::string value = after.SerializeAsString();
        if (change.type() != v1::CHANGE_TYPE_DELETED) {
          IndexRows(after, new_rows);
          batch.Put(handles_->entities, after.name(), value);
        } else {
          batch.Delete(handles_->entities, after.name());
        }
        for (const auto& row : old_rows) {
          if (!new_rows.contains(row)) batch.Delete(handles_->index, row);
        }
        for (const auto& row : new_rows) {
          if (!old_rows.contains(row)) batch.Put(handles_->index, row, "");
        }
        batch.Put(handles_->history, keys::History(after.name(), revision),
                  value);
      }
      batch.Put(handles_->changes, keys::Revision(revision),
                set.SerializeAsString());
      // meta/revision is written once for the whole group, below.
      state.Merge(local);
      result.revision = revision;
      p->change_set = std::move(set);
      ++next;
      return result;
    };
    // Each request's staged rows are appended only once it fully succeeds:
    // decide() stages into `batch` only after its last check.
    p->result = decide();
  }

  if (next == base + 1) return;  // nothing to write
  // The group's batch is applied atomically, so recording only its last
  // revision leaves the same state as recording each one in turn.
  batch.Put(handles_->meta, std::string(keys::kMetaRevision),
            keys::Revision(next - 1));
  rocksdb::WriteOptions write;
  write.sync = options_.sync_writes;
  absl::Status status =
      FromRocks(handles_->db->Write(write, &batch), "writing commit");
  if (!status.ok()) {
    for (PendingCommit* p : group) {
      if (p->change_set.has_value()) {
        p->change_set.reset();
        p->result = status;
      }
    }
    return;
  }
  atlas::MutexLock lock(&revision_mu_);
  revision_ = next - 1;
}

}  // namespace atlas::storage
