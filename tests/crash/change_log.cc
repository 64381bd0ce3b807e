#include "tests/crash/change_log.h"

#include <google/protobuf/util/message_differencer.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace atlas::crash {
namespace {

using google::protobuf::util::MessageDifferencer;

// Generous: the machine may be loaded, and a restarted server replays its
// WAL before it answers.
constexpr absl::Duration kCallTimeout = absl::Seconds(120);

absl::Status FromGrpc(const grpc::Status& status, const std::string& what) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

std::string Brief(const v1::Entity& entity) {
  return entity.ShortDebugString().substr(0, 600);
}

}  // namespace

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   arguments);
}

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
}

absl::StatusOr<ChangeLog> ChangeLog::Read(v1::Atlas::Stub& stub,
                                          uint64_t through) {
  ChangeLog log;
  log.revision_ = through;
  if (through == 0) return log;
  v1::WatchRequest request;
  request.set_start_revision(1);
  request.set_include_before(true);
  grpc::ClientContext context;
  SetDeadline(context);
  context.set_wait_for_ready(true);
  std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader =
      stub.Watch(&context, request);
  v1::WatchResponse message;
  uint64_t reported = 0;
  while (reported < through && reader->Read(&message)) {
    reported = std::max(reported, message.revision());
    for (v1::WatchEvent& event : *message.mutable_events()) {
      log.changes_.push_back(std::move(*event.mutable_change()));
    }
  }
  context.TryCancel();
  const grpc::Status status = reader->Finish();
  if (reported < through) {
    return FromGrpc(status, absl::StrCat("reading the change log through ",
                                         through, " (reached ", reported,
                                         ")"));
  }
  // Every revision 1..through, in order, each with at least one change.
  uint64_t expected = 1;
  for (size_t i = 0; i < log.changes_.size(); ++i) {
    const uint64_t r = log.changes_[i].revision();
    if (i > 0 && r == log.changes_[i - 1].revision()) {
      ++log.sets_.back().second;
      continue;
    }
    if (r != expected) {
      return absl::DataLossError(absl::StrCat(
          "change log: revision ", r, " follows ",
          i == 0 ? 0 : log.changes_[i - 1].revision(), " (expected ", expected,
          "): a gap, a duplicate or out of order"));
    }
    log.sets_.emplace_back(i, i + 1);
    ++expected;
  }
  if (expected != through + 1) {
    return absl::DataLossError(absl::StrCat("change log ends at revision ",
                                            expected - 1, ", not ", through));
  }
  return log;
}

absl::StatusOr<EntityMap> ChangeLog::Replay() const {
  EntityMap state;
  for (const v1::Change& change : changes_) {
    const v1::Entity& entity = change.entity();
    const std::string& name = entity.name();
    const auto it = state.find(name);
    const std::string where =
        absl::StrCat("replay of revision ", change.revision(), " (", name, ")");
    if (entity.update_revision() != change.revision() ||
        entity.etag() != absl::StrCat(change.revision())) {
      return absl::DataLossError(absl::StrCat(
          where, ": the entity's update_revision/etag is not the change's "
                 "revision: ",
          Brief(entity)));
    }
    switch (change.type()) {
      case v1::CHANGE_TYPE_CREATED:
        if (it != state.end()) {
          return absl::DataLossError(
              absl::StrCat(where, ": created, but it exists"));
        }
        if (entity.version() != 1 ||
            entity.create_revision() != change.revision() || entity.deleted()) {
          return absl::DataLossError(
              absl::StrCat(where, ": bad created entity ", Brief(entity)));
        }
        state.emplace(name, entity);
        break;
      case v1::CHANGE_TYPE_UPDATED:
      case v1::CHANGE_TYPE_DELETED: {
        if (it == state.end()) {
          return absl::DataLossError(
              absl::StrCat(where, ": changed, but it does not exist"));
        }
        if (!MessageDifferencer::Equals(change.before(), it->second)) {
          return absl::DataLossError(absl::StrCat(
              where, ": `before` ", Brief(change.before()),
              " is not the replayed entity ", Brief(it->second)));
        }
        const bool deleted = change.type() == v1::CHANGE_TYPE_DELETED;
        if (entity.version() != it->second.version() + 1 ||
            entity.create_revision() != it->second.create_revision() ||
            entity.deleted() != deleted) {
          return absl::DataLossError(
              absl::StrCat(where, ": bad version/create_revision/deleted in ",
                           Brief(entity)));
        }
        if (deleted) {
          state.erase(it);
        } else {
          it->second = entity;
        }
        break;
      }
      default:
        return absl::DataLossError(absl::StrCat(where, ": change type ",
                                                change.type()));
    }
  }
  return state;
}

