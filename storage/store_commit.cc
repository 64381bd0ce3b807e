// Store::Commit: group commit. Concurrent callers queue up; the first becomes
// the leader, takes the whole queue, decides every request in order against
// the current state (earlier requests of the group included), writes one
// rocksdb::WriteBatch with one WAL sync, then tells each caller its result
// and the observer each change set, in revision order.
//
// Only the leader's work is serial, so whatever depends on a request alone is
// done by its caller before it queues (Prepare: clearing output-only fields,
// validation, serializing the content, and a speculative read of the stored
// entity with the changed paths against it) or after it is answered
// (Finish: copying the written entities into the results). The leader
// trusts the speculative read if no group wrote the entity since the
// revision the caller saw (RecentWrites); otherwise it reads again, compares
// bytes, and redoes the work only when the stored entity changed.
//
// Rows written per changed entity: the entity row (name -> Entity), a
// history pointer row (name \0 BE64(revision) -> "", meaning "this version is
// in the change log at that revision"; see store_history.cc), index rows, and
// the entity inside the change set row. Each entity is serialized once: the
// content bytes from Prepare plus the output-only fields, reused for the
// entity row and spliced into the change set row.

#include <semaphore.h>

#include <atomic>
#include <chrono>
#include <memory>

#include <google/protobuf/util/time_util.h>
#include <rocksdb/write_batch.h>

#include "absl/container/flat_hash_map.h"
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

namespace {

// The path of mutation `i` in errors. Built only for an error: a path per
// mutation was a string allocation per write.
std::string MutationField(size_t i) {
  return absl::StrCat("mutations[", i, "]");
}

// What a caller works out about one of its mutations before queueing.
struct Prepared {
  // ValidateEntity (kPut) or ValidateResourceName (kDelete).
  absl::Status valid;
  // kPut, when valid: the entity without output-only fields, serialized.
  std::string content;
  // kPut, when valid: the stored entity as the caller read it, and the
  // changed paths against it (against an empty entity if it was absent).
  bool speculated = false;
  uint64_t spec_revision = 0;  // the current revision before the read
  bool spec_found = false;
  std::string spec_bytes;
  std::unique_ptr<v1::Entity> spec_current;
  std::vector<std::string> spec_paths;
};

}  // namespace

struct Store::PendingCommit {
  enum class State { kWaiting, kLead, kDone };

  // One semaphore per caller: Tell() is one atomic store and one wake-up of
  // exactly this thread. (A mutex and condition variable cost the woken
  // thread a second sleep and wake-up, on the mutex its waker still held.)
  PendingCommit() { sem_init(&woken, /*pshared=*/0, /*value=*/0); }
  // glibc lets a semaphore be destroyed as soon as sem_wait() returns, even
  // while the sem_post() that woke it is still returning.
  ~PendingCommit() { sem_destroy(&woken); }

  // Waits until the leader finishes this commit or hands over leadership.
  State Wait() {
    while (sem_wait(&woken) != 0) {
      // EINTR: a signal arrived; wait on.
    }
    return state.load(std::memory_order_acquire);
  }
  // Wakes this caller's thread (once per commit).
  void Tell(State to) {
    state.store(to, std::memory_order_release);
    sem_post(&woken);
  }

  // On the caller's thread, before queueing.
  void Prepare(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entities,
               size_t max_entity_bytes, uint64_t current_revision);
  // On the caller's thread, after the leader is done: the results' entities.
  void Finish();

  CommitRequest request;
  std::vector<Prepared> prepared;  // one per mutation
  absl::StatusOr<CommitResult> result = absl::UnknownError("not run");
  // The decided changes: entities after (and before) each change. Published
  // to the observer only if `written`.
  std::shared_ptr<v1::ChangeSet> change_set;
  bool written = false;
  // For each result, the index of its change in `change_set`, or -1 when the
  // leader filled the result's entity itself (unchanged).
  std::vector<int> change_of;
  // CommitAsync: no thread waits; whoever finishes this commit calls `done`
  // and deletes it.
  CommitCallback done;

