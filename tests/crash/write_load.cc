#include "tests/crash/write_load.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace atlas::crash {
namespace {

using google::protobuf::util::MessageDifferencer;

// Entities per writer and collection: "agreements/wN-0..3",
// "documents/wN-0..3".
constexpr int kEntitiesPerCollection = 4;

// A new version of `name` whose title is `token`.
v1::Entity Content(const std::string& name, const std::string& token,
                   std::mt19937_64& random) {
  v1::Entity entity;
  entity.set_name(name);
  entity.set_title(token);
  std::vector<std::string> topics = LoadTopics();
  std::shuffle(topics.begin(), topics.end(), random);
  for (size_t i = 0, n = random() % 3; i < n; ++i) entity.add_topics(topics[i]);
  if (absl::StartsWith(name, "agreements/")) {
    entity.mutable_agreement()->set_summary(absl::StrCat(
        "Written by ", token, std::string(random() % 200, '.')));
  } else {
    entity.mutable_document()->set_symbol(absl::StrCat("S/CRASH/", token));
  }
  return entity;
}

std::string Describe(const grpc::Status& status) {
  return absl::StrCat("code ", status.error_code(), " \"",
                      status.error_message(), "\"");
}

}  // namespace

struct WriteLoad::Write {
  enum class Kind { kCreate, kUpdate, kUpdateTitle, kUpsert, kDelete, kApply };
  Kind kind = Kind::kApply;
  // The title of every entity it puts.
  std::string token;
  // The entities it changes, in request order.
  std::vector<std::string> names;
  bool acknowledged = false;
  uint64_t revision = 0;
  // As acknowledged, in `names` order (the tombstone for a delete).
  std::vector<v1::Entity> entities;
};

struct WriteLoad::Writer {
  int id = 0;
  std::mt19937_64 random;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Atlas::Stub> stub;
  uint64_t sequence = 0;
  // The following are used by the writer's thread while a write is in
  // flight and by Verify while it is idle; mu_ orders the two.
  // Its entities as acknowledged or verified.
  EntityMap model;
  // Writes since the last verification, in order: acknowledged ones, then
  // at most one that failed.
  std::vector<Write> outstanding;
  // Every acknowledged write verified so far.
  std::vector<Write> verified;
  // Set after a failed write (guarded by mu_): no more writes until Verify.
  bool blocked = false;
  std::thread thread;
};

WriteLoad::WriteLoad(int writers, uint64_t seed, const std::string& address) {
  for (int w = 0; w < writers; ++w) {
    auto writer = std::make_unique<Writer>();
    writer->id = w;
    std::seed_seq seeds{seed, static_cast<uint64_t>(w)};
    writer->random.seed(seeds);
    writer->channel = NewChannel(address);
    writer->stub = v1::Atlas::NewStub(writer->channel);
    writers_.push_back(std::move(writer));
  }
  for (auto& writer : writers_) {
    Writer* raw = writer.get();
    raw->thread = std::thread([this, raw] { Run(*raw); });
  }
}

WriteLoad::~WriteLoad() {
  {
    atlas::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& writer : writers_) writer->thread.join();
}

void WriteLoad::AddSetupRevision(uint64_t revision) {
  setup_revisions_.insert(revision);
}

void WriteLoad::Resume() {
  atlas::MutexLock lock(&mu_);
  paused_ = false;
}

void WriteLoad::BeginKill() {
  atlas::MutexLock lock(&mu_);
  paused_ = true;
  ++epoch_;
}

void WriteLoad::AwaitIdle() {
  atlas::MutexLock lock(&mu_);
  mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return in_flight_ == 0; });
}