absl::StatusOr<uint64_t> CurrentRevision(v1::Atlas::Stub& stub) {
  v1::ListEntitiesRequest request;
  request.set_page_size(1);
  v1::ListEntitiesResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  context.set_wait_for_ready(true);
  const grpc::Status status = stub.ListEntities(&context, request, &response);
  if (!status.ok()) return FromGrpc(status, "ListEntities");
  return response.revision();
}

absl::StatusOr<EntityMap> ListAll(v1::Atlas::Stub& stub, uint64_t revision) {
  EntityMap listed;
  std::string token;
  do {
    v1::ListEntitiesRequest request;
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::ListEntitiesResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    context.set_wait_for_ready(true);
    const grpc::Status status = stub.ListEntities(&context, request, &response);
    if (!status.ok()) return FromGrpc(status, "ListEntities");
    if (response.revision() != revision) {
      return absl::FailedPreconditionError(
          absl::StrCat("ListEntities reflects revision ", response.revision(),
                       ", not ", revision, " (nothing writes meanwhile)"));
    }
    for (v1::Entity& entity : *response.mutable_entities()) {
      const std::string name = entity.name();
      if (!listed.emplace(name, std::move(entity)).second) {
        return absl::DataLossError(
            absl::StrCat("ListEntities lists ", name, " twice"));
      }
    }
    token = response.next_page_token();
  } while (!token.empty());
  return listed;
}

absl::Status CompareEntities(const EntityMap& replayed,
                             const EntityMap& listed) {
  for (const auto& [name, entity] : replayed) {
    const auto it = listed.find(name);
    if (it == listed.end()) {
      return absl::DataLossError(absl::StrCat(
          name, " is live in the replayed change log but not listed"));
    }
    if (!MessageDifferencer::Equals(entity, it->second)) {
      return absl::DataLossError(absl::StrCat(
          name, ": listed ", Brief(it->second), "\nbut the change log replays ",
          Brief(entity)));
    }
  }
  for (const auto& [name, entity] : listed) {
    if (replayed.count(name) == 0) {
      return absl::DataLossError(absl::StrCat(
          name, " is listed but not live in the replayed change log"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckHistory(v1::Atlas::Stub& stub, const ChangeLog& log,
                          const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    std::vector<const v1::Entity*> want;
    for (const v1::Change& change : log.changes()) {
      if (change.entity().name() == name) want.push_back(&change.entity());
    }
    std::vector<v1::Entity> got;
    std::string token;
    do {
      v1::ListEntityHistoryRequest request;
      request.set_name(name);
      request.set_page_size(1000);
      request.set_page_token(token);
      v1::ListEntityHistoryResponse response;
      grpc::ClientContext context;
      SetDeadline(context);
      const grpc::Status status =
          stub.ListEntityHistory(&context, request, &response);
      if (status.error_code() == grpc::StatusCode::NOT_FOUND && want.empty()) {
        break;
      }
      if (!status.ok()) {
        return FromGrpc(status, absl::StrCat("ListEntityHistory ", name));
      }
      for (v1::Entity& version : *response.mutable_versions()) {
        got.push_back(std::move(version));
      }
      token = response.next_page_token();
    } while (!token.empty());
    if (got.size() != want.size()) {
      return absl::DataLossError(absl::StrCat(
          name, ": history has ", got.size(), " versions, the change log ",
          want.size()));
    }
    for (size_t i = 0; i < got.size(); ++i) {
      if (!MessageDifferencer::Equals(got[i], *want[i])) {
        return absl::DataLossError(absl::StrCat(
            name, ": history version ", i, " is ", Brief(got[i]),
            "\nbut the change log has ", Brief(*want[i])));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace atlas::crash
