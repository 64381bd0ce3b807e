#include "tests/clients/fake_atlas_service.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace atlas::testing {

using atlas::v1::Entity;

void FakeAtlasService::Put(const Entity& entity) {
  atlas::MutexLock lock(&mutex_);
  entities_[entity.name()] = entity;
  history_[entity.name()].push_back(entity);
}

void FakeAtlasService::AddWatchScript(WatchScript script) {
  atlas::MutexLock lock(&mutex_);
  watch_scripts_.push_back(std::move(script));
}

void FakeAtlasService::FailNextApply(grpc::Status status) {
  atlas::MutexLock lock(&mutex_);
  next_apply_failure_ = std::make_unique<grpc::Status>(std::move(status));
}

std::vector<atlas::v1::ApplyEntitiesRequest> FakeAtlasService::apply_requests()
    const {
  atlas::MutexLock lock(&mutex_);
  return apply_requests_;
}

std::vector<atlas::v1::ListEntitiesRequest> FakeAtlasService::list_requests()
    const {
  atlas::MutexLock lock(&mutex_);
  return list_requests_;
}

std::vector<atlas::v1::DeleteEntityRequest> FakeAtlasService::delete_requests()
    const {
  atlas::MutexLock lock(&mutex_);
  return delete_requests_;
}

std::vector<atlas::v1::WatchRequest> FakeAtlasService::watch_requests() const {
  atlas::MutexLock lock(&mutex_);
  return watch_requests_;
}

std::string FakeAtlasService::last_authorization() const {
  atlas::MutexLock lock(&mutex_);
  return last_authorization_;
}

void FakeAtlasService::RecordAuthorization(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  atlas::MutexLock lock(&mutex_);
  last_authorization_ = it == metadata.end()
                            ? ""
                            : std::string(it->second.data(), it->second.size());
}

void FakeAtlasService::RepeatPageTokens() {
  atlas::MutexLock lock(&mutex_);
  repeat_page_tokens_ = true;
}

grpc::Status FakeAtlasService::GetEntity(
    grpc::ServerContext* context, const atlas::v1::GetEntityRequest* request,
    atlas::v1::GetEntityResponse* response) {
  RecordAuthorization(*context);
  atlas::MutexLock lock(&mutex_);
  const auto it = entities_.find(request->name());
  if (it == entities_.end()) {
    return grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("entity \"", request->name(), "\" does not exist"));
  }
  *response->mutable_entity() = it->second;
  response->set_revision(revision_);
  return grpc::Status::OK;
}

grpc::Status FakeAtlasService::ListEntities(
    grpc::ServerContext* context, const atlas::v1::ListEntitiesRequest* request,
    atlas::v1::ListEntitiesResponse* response) {
  RecordAuthorization(*context);
  atlas::MutexLock lock(&mutex_);
  list_requests_.push_back(*request);
  const int page_size = request->page_size() > 0 ? request->page_size() : 2;
  auto it = repeat_page_tokens_ ? entities_.begin()
                                : entities_.upper_bound(request->page_token());
  int count = 0;
  for (; it != entities_.end() && count < page_size; ++it) {
    *response->add_entities() = it->second;
    ++count;
  }
  if (repeat_page_tokens_) {
    response->set_next_page_token("again");
  } else if (it != entities_.end() && count > 0) {
    response->set_next_page_token(response->entities(count - 1).name());
  }
  response->set_revision(revision_);
  return grpc::Status::OK;
}