  std::atomic<State> state{State::kWaiting};
  sem_t woken;
};

void Store::PendingCommit::Prepare(rocksdb::DB& db,
                                   rocksdb::ColumnFamilyHandle* entities,
                                   size_t max_entity_bytes,
                                   uint64_t current_revision) {
  auto& mutations = request.mutations;
  prepared.resize(mutations.size());
  for (size_t i = 0; i < mutations.size(); ++i) {
    Mutation& m = mutations[i];
    Prepared& p = prepared[i];
    // Validation is deterministic: what fails is validated again with its
    // path, so that valid input builds no path strings.
    if (m.op == Mutation::Op::kDelete) {
      p.valid = ValidateResourceName(m.name, "name");
      if (!p.valid.ok()) {
        p.valid = ValidateResourceName(m.name, MutationField(i) + ".name");
      }
      continue;
    }
    ClearOutputOnly(m.entity);
    p.valid = ValidateEntity(m.entity, max_entity_bytes, "");
    if (!p.valid.ok()) {
      p.valid = ValidateEntity(m.entity, max_entity_bytes, MutationField(i));
      continue;
    }
    // Room for the output-only fields the leader appends.
    p.content.reserve(m.entity.ByteSizeLong() + 128);
    m.entity.AppendToString(&p.content);
    // Speculation: the leader re-reads and compares, so a failed read here
    // only means the leader does the work.
    rocksdb::Status status =
        db.Get(rocksdb::ReadOptions(), entities, m.entity.name(), &p.spec_bytes);
    p.spec_revision = current_revision;
    if (status.IsNotFound()) {
      p.speculated = true;
      p.spec_found = false;
      p.spec_bytes.clear();
      p.spec_paths = CreatedPaths(p.content);
    } else if (status.ok()) {
      auto current = std::make_unique<v1::Entity>();
      if (current->ParseFromString(p.spec_bytes)) {
        p.speculated = true;
        p.spec_found = true;
        p.spec_paths = ChangedPaths(*current, m.entity);
        p.spec_current = std::move(current);
      }
    }
  }
}

void Store::PendingCommit::Finish() {
  if (!result.ok()) return;
  for (size_t i = 0; i < change_of.size(); ++i) {
    v1::Entity& out = result->results[i].entity;
    if (change_of[i] >= 0) {  // change_of is set only with a change set
      const v1::Entity& written = change_set->changes(change_of[i]).entity();
      out = request.basic_results ? OutputOnlyView(written) : written;
    } else if (request.basic_results) {
      out = OutputOnlyView(out);  // filled by the leader
    }
  }
}

namespace {

// The entity state as the group leader sees it: the database plus what
// earlier requests of the group (and earlier mutations of this request) wrote.
// Values point at the entities in the requests' change sets, which live as
// long as the group; nullptr = known absent.
using Overlay = absl::flat_hash_map<absl::string_view, const v1::Entity*>;

// The stored entity a mutation applies to.
struct Current {
  const v1::Entity* entity = nullptr;  // nullptr: absent
  // Owned here when the leader parsed it itself.
  std::unique_ptr<v1::Entity> parsed;
  // The stored row, when read from the database ("" from the overlay).
  std::string bytes;
  bool from_overlay = false;
  // The caller's speculation holds: its parse and paths are valid.
  bool spec_holds = false;
};

class GroupState {
 public:
  GroupState(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entities,
             const RecentWrites& recent)
      : db_(db), entities_(entities), recent_(recent) {}

