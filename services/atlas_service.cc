#include "services/atlas_service.h"

#include <chrono>

#include <grpcpp/support/proto_buffer_reader.h>

#include "services/entity_reads.h"
#include "services/entity_writes.h"
#include "services/watch_many.h"
#include "services/watch_stream.h"

namespace atlas::services {
namespace {

// A Watch or WatchMany call refused before it started: finishes at once
// with `status`.
template <typename Reactor>
class Refused final : public Reactor {
 public:
  explicit Refused(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};
using RefusedWatch = Refused<grpc::ServerWriteReactor<grpc::ByteBuffer>>;
using RefusedWatchMany =
    Refused<grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>>;

// The call's request, moved out for a write method to consume. gRPC hands a
// unary callback method its request as const, but the request belongs to
// the call's MessageHolder (its allocator state, which hands it out
// mutable) and gRPC does not read it again once the method has started; so
// the entities in it move into the commit instead of being copied.
template <typename Request, typename Response>
Request TakeRequest(grpc::CallbackServerContext* context,
                    const Request* request, const Response*) {
  auto* holder = static_cast<grpc::MessageHolder<Request, Response>*>(
      context->GetRpcAllocatorState());
  if (holder == nullptr || holder->request() != request) return *request;
  return std::move(*holder->request());
}

}  // namespace

AtlasService::AtlasService(storage::Store& store, ChangeHub& hub,
                           CallGate& gate, RequestLimits limits)
    : store_(store), hub_(hub), gate_(gate), limits_(limits) {}

absl::Status AtlasService::CheckDeadline(
    const grpc::CallbackServerContext& context) {
  if (context.deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError(
        "the client's deadline passed before the call started; nothing was "
        "done");
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AtlasService::GetEntity(
    grpc::CallbackServerContext* context, const v1::GetEntityRequest* request,
    v1::GetEntityResponse* response) {
  return Serve(context, Access::kRead, response,
               [&] { return services::GetEntity(store_, *request); });
}

grpc::ServerUnaryReactor* AtlasService::ListEntities(
    grpc::CallbackServerContext* context,
    const v1::ListEntitiesRequest* request,
    v1::ListEntitiesResponse* response) {
  return Serve(context, Access::kRead, response,
               [&] { return services::ListEntities(store_, *request); });
}

grpc::ServerUnaryReactor* AtlasService::CreateEntity(
    grpc::CallbackServerContext* context,
    const v1::CreateEntityRequest* request, v1::WriteEntityResponse* response) {
  return ServeAsync(context, Access::kWrite, response,
                    [&](WriteReply<v1::WriteEntityResponse> reply) {
                      absl::Status size =
                          CheckEntitySize(request->entity(), "entity", limits_);
                      if (!size.ok()) return reply(size);
                      services::CreateEntity(
                          store_, TakeRequest(context, request, response),
                          std::move(reply));
                    });
}

grpc::ServerUnaryReactor* AtlasService::UpdateEntity(
    grpc::CallbackServerContext* context,
    const v1::UpdateEntityRequest* request, v1::WriteEntityResponse* response) {
  return ServeAsync(context, Access::kWrite, response,
                    [&](WriteReply<v1::WriteEntityResponse> reply) {
                      absl::Status size =
                          CheckEntitySize(request->entity(), "entity", limits_);
                      if (!size.ok()) return reply(size);
                      services::UpdateEntity(
                          store_, TakeRequest(context, request, response),
                          std::move(reply));
                    });
}

grpc::ServerUnaryReactor* AtlasService::DeleteEntity(
    grpc::CallbackServerContext* context,
    const v1::DeleteEntityRequest* request, v1::WriteEntityResponse* response) {
  return ServeAsync(context, Access::kWrite, response,
                    [&](WriteReply<v1::WriteEntityResponse> reply) {
                      services::DeleteEntity(
                          store_, TakeRequest(context, request, response),
                          std::move(reply));
                    });
}

grpc::ServerUnaryReactor* AtlasService::ApplyEntities(
    grpc::CallbackServerContext* context,
    const v1::ApplyEntitiesRequest* request,
    v1::ApplyEntitiesResponse* response) {
  return ServeAsync(context, Access::kWrite, response,
                    [&](WriteReply<v1::ApplyEntitiesResponse> reply) {
                      absl::Status limits = CheckApplyLimits(*request, limits_);
                      if (!limits.ok()) return reply(limits);
                      services::ApplyEntities(
                          store_, TakeRequest(context, request, response),
                          std::move(reply));
                    });
}

grpc::ServerUnaryReactor* AtlasService::ListEntityHistory(
    grpc::CallbackServerContext* context,
    const v1::ListEntityHistoryRequest* request,
    v1::ListEntityHistoryResponse* response) {
  return Serve(context, Access::kRead, response,
               [&] { return services::ListEntityHistory(store_, *request); });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* AtlasService::Watch(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  if (refusing_new_calls())
    return new RefusedWatch(ToGrpcStatus(ShuttingDownError()));
  absl::StatusOr<StreamTicket> ticket =
      gate_.AdmitStream(*context, Access::kRead);
  if (!ticket.ok()) return new RefusedWatch(ToGrpcStatus(ticket.status()));
  v1::WatchRequest parsed;
  grpc::ByteBuffer copy(*request);  // the reader wants a mutable buffer
  grpc::ProtoBufferReader reader(&copy);
  if (!parsed.ParseFromZeroCopyStream(&reader)) {
    return new RefusedWatch(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                     "request: not a valid serialized atlas.v1.WatchRequest"));
  }
  return StartWatch(hub_, context, &parsed, *std::move(ticket));
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
AtlasService::WatchMany(grpc::CallbackServerContext* context) {
  if (refusing_new_calls())
    return new RefusedWatchMany(ToGrpcStatus(ShuttingDownError()));
  absl::StatusOr<StreamTicket> ticket =
      gate_.AdmitStream(*context, Access::kRead);
  if (!ticket.ok()) return new RefusedWatchMany(ToGrpcStatus(ticket.status()));
  return StartWatchMany(hub_, *std::move(ticket));
}

}  // namespace atlas::services