grpc::Status FakeAtlasService::ApplyEntities(
    grpc::ServerContext* context,
    const atlas::v1::ApplyEntitiesRequest* request,
    atlas::v1::ApplyEntitiesResponse* response) {
  RecordAuthorization(*context);
  atlas::MutexLock lock(&mutex_);
  apply_requests_.push_back(*request);
  if (next_apply_failure_ != nullptr) {
    const grpc::Status failure = *next_apply_failure_;
    next_apply_failure_.reset();
    return failure;
  }
  for (const Entity& entity : request->entities()) {
    const auto it = entities_.find(entity.name());
    if (!entity.etag().empty() &&
        (it == entities_.end() || it->second.etag() != entity.etag())) {
      return grpc::Status(grpc::StatusCode::ABORTED,
                          absl::StrCat("etag of \"", entity.name(),
                                       "\" does not match: it changed since"));
    }
  }
  const uint64_t revision = request->validate_only() ? revision_ : ++revision_;
  for (const Entity& input : request->entities()) {
    const auto it = entities_.find(input.name());
    atlas::v1::ApplyResult* result = response->add_results();
    result->set_name(input.name());
    Entity stored = input;
    stored.set_update_revision(revision);
    stored.set_etag(absl::StrCat("etag-", revision));
    if (it == entities_.end()) {
      result->set_outcome(atlas::v1::APPLY_OUTCOME_CREATED);
    } else if (it->second.title() == input.title()) {
      result->set_outcome(atlas::v1::APPLY_OUTCOME_UNCHANGED);
      stored = it->second;
    } else {
      result->set_outcome(atlas::v1::APPLY_OUTCOME_UPDATED);
    }
    *result->mutable_entity() = stored;
    if (!request->validate_only()) {
      entities_[input.name()] = stored;
      history_[input.name()].push_back(stored);
    }
  }
  response->set_revision(revision);
  return grpc::Status::OK;
}

grpc::Status FakeAtlasService::DeleteEntity(
    grpc::ServerContext* context, const atlas::v1::DeleteEntityRequest* request,
    atlas::v1::WriteEntityResponse* response) {
  RecordAuthorization(*context);
  atlas::MutexLock lock(&mutex_);
  delete_requests_.push_back(*request);
  const auto it = entities_.find(request->name());
  if (it == entities_.end()) {
    if (request->allow_missing()) return grpc::Status::OK;
    return grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("entity \"", request->name(), "\" does not exist"));
  }
  if (!request->etag().empty() && request->etag() != it->second.etag()) {
    return grpc::Status(grpc::StatusCode::ABORTED, "etag does not match");
  }
  Entity deleted = it->second;
  deleted.set_deleted(true);
  deleted.set_update_revision(++revision_);
  history_[deleted.name()].push_back(deleted);
  entities_.erase(it);
  *response->mutable_entity() = deleted;
  response->set_revision(revision_);
  return grpc::Status::OK;
}

grpc::Status FakeAtlasService::ListEntityHistory(
    grpc::ServerContext* context,
    const atlas::v1::ListEntityHistoryRequest* request,
    atlas::v1::ListEntityHistoryResponse* response) {
  RecordAuthorization(*context);
  atlas::MutexLock lock(&mutex_);
  const auto it = history_.find(request->name());
  if (it == history_.end()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such entity");
  }
  // One version per page, to exercise paging.
  size_t index = 0;
  if (!repeat_page_tokens_ && !request->page_token().empty() &&
      !absl::SimpleAtoi(request->page_token(), &index)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad page token");
  }
  if (index < it->second.size()) *response->add_versions() = it->second[index];
  if (repeat_page_tokens_) {
    response->set_next_page_token("again");
  } else if (index + 1 < it->second.size()) {
    response->set_next_page_token(absl::StrCat(index + 1));
  }
  response->set_revision(revision_);
  return grpc::Status::OK;
}

grpc::Status FakeAtlasService::Watch(
    grpc::ServerContext* context, const atlas::v1::WatchRequest* request,
    grpc::ServerWriter<atlas::v1::WatchResponse>* writer) {
  RecordAuthorization(*context);
  WatchScript script;
  {
    atlas::MutexLock lock(&mutex_);
    watch_requests_.push_back(*request);
    if (watch_scripts_.empty()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no more scripts");
    }
    script = std::move(watch_scripts_.front());
    watch_scripts_.pop_front();
  }
  for (const auto& response : script.responses) {
    if (!writer->Write(response)) return grpc::Status::CANCELLED;
  }
  return script.status;
}

FakeAtlasServer::FakeAtlasServer() {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service_);
  server_ = builder.BuildAndStart();
  address_ = absl::StrCat("127.0.0.1:", port);
}

FakeAtlasServer::~FakeAtlasServer() { Stop(); }

void FakeAtlasServer::Stop() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(1));
    server_->Wait();
    server_.reset();
  }
}

}  // namespace atlas::testing
