#pragma once

// atlas.v1.Atlas over the gRPC callback API. Unary methods run their store
// call on the calling thread and finish before returning (reads are fast;
// writes wait only for their group commit). Watch hands the call to a
// ServerWriteReactor (services/watch_stream.h): no thread per stream.
// Every call first passes the CallGate (authentication, role, rate and
// stream limits) and the request limits.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <utility>

#include "absl/status/statusor.h"
#include "atlas/v1/atlas_service.grpc.pb.h"
#include "services/call_gate.h"
#include "services/change_hub.h"
#include "services/grpc_status.h"
#include "services/request_limits.h"
#include "storage/store.h"

namespace atlas::services {

// Watch and WatchMany are raw methods: they receive serialized requests and
// write serialized responses, so that each event is encoded once for all the
// streams that deliver it (watch_encoding.h). Clients see no difference.
// (Spelled out: gRPC's CallbackService would also declare a typed
// WatchMany with the raw one's signature.)
using AtlasServiceBase = v1::Atlas::WithCallbackMethod_GetEntity<
    v1::Atlas::WithCallbackMethod_ListEntities<
        v1::Atlas::WithCallbackMethod_CreateEntity<
            v1::Atlas::WithCallbackMethod_UpdateEntity<
                v1::Atlas::WithCallbackMethod_DeleteEntity<
                    v1::Atlas::WithCallbackMethod_ApplyEntities<
                        v1::Atlas::WithCallbackMethod_ListEntityHistory<
                            v1::Atlas::WithRawCallbackMethod_Watch<
                                v1::Atlas::WithRawCallbackMethod_WatchMany<
                                    v1::Atlas::Service>>>>>>>>>;

class AtlasService final : public AtlasServiceBase {
 public:
  // `gate` must outlive the service.
  AtlasService(storage::Store& store, ChangeHub& hub, CallGate& gate,
               RequestLimits limits = {});
  AtlasService(const AtlasService&) = delete;
  AtlasService& operator=(const AtlasService&) = delete;

  // From now on every new call fails with UNAVAILABLE ("server is shutting
  // down"); calls already running finish normally.
  void RefuseNewCalls() { refusing_.store(true, std::memory_order_release); }
  bool refusing_new_calls() const {
    return refusing_.load(std::memory_order_acquire);
  }

  grpc::ServerUnaryReactor* GetEntity(grpc::CallbackServerContext* context,
                                      const v1::GetEntityRequest* request,
                                      v1::GetEntityResponse* response) override;
  grpc::ServerUnaryReactor* ListEntities(
      grpc::CallbackServerContext* context,
      const v1::ListEntitiesRequest* request,
      v1::ListEntitiesResponse* response) override;
  grpc::ServerUnaryReactor* CreateEntity(
      grpc::CallbackServerContext* context,
      const v1::CreateEntityRequest* request,
      v1::WriteEntityResponse* response) override;
  grpc::ServerUnaryReactor* UpdateEntity(
      grpc::CallbackServerContext* context,
      const v1::UpdateEntityRequest* request,
      v1::WriteEntityResponse* response) override;
  grpc::ServerUnaryReactor* DeleteEntity(
      grpc::CallbackServerContext* context,
      const v1::DeleteEntityRequest* request,
      v1::WriteEntityResponse* response) override;
  grpc::ServerUnaryReactor* ApplyEntities(
      grpc::CallbackServerContext* context,
      const v1::ApplyEntitiesRequest* request,
      v1::ApplyEntitiesResponse* response) override;
  grpc::ServerUnaryReactor* ListEntityHistory(
      grpc::CallbackServerContext* context,
      const v1::ListEntityHistoryRequest* request,
      v1::ListEntityHistoryResponse* response) override;
  // `request` is a serialized v1::WatchRequest.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;
  // Requests are serialized v1::WatchManyRequest messages.
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* WatchMany(
      grpc::CallbackServerContext* context) override;

 private:
  // Unless new calls are refused, the gate refuses `access` or the client's
  // deadline has already passed, runs `start(reply)`; `start` calls `reply`
  // once with an absl::StatusOr<Response>, at once or later from another
  // thread (writes reply when their commit is durable), and the call
  // finishes with it.
  template <typename Response, typename Start>
  grpc::ServerUnaryReactor* ServeAsync(grpc::CallbackServerContext* context,
                                       Access access, Response* response,
                                       Start&& start) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::Status admitted = refusing_new_calls()
                                ? ShuttingDownError()
                                : gate_.Admit(*context, access);
    if (admitted.ok()) admitted = CheckDeadline(*context);
    if (!admitted.ok()) {
      reactor->Finish(ToGrpcStatus(admitted));
      return reactor;
    }
    std::forward<Start>(start)(
        [reactor, response](absl::StatusOr<Response> result) {
          if (result.ok()) *response = *std::move(result);
          reactor->Finish(ToGrpcStatus(result.status()));
        });
    return reactor;
  }
  // As ServeAsync for a `handle` that returns its absl::StatusOr<Response>.
  template <typename Response, typename Handler>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  Access access, Response* response,
                                  Handler&& handle) {
    return ServeAsync(context, access, response, [&](auto reply) {
      reply(std::forward<Handler>(handle)());
    });
  }
  // DEADLINE_EXCEEDED if the client's deadline has passed: a write that
  // nobody waits for any more is not started.
  static absl::Status CheckDeadline(const grpc::CallbackServerContext& context);

  storage::Store& store_;
  ChangeHub& hub_;
  CallGate& gate_;
  const RequestLimits limits_;
  std::atomic<bool> refusing_{false};
};

}  // namespace atlas::services
