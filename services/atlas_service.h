#pragma once

// atlas.v1.Atlas over the gRPC callback API. Unary methods run their store
// call on the calling thread and finish before returning (reads are fast;
// writes wait only for their group commit). Watch hands the call to a
// ServerWriteReactor (services/watch_stream.h): no thread per stream.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <utility>

#include "absl/status/statusor.h"
#include "atlas/v1/atlas_service.grpc.pb.h"
#include "services/change_hub.h"
#include "services/grpc_status.h"
#include "storage/store.h"

namespace atlas::services {

class AtlasService final : public v1::Atlas::CallbackService {
 public:
  AtlasService(storage::Store& store, ChangeHub& hub);
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
  grpc::ServerWriteReactor<v1::WatchResponse>* Watch(
      grpc::CallbackServerContext* context,
      const v1::WatchRequest* request) override;

 private:
  // Runs `handle` (returning absl::StatusOr<Response>) unless new calls are
  // refused, and finishes the call with its result.
  template <typename Response, typename Handler>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  Response* response, Handler&& handle) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (refusing_new_calls()) {
      reactor->Finish(ToGrpcStatus(ShuttingDown()));
      return reactor;
    }
    absl::StatusOr<Response> result = std::forward<Handler>(handle)();
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(ToGrpcStatus(result.status()));
    return reactor;
  }
  static absl::Status ShuttingDown();

  storage::Store& store_;
  ChangeHub& hub_;
  std::atomic<bool> refusing_{false};
};

}  // namespace atlas::services
