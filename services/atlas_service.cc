#include "services/atlas_service.h"

#include "services/entity_reads.h"
#include "services/entity_writes.h"
#include "services/watch_stream.h"

namespace atlas::services {
namespace {

// A Watch call refused before it started: finishes at once with `status`.
class RefusedWatch final : public grpc::ServerWriteReactor<v1::WatchResponse> {
 public:
  explicit RefusedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

AtlasService::AtlasService(storage::Store& store, ChangeHub& hub)
    : store_(store), hub_(hub) {}

absl::Status AtlasService::ShuttingDown() {
  return absl::UnavailableError("server is shutting down");
}

grpc::ServerUnaryReactor* AtlasService::GetEntity(
    grpc::CallbackServerContext* context, const v1::GetEntityRequest* request,
    v1::GetEntityResponse* response) {
  return Serve(context, response,
               [&] { return services::GetEntity(store_, *request); });
}

grpc::ServerUnaryReactor* AtlasService::ListEntities(
    grpc::CallbackServerContext* context,
    const v1::ListEntitiesRequest* request,
    v1::ListEntitiesResponse* response) {
  return Serve(context, response,
               [&] { return services::ListEntities(store_, *request); });
}

grpc::ServerUnaryReactor* AtlasService::CreateEntity(
    grpc::CallbackServerContext* context,
    const v1::CreateEntityRequest* request, v1::WriteEntityResponse* response) {
  return Serve(context, response,
               [&] { return services::CreateEntity(store_, *request); });
}

grpc::ServerUnaryReactor* AtlasService::UpdateEntity(
    grpc::CallbackServerContext* context,
    const v1::UpdateEntityRequest* request, v1::WriteEntityResponse* response) {
  return Serve(context, response,
               [&] { return services::UpdateEntity(store_, *request); });
}

grpc::ServerUnaryReactor* AtlasService::DeleteEntity(
    grpc::CallbackServerContext* context,
    const v1::DeleteEntityRequest* request, v1::WriteEntityResponse* response) {
  return Serve(context, response,
               [&] { return services::DeleteEntity(store_, *request); });
}

grpc::ServerUnaryReactor* AtlasService::ApplyEntities(
    grpc::CallbackServerContext* context,
    const v1::ApplyEntitiesRequest* request,
    v1::ApplyEntitiesResponse* response) {
  return Serve(context, response,
               [&] { return services::ApplyEntities(store_, *request); });
}

grpc::ServerUnaryReactor* AtlasService::ListEntityHistory(
    grpc::CallbackServerContext* context,
    const v1::ListEntityHistoryRequest* request,
    v1::ListEntityHistoryResponse* response) {
  return Serve(context, response,
               [&] { return services::ListEntityHistory(store_, *request); });
}

grpc::ServerWriteReactor<v1::WatchResponse>* AtlasService::Watch(
    grpc::CallbackServerContext* context, const v1::WatchRequest* request) {
  if (refusing_new_calls())
    return new RefusedWatch(ToGrpcStatus(ShuttingDown()));
  return StartWatch(hub_, context, request);
}

}  // namespace atlas::services