  // `spec` (may be null) is the caller's speculation for `name`.
  absl::StatusOr<Current> Lookup(const std::string& name, const Overlay& local,
                                 Prepared* spec) {
    Current out;
    if (const v1::Entity* const* hit = Find(name, local)) {
      out.entity = *hit;
      out.from_overlay = true;
      return out;
    }
    if (spec != nullptr && spec->speculated && Unchanged(name, *spec)) {
      out.spec_holds = true;
      if (spec->spec_found) {
        out.entity = spec->spec_current.get();
        out.bytes = std::move(spec->spec_bytes);
      }
      return out;
    }
    rocksdb::Status status =
        db_.Get(rocksdb::ReadOptions(), entities_, name, &out.bytes);
    if (status.IsNotFound()) {
      out.bytes.clear();
      out.spec_holds = spec != nullptr && spec->speculated && !spec->spec_found;
      return out;
    }
    ATLAS_RETURN_IF_ERROR(FromRocks(status, "reading entity"));
    if (spec != nullptr && spec->speculated && spec->spec_found &&
        spec->spec_bytes == out.bytes) {
      out.entity = spec->spec_current.get();
      out.spec_holds = true;
      return out;
    }
    out.parsed = std::make_unique<v1::Entity>();
    if (!out.parsed->ParseFromString(out.bytes)) {
      return absl::DataLossError(absl::StrCat("corrupt entity row ", name));
    }
    out.entity = out.parsed.get();
    return out;
  }

  // Whether `name` exists, without parsing it.
  absl::StatusOr<bool> Exists(const std::string& name, const Overlay& local) {
    if (const v1::Entity* const* hit = Find(name, local)) {
      return *hit != nullptr;
    }
    rocksdb::PinnableSlice value;
    rocksdb::Status status =
        db_.Get(rocksdb::ReadOptions(), entities_, name, &value);
    if (status.IsNotFound()) return false;
    ATLAS_RETURN_IF_ERROR(FromRocks(status, "reading entity"));
    return true;
  }

  void Merge(const Overlay& local) {
    for (const auto& [name, entity] : local) group_[name] = entity;
  }

 private:
  // No group wrote `name` since the caller read it.
  bool Unchanged(const std::string& name, const Prepared& spec) const {
    if (!recent_.started || spec.spec_revision < recent_.floor) return false;
    auto it = recent_.names.find(name);
    return it == recent_.names.end() || it->second <= spec.spec_revision;
  }

  const v1::Entity* const* Find(const std::string& name, const Overlay& local) {
    if (auto it = local.find(name); it != local.end()) return &it->second;
    if (auto it = group_.find(name); it != group_.end()) return &it->second;
    return nullptr;
  }

  rocksdb::DB& db_;
  rocksdb::ColumnFamilyHandle* entities_;
  const RecentWrites& recent_;
  Overlay group_;
};

std::string Etag(uint64_t revision) { return absl::StrCat(revision); }

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(time));
}