absl::Status WriteLoad::AwaitConnected(absl::Duration timeout) {
  const auto deadline = absl::ToChronoTime(absl::Now() + timeout);
  for (auto& writer : writers_) {
    if (!writer->channel->WaitForConnected(deadline)) {
      return absl::DeadlineExceededError(
          absl::StrCat("writer ", writer->id, " did not reconnect"));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> WriteLoad::Errors() {
  atlas::MutexLock lock(&mu_);
  return errors_;
}

WriteLoad::Counts WriteLoad::counts() {
  atlas::MutexLock lock(&mu_);
  return counts_;
}

std::vector<std::string> WriteLoad::Names(int w) const {
  std::vector<std::string> names;
  for (const char* collection : {"agreements", "documents"}) {
    for (int k = 0; k < kEntitiesPerCollection; ++k) {
      names.push_back(absl::StrCat(collection, "/w", w, "-", k));
    }
  }
  return names;
}

int WriteLoad::OwnerOf(const std::string& name) const {
  if (absl::StartsWith(name, "topics/")) return -1;
  const size_t slash = name.find("/w");
  const size_t dash = name.find('-', slash);
  int owner = 0;
  if (slash == std::string::npos || dash == std::string::npos ||
      !absl::SimpleAtoi(name.substr(slash + 2, dash - slash - 2), &owner) ||
      owner < 0 || owner >= writers()) {
    return -2;
  }
  return owner;
}

void WriteLoad::Run(Writer& writer) {
  for (;;) {
    uint64_t epoch = 0;
    {
      atlas::MutexLock lock(&mu_);
      mu_.Await([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return stopping_ || (!paused_ && !writer.blocked);
      });
      if (stopping_) return;
      epoch = epoch_;
      ++in_flight_;
    }
    WriteOne(writer, epoch);
    atlas::MutexLock lock(&mu_);
    --in_flight_;
  }
}

void WriteLoad::WriteOne(Writer& writer, uint64_t epoch) {
  std::mt19937_64& random = writer.random;
  Write write;
  write.token = absl::StrCat("w", writer.id, "-", ++writer.sequence);
  std::vector<std::string> live, absent;
  for (const std::string& name : Names(writer.id)) {
    (writer.model.count(name) != 0 ? live : absent).push_back(name);
  }
  auto pick = [&](const std::vector<std::string>& from) {
    return from[random() % from.size()];
  };
  // Not wait_for_ready: a write must fail at once when the server dies, not
  // wait for the next server (the harness verifies with writers idle).
  grpc::ClientContext context;
  SetDeadline(context);
  grpc::Status status;
  v1::WriteEntityResponse reply;
  const int dice = static_cast<int>(random() % 100);
  if (dice < 15 && !absent.empty()) {
    write.kind = Write::Kind::kCreate;
    write.names = {pick(absent)};
    v1::CreateEntityRequest request;
    *request.mutable_entity() = Content(write.names[0], write.token, random);
    status = writer.stub->CreateEntity(&context, request, &reply);
  } else if (dice < 35 && !live.empty()) {
    write.kind = Write::Kind::kUpdate;
    write.names = {pick(live)};
    v1::UpdateEntityRequest request;
    *request.mutable_entity() = Content(write.names[0], write.token, random);
    request.mutable_entity()->set_etag(writer.model[write.names[0]].etag());
    status = writer.stub->UpdateEntity(&context, request, &reply);
  } else if (dice < 50 && !live.empty()) {
    write.kind = Write::Kind::kUpdateTitle;
    write.names = {pick(live)};
    v1::UpdateEntityRequest request;
    request.mutable_entity()->set_name(write.names[0]);
    request.mutable_entity()->set_title(write.token);
    request.mutable_entity()->set_etag(writer.model[write.names[0]].etag());
    request.mutable_update_mask()->add_paths("title");
    status = writer.stub->UpdateEntity(&context, request, &reply);
  } else if (dice < 60) {
    write.kind = Write::Kind::kUpsert;
    write.names = {pick(Names(writer.id))};
    v1::UpdateEntityRequest request;
    *request.mutable_entity() = Content(write.names[0], write.token, random);
    request.set_allow_missing(true);
    status = writer.stub->UpdateEntity(&context, request, &reply);
  } else if (dice < 72 && !live.empty()) {
    write.kind = Write::Kind::kDelete;
    write.names = {pick(live)};
    v1::DeleteEntityRequest request;
    request.set_name(write.names[0]);
    request.set_etag(writer.model[write.names[0]].etag());
    status = writer.stub->DeleteEntity(&context, request, &reply);
  } else {
    write.kind = Write::Kind::kApply;
    std::vector<std::string> names = Names(writer.id);
    std::shuffle(names.begin(), names.end(), random);
    names.resize(2 + random() % 3);
    write.names = names;
    v1::ApplyEntitiesRequest request;
    for (const std::string& name : names) {
      v1::Entity* entity = request.add_entities();
      *entity = Content(name, write.token, random);
      if (auto it = writer.model.find(name); it != writer.model.end()) {
        entity->set_etag(it->second.etag());
      }
    }
    v1::ApplyEntitiesResponse applied;
    status = writer.stub->ApplyEntities(&context, request, &applied);
    if (status.ok()) {
      write.revision = applied.revision();
      for (const v1::ApplyResult& result : applied.results()) {
        write.entities.push_back(result.entity());
      }
    }
  }
  if (status.ok() && write.kind != Write::Kind::kApply) {
    write.revision = reply.revision();
    write.entities = {reply.entity()};
  }

  if (!status.ok()) {
    // A connection that could not even be set up (a slow, loaded machine,
    // or a sanitizer build) sent nothing: not a server fault, and Verify
    // still checks the write is absent or whole.
    const bool never_connected =
        status.error_code() == grpc::StatusCode::UNAVAILABLE &&
        absl::StrContains(status.error_message(), "failed to connect");
    atlas::MutexLock lock(&mu_);
    if (epoch_ == epoch && !never_connected) {
      errors_.push_back(absl::StrCat("write ", write.token, " to ",
                                     absl::StrJoin(write.names, ", "),
                                     " failed while the server was up: ",
                                     Describe(status)));
    }
    // Unknown outcome (or an error already reported): Verify resolves it.
    writer.outstanding.push_back(std::move(write));
    writer.blocked = true;
    return;
  }
  write.acknowledged = true;
  std::string problem;
  if (write.entities.size() != write.names.size()) {
    problem = "the reply has the wrong number of entities";
  }
  for (size_t i = 0; problem.empty() && i < write.names.size(); ++i) {
    const v1::Entity& entity = write.entities[i];
    if (entity.name() != write.names[i] ||
        entity.update_revision() != write.revision) {
      problem = absl::StrCat("the reply's entity ", i, " is ",
                             entity.ShortDebugString().substr(0, 300));
    } else if (write.kind == Write::Kind::kDelete) {
      writer.model.erase(entity.name());
    } else {
      writer.model[entity.name()] = entity;
    }
  }
  atlas::MutexLock lock(&mu_);
  if (!problem.empty()) {
    errors_.push_back(absl::StrCat("write ", write.token, " at revision ",
                                   write.revision, ": ", problem));
  }
  ++counts_.acknowledged;
  writer.outstanding.push_back(std::move(write));
}

absl::Status WriteLoad::Attribute(Writer& writer, const Write& write,
                                  const ChangeLog& log, uint64_t revision) {
  const auto [first, last] = log.Set(revision);
  const std::string what = absl::StrCat(
      write.acknowledged ? "acknowledged" : "unacknowledged", " write ",
      write.token, " (", absl::StrJoin(write.names, ", "), ")");
  std::vector<std::string> names;
  for (size_t i = first; i < last; ++i) {
    names.push_back(log.changes()[i].entity().name());
  }
  if (names != write.names) {
    return absl::DataLossError(absl::StrCat(
        what, ": revision ", revision, " changes [", absl::StrJoin(names, ", "),
        "], not exactly its entities"));
  }
  for (size_t i = first; i < last; ++i) {
    const v1::Change& change = log.changes()[i];
    const bool deleted = change.type() == v1::CHANGE_TYPE_DELETED;
    if (deleted != (write.kind == Write::Kind::kDelete) ||
        (!deleted && change.entity().title() != write.token)) {
      return absl::DataLossError(absl::StrCat(
          what, ": revision ", revision, " has another change ",
          change.ShortDebugString().substr(0, 600)));
    }
    if (write.acknowledged &&
        !MessageDifferencer::Equals(change.entity(),
                                    write.entities[i - first])) {
      return absl::DataLossError(absl::StrCat(
          what, ": the log has ", change.entity().ShortDebugString(),
          "\nbut the write was acknowledged with ",
          write.entities[i - first].ShortDebugString()));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteLoad::Verify(const ChangeLog& log,
                               const EntityMap& replayed) {
  // Acknowledged writes of earlier cycles are still there, unchanged.
  for (auto& writer : writers_) {
    for (const Write& write : writer->verified) {
      if (write.revision > log.revision()) {
        return absl::DataLossError(absl::StrCat(
            "write ", write.token, " was acknowledged at revision ",
            write.revision, " but the log ends at ", log.revision()));
      }
      if (absl::Status s = Attribute(*writer, write, log, write.revision);
          !s.ok()) {
        return s;
      }
    }
  }
  // Every newer change set is the next outstanding write of one writer.
  std::vector<size_t> next(writers_.size(), 0);
  uint64_t unknown_present = 0, unknown_absent = 0;
  for (uint64_t r = verified_through_ + 1; r <= log.revision(); ++r) {
    const auto [first, last] = log.Set(r);
    const int owner = OwnerOf(log.changes()[first].entity().name());
    for (size_t i = first; i < last; ++i) {
      if (OwnerOf(log.changes()[i].entity().name()) != owner) {
        return absl::DataLossError(absl::StrCat(
            "revision ", r, " mixes entities of different writers"));
      }
    }
    if (owner == -1 && setup_revisions_.count(r) != 0) continue;
    if (owner < 0) {
      return absl::DataLossError(
          absl::StrCat("revision ", r, " was written by nobody: ",
                       log.changes()[first].ShortDebugString()));
    }
    Writer& writer = *writers_[owner];
    if (next[owner] >= writer.outstanding.size()) {
      return absl::DataLossError(absl::StrCat(
          "revision ", r, " changes writer ", owner,
          "'s entities, but none of its writes is left to explain it: ",
          log.changes()[first].ShortDebugString().substr(0, 600)));
    }
    const Write& write = writer.outstanding[next[owner]++];
    if (write.acknowledged && write.revision != r) {
      return absl::DataLossError(absl::StrCat(
          "write ", write.token, " was acknowledged at revision ",
          write.revision, " but the writer's next change in the log is at ",
          r));
    }
    if (absl::Status s = Attribute(writer, write, log, r); !s.ok()) return s;
    if (!write.acknowledged) ++unknown_present;
  }
  for (auto& writer : writers_) {
    for (size_t i = next[writer->id]; i < writer->outstanding.size(); ++i) {
      const Write& write = writer->outstanding[i];
      if (write.acknowledged) {
        return absl::DataLossError(absl::StrCat(
            "write ", write.token, " acknowledged at revision ",
            write.revision, " is missing from the change log"));
      }
      ++unknown_absent;
    }
    for (Write& write : writer->outstanding) {
      if (write.acknowledged) writer->verified.push_back(std::move(write));
    }
    writer->outstanding.clear();
    writer->model.clear();
    for (const std::string& name : Names(writer->id)) {
      if (auto it = replayed.find(name); it != replayed.end()) {
        writer->model.emplace(name, it->second);
      }
    }
  }
  verified_through_ = log.revision();
  atlas::MutexLock lock(&mu_);
  counts_.unknown_present += unknown_present;
  counts_.unknown_absent += unknown_absent;
  for (auto& writer : writers_) writer->blocked = false;
  return absl::OkStatus();
}

}  // namespace atlas::crash
