#pragma once

// atlas.v1.Admin over the gRPC callback API: backup and change-log trimming
// (proto/atlas/v1/admin_service.proto). Every call first passes the CallGate
// with Access::kAdmin. Calls run on the gRPC callback thread and finish
// before returning: a backup blocks that thread for as long as RocksDB takes
// to flush and link the files, and a shutdown waits for it.

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "absl/status/statusor.h"
#include "atlas/v1/admin_service.grpc.pb.h"
#include "services/call_gate.h"
#include "storage/store.h"

namespace atlas::services {

// The handlers' logic, reachable without gRPC.
absl::StatusOr<v1::BackupResponse> Backup(storage::Store& store,
                                          const v1::BackupRequest& request);
absl::StatusOr<v1::TrimChangeLogResponse> TrimChangeLog(
    storage::Store& store, const v1::TrimChangeLogRequest& request);

class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(storage::Store& store, CallGate& gate);
  AdminService(const AdminService&) = delete;
  AdminService& operator=(const AdminService&) = delete;

  // From now on every new call fails with UNAVAILABLE ("server is shutting
  // down") before the gate and before any work: a backup started during the
  // drain would hold the shutdown up and race the store's close.
  void RefuseNewCalls() { refusing_.store(true, std::memory_order_release); }
  bool refusing_new_calls() const {
    return refusing_.load(std::memory_order_acquire);
  }

  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* context,
                                   const v1::BackupRequest* request,
                                   v1::BackupResponse* response) override;
  grpc::ServerUnaryReactor* TrimChangeLog(
      grpc::CallbackServerContext* context,
      const v1::TrimChangeLogRequest* request,
      v1::TrimChangeLogResponse* response) override;

 private:
  // Admits the call unless new calls are refused or the gate says no, and
  // finishes it with `handle()`'s result.
  template <typename Response, typename Handler>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  Response* response, Handler&& handle);

  storage::Store& store_;
  CallGate& gate_;
  std::atomic<bool> refusing_{false};
};

}  // namespace atlas::services