absl::Status CheckPreconditions(const Mutation& m, size_t index,
                                const v1::Entity* current) {
  const std::string& name = m.target_name();
  if (current == nullptr) {
    if (m.expect == Expect::kMustExist) {
      return absl::NotFoundError(absl::StrCat(
          MutationField(index), ": entity \"", name, "\" does not exist"));
    }
    if (!m.expected_etag.empty() || m.expected_revision != 0) {
      return absl::AbortedError(absl::StrCat(
          MutationField(index), ": precondition failed: entity \"", name,
          "\" does not exist, so it cannot match the expected version"));
    }
    return absl::OkStatus();
  }
  if (m.expect == Expect::kMustNotExist) {
    return absl::AlreadyExistsError(absl::StrCat(
        MutationField(index), ": entity \"", name, "\" already exists"));
  }
  if (!m.expected_etag.empty() && m.expected_etag != current->etag()) {
    return absl::AbortedError(absl::StrCat(
        MutationField(index), ": precondition failed: etag \"", m.expected_etag,
        "\" does not match the stored etag \"", current->etag(), "\" of \"",
        name, "\" (it changed at revision ", current->update_revision(), ")"));
  }
  if (m.expected_revision != 0 &&
      m.expected_revision != current->update_revision()) {
    return absl::AbortedError(
        absl::StrCat(MutationField(index), ": precondition failed: \"", name,
                     "\" was expected at revision ", m.expected_revision,
                     " but changed at revision ", current->update_revision()));
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

void AppendVarint(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Appends field `number` (wire type LEN) holding `bytes`.
void AppendBytesField(int number, absl::string_view bytes, std::string& out) {
  AppendVarint((static_cast<uint64_t>(number) << 3) | 2, out);
  AppendVarint(bytes.size(), out);
  out.append(bytes.data(), bytes.size());
}

size_t VarintSize(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

size_t BytesFieldSize(int number, size_t length) {
  return VarintSize((static_cast<uint64_t>(number) << 3) | 2) +
         VarintSize(length) + length;
}

// Field numbers of the change set rows assembled from serialized pieces
// (atlas/v1/change.proto).
constexpr int kChangeSetChanges = 3;
constexpr int kChangeEntity = 3;
constexpr int kChangeBefore = 4;

// One change of a decided request, serialized: the change's own fields
// (revision, type, paths) and its entities.
struct StagedChange {
  std::string meta;
  std::string after;
  std::string before;
  bool has_before = false;
};

}  // namespace

// Every synchronous caller waits on a semaphore of its own, and leadership
// passes directly from one leader to the next (the oldest queued caller):
// finishing a group wakes each member once and then the next leader, instead
// of waking every waiter to re-check a shared condition on queue_mu_ one
// after another.
// Asynchronous commits have no thread of their own: whoever leads runs their
// groups and calls their callbacks.
// Invariant: queue_ is empty whenever leader_active_ is false.
absl::StatusOr<CommitResult> Store::Commit(CommitRequest request) {
  PendingCommit pending;
  pending.request = std::move(request);
  // Read before Prepare's lookups, so that they reflect at least it.
  pending.Prepare(*handles_->db, handles_->entities, options_.max_entity_bytes,
                  CurrentRevision());
  queue_mu_.Lock();
  queue_.push_back(&pending);
  const bool lead_now = !leader_active_;
  leader_active_ = true;
  queue_mu_.Unlock();
  if (!lead_now && pending.Wait() == PendingCommit::State::kDone) {
    pending.Finish();
    return std::move(pending.result);
  }
  // This caller leads: it is at the front of the queue, and stays there until
  // it takes the group (later callers only append).
  Lead(&pending);
  pending.Finish();
  return std::move(pending.result);
}

void Store::CommitAsync(CommitRequest request, CommitCallback done) {
  auto* pending = new PendingCommit;
  pending->request = std::move(request);
  pending->done = std::move(done);
  pending->Prepare(*handles_->db, handles_->entities,
                   options_.max_entity_bytes, CurrentRevision());
  queue_mu_.Lock();
  queue_.push_back(pending);
  const bool lead_now = !leader_active_;
  leader_active_ = true;
  queue_mu_.Unlock();
  if (lead_now) Lead(nullptr);
}

// Runs one group after another. Hands leadership to the oldest queued caller
// when that is a synchronous one; with an asynchronous one at the front there
// is nobody to hand to, so this thread goes on until the queue is empty.
void Store::Lead(PendingCommit* self) {
  while (true) {
    queue_mu_.Lock();
    std::vector<PendingCommit*> group;
    if (queue_.size() <= options_.max_group_size) {
      group.swap(queue_);  // the usual case: all of it, without copying
    } else {
      const size_t take = options_.max_group_size;
      group.assign(queue_.begin(), queue_.begin() + take);
      queue_.erase(queue_.begin(), queue_.begin() + take);
    }
    CommitObserver* observer = observer_;
    queue_mu_.Unlock();

    RunGroup(group);
    if (observer != nullptr) {
      std::vector<std::shared_ptr<const v1::ChangeSet>> written;
      written.reserve(group.size());
      for (PendingCommit* p : group) {
        if (p->written) written.push_back(p->change_set);
      }
      if (!written.empty()) observer->OnCommitGroup(std::move(written));
    }

    // Hand over: the next group starts only after this one is written and
    // observed, so revisions and observer calls stay in order.
    PendingCommit* next_leader = nullptr;
    bool keep_leading = false;
    queue_mu_.Lock();
    if (queue_.empty()) {
      leader_active_ = false;
    } else if (queue_.front()->done) {
      keep_leading = true;
    } else {
      next_leader = queue_.front();
    }
    queue_mu_.Unlock();
    // Members first: those that come straight back with another commit can
    // still join the next group.
    for (PendingCommit* p : group) {
      if (p == self) continue;
      if (!p->done) {
        p->Tell(PendingCommit::State::kDone);
        continue;
      }
      p->Finish();
      CommitCallback done = std::move(p->done);
      absl::StatusOr<CommitResult> result = std::move(p->result);
      delete p;
      done(std::move(result));
    }
    if (next_leader != nullptr) next_leader->Tell(PendingCommit::State::kLead);
    if (!keep_leading) return;
  }
}

void Store::RunGroup(std::vector<PendingCommit*>& group) {
  RecentWrites& recent = handles_->recent_writes;
  // The batch is allocated once rather than regrown row by row: per put
  // about the entity row, the change log's copy of it, the version before
  // it, and room for keys and framing.
  size_t batch_bytes = 64;
  for (const PendingCommit* p : group) {
    for (const Prepared& prep : p->prepared) {
      batch_bytes += 2 * prep.content.size() + prep.spec_bytes.size() + 256;
    }
  }
  rocksdb::WriteBatch batch(batch_bytes);
  const uint64_t base = CurrentRevision();
  uint64_t next = base + 1;
  if (!recent.started) {
    // Nothing was written since the store opened at `base`.
    recent.started = true;
    recent.floor = base;
  }
  GroupState state(*handles_->db, handles_->entities, recent);
  const absl::Time now = options_.now();
  const google::protobuf::Timestamp now_ts = ToTimestamp(now);

  for (PendingCommit* p : group) {
    // Decide one request; nothing it does is visible unless all of it holds.
    auto decide = [&]() -> absl::StatusOr<CommitResult> {
      const uint64_t revision = next;
      const std::string etag = Etag(revision);
      Overlay local;
      p->change_set = std::make_shared<v1::ChangeSet>();
      v1::ChangeSet& set = *p->change_set;
      set.set_revision(revision);
      *set.mutable_commit_time() = now_ts;
      CommitResult result;
      std::vector<StagedChange> staged;
      absl::flat_hash_set<absl::string_view> names;
      // Topics this request creates or keeps, and those it deletes: an
      // entity may name a topic written anywhere in the same commit.
      absl::flat_hash_set<absl::string_view> topics_put, topics_deleted;
      auto& mutations = p->request.mutations;
      for (const Mutation& m : mutations) {
        const std::string& target = m.target_name();
        if (target.rfind("topics/", 0) != 0) continue;
        (m.op == Mutation::Op::kPut ? topics_put : topics_deleted).insert(target);
      }
      if (mutations.empty()) {
        return absl::InvalidArgumentError("mutations: at least one is required");
      }
      result.results.reserve(mutations.size());
      p->change_of.assign(mutations.size(), -1);
      for (size_t i = 0; i < mutations.size(); ++i) {
        Mutation& m = mutations[i];
        Prepared& prep = p->prepared[i];
        // Validated by the caller (kPut: output-only fields cleared first).
        ATLAS_RETURN_IF_ERROR(prep.valid);
        const std::string& name = m.target_name();
        if (!names.insert(name).second) {
          return absl::InvalidArgumentError(
              absl::StrCat(MutationField(i), ".name: \"", name,
                           "\" appears twice in one commit"));
        }
        ATLAS_ASSIGN_OR_RETURN(
            Current current,
            state.Lookup(name, local,
                         m.op == Mutation::Op::kPut ? &prep : nullptr));
        ATLAS_RETURN_IF_ERROR(CheckPreconditions(m, i, current.entity));

        MutationResult out;
        v1::Change meta;  // the change without its entities
        meta.set_revision(revision);
        StagedChange rows;
        v1::Entity after;
        if (m.op == Mutation::Op::kDelete) {
          if (current.entity == nullptr) {
            out.outcome = Outcome::kUnchanged;
            result.results.push_back(std::move(out));
            continue;
          }
          after = *current.entity;
          after.set_deleted(true);
          after.set_update_revision(revision);
          after.set_version(current.entity->version() + 1);
          after.set_etag(etag);
          *after.mutable_update_time() = now_ts;
          meta.set_type(v1::CHANGE_TYPE_DELETED);
          rows.after = after.SerializeAsString();
          out.outcome = Outcome::kDeleted;
        } else {
          v1::Entity& entity = m.entity;
          for (int t = 0; t < entity.topics_size(); ++t) {
            const std::string topic_name =
                absl::StrCat("topics/", entity.topics(t));
            bool known = topics_put.contains(topic_name);
            if (!known && !topics_deleted.contains(topic_name)) {
              ATLAS_ASSIGN_OR_RETURN(known, state.Exists(topic_name, local));
            }
            if (!known) {
              return absl::InvalidArgumentError(
                  absl::StrCat(MutationField(i), ".topics[", t,
                               "]: unknown topic \"", entity.topics(t),
                               "\" (no entity topics/", entity.topics(t), ")"));
            }
          }
          std::vector<std::string> paths =
              current.spec_holds ? std::move(prep.spec_paths)
              : current.entity == nullptr
                  ? CreatedPaths(prep.content)
                  : ChangedPaths(*current.entity, entity);
          // The output-only fields, alone: serialized after the content,
          // a parser reads the concatenation as the whole entity.
          v1::Entity output;
          if (current.entity != nullptr) {
            if (paths.empty()) {
              out.outcome = Outcome::kUnchanged;
              if (current.parsed != nullptr) {
                out.entity = std::move(*current.parsed);
              } else if (current.spec_holds) {
                out.entity = std::move(*prep.spec_current);
              } else {
                out.entity = *current.entity;
              }
              result.results.push_back(std::move(out));
              continue;
            }
            output.set_create_revision(current.entity->create_revision());
            *output.mutable_create_time() = current.entity->create_time();
            output.set_version(current.entity->version() + 1);
            meta.set_type(v1::CHANGE_TYPE_UPDATED);
            out.outcome = Outcome::kUpdated;
          } else {
            output.set_create_revision(revision);
            *output.mutable_create_time() = now_ts;
            output.set_version(1);
            meta.set_type(v1::CHANGE_TYPE_CREATED);
            out.outcome = Outcome::kCreated;
          }
          output.set_update_revision(revision);
          output.set_etag(etag);
          *output.mutable_update_time() = now_ts;
          rows.after = std::move(prep.content);
          output.AppendToString(&rows.after);
          after = std::move(entity);
          after.set_create_revision(output.create_revision());
          *after.mutable_create_time() = output.create_time();
          after.set_version(output.version());
          after.set_update_revision(revision);
          after.set_etag(etag);
          *after.mutable_update_time() = now_ts;
          for (auto& path : paths) meta.add_changed_paths(std::move(path));
        }
        meta.SerializeToString(&rows.meta);
        v1::Change* change = set.add_changes();
        change->Swap(&meta);
        if (current.entity != nullptr) {
          rows.has_before = true;
          if (current.from_overlay) {
            rows.before = current.entity->SerializeAsString();
            *change->mutable_before() = *current.entity;
          } else {
            rows.before = std::move(current.bytes);
            *change->mutable_before() =
                current.parsed != nullptr ? std::move(*current.parsed)
                                          : std::move(*prep.spec_current);
          }
        }
        *change->mutable_entity() = std::move(after);
        const v1::Entity& written = change->entity();
        local[written.name()] =
            m.op == Mutation::Op::kDelete ? nullptr : &written;
        p->change_of[i] = set.changes_size() - 1;
        staged.push_back(std::move(rows));
        result.results.push_back(std::move(out));
      }
      if (set.changes_size() == 0 || p->request.validate_only) {
        result.revision = next - 1;
        return result;
      }
      // Stage the rows: entities, history, indexes, change log.
      std::string set_bytes;
      {
        v1::ChangeSet header;
        header.set_revision(revision);
        *header.mutable_commit_time() = now_ts;
        header.SerializeToString(&set_bytes);
      }
      std::vector<size_t> change_sizes;
      size_t set_size = set_bytes.size();
      for (const StagedChange& rows : staged) {
        size_t size = rows.meta.size() +
                      BytesFieldSize(kChangeEntity, rows.after.size());
        if (rows.has_before) {
          size += BytesFieldSize(kChangeBefore, rows.before.size());
        }
        change_sizes.push_back(size);
        set_size += BytesFieldSize(kChangeSetChanges, size);
      }
      set_bytes.reserve(set_size);
      for (int k = 0; k < set.changes_size(); ++k) {
        const v1::Change& change = set.changes(k);
        const v1::Entity& after = change.entity();
        const StagedChange& rows = staged[k];
        if (change.type() != v1::CHANGE_TYPE_DELETED) {
          batch.Put(handles_->entities, after.name(), rows.after);
        } else {
          batch.Delete(handles_->entities, after.name());
        }
        const bool indexed = after.topics_size() > 0 || after.links_size() > 0 ||
                             change.before().topics_size() > 0 ||
                             change.before().links_size() > 0;
        if (indexed) {
          absl::flat_hash_set<std::string> old_rows, new_rows;
          if (change.has_before()) IndexRows(change.before(), old_rows);
          if (change.type() != v1::CHANGE_TYPE_DELETED) {
            IndexRows(after, new_rows);
          }
          for (const auto& row : old_rows) {
            if (!new_rows.contains(row)) batch.Delete(handles_->index, row);
          }
          for (const auto& row : new_rows) {
            if (!old_rows.contains(row)) batch.Put(handles_->index, row, "");
          }
        }
        // The version itself is in the change set row (store_history.cc).
        batch.Put(handles_->history, keys::History(after.name(), revision),
                  rocksdb::Slice());
        // The change, assembled from its serialized pieces.
        AppendVarint((kChangeSetChanges << 3) | 2, set_bytes);
        AppendVarint(change_sizes[k], set_bytes);
        set_bytes.append(rows.meta);
        AppendBytesField(kChangeEntity, rows.after, set_bytes);
        if (rows.has_before) {
          AppendBytesField(kChangeBefore, rows.before, set_bytes);
        }
      }
      batch.Put(handles_->changes, keys::Revision(revision), set_bytes);
      // meta/revision is written once for the whole group, below.
      state.Merge(local);
      result.revision = revision;
      p->written = true;
      ++next;
      return result;
    };
    // Each request's staged rows are appended only once it fully succeeds:
    // decide() stages into `batch` only after its last check.
    p->result = decide();
    // A failed request publishes nothing. (A validate_only one keeps its
    // change set, unwritten, for Finish().)
    if (!p->result.ok()) p->change_set.reset();
  }

  if (next == base + 1) return;  // nothing to write
  // The group's batch is applied atomically, so recording only its last
  // revision leaves the same state as recording each one in turn.
  batch.Put(handles_->meta, std::string(keys::kMetaRevision),
            keys::Revision(next - 1));
  rocksdb::WriteOptions write;
  write.sync = options_.sync_writes;
  const auto write_start = std::chrono::steady_clock::now();  // metrics
  absl::Status status =
      FromRocks(handles_->db->Write(write, &batch), "writing commit");
  // Keep the window of recent writes small; on failure, trust no read made
  // before the revisions this group tried to use.
  constexpr size_t kMaxRecentWrites = 1 << 16;
  if (!status.ok() || recent.names.size() > kMaxRecentWrites) {
    recent.names.clear();
    recent.floor = next - 1;
  }
  if (status.ok()) {
    for (PendingCommit* p : group) {
      if (!p->written) continue;
      const uint64_t revision = p->change_set->revision();
      for (const v1::Change& change : p->change_set->changes()) {
        recent.names.insert_or_assign(change.entity().name(), revision);
      }
    }
  }
  if (!status.ok()) {
    for (PendingCommit* p : group) {
      if (p->written) {
        p->written = false;
        p->change_set.reset();
        p->result = status;
      }
    }
    return;
  }
  ReportGroupWritten(group.size(), next - base - 1, write_start);  // metrics
  atlas::MutexLock lock(&revision_mu_);
  revision_ = next - 1;
}

}  // namespace atlas::storage
