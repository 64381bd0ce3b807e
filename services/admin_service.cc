#include "services/admin_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/grpc_status.h"

namespace atlas::services {
namespace {

constexpr size_t kMaxDirectoryBytes = 4096;

}  // namespace

absl::StatusOr<v1::BackupResponse> Backup(storage::Store& store,
                                          const v1::BackupRequest& request) {
  const std::string& directory = request.directory();
  if (directory.empty()) {
    return absl::InvalidArgumentError("directory: is required");
  }
  if (directory.size() > kMaxDirectoryBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "directory: at most ", kMaxDirectoryBytes, " bytes, got ",
        directory.size()));
  }
  if (directory.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("directory: must not contain NUL bytes");
  }
  absl::StatusOr<storage::BackupResult> backup = store.Backup(directory);
  if (!backup.ok()) return backup.status();
  v1::BackupResponse response;
  response.set_revision(backup->revision);
  response.set_directory(backup->directory);
  response.set_bytes(backup->bytes);
  return response;
}

absl::StatusOr<v1::TrimChangeLogResponse> TrimChangeLog(
    storage::Store& store, const v1::TrimChangeLogRequest& request) {
  const uint64_t oldest = request.oldest_revision();
  if (oldest == 0) {
    return absl::InvalidArgumentError(
        "oldest_revision: is required (at least 1)");
  }
  const uint64_t current = store.CurrentRevision();
  if (oldest > current + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "oldest_revision: ", oldest, " is beyond the current revision + 1 (",
        current + 1, ")"));
  }
  if (absl::Status status = store.CompactChangeLog(oldest); !status.ok()) {
    return status;
  }
  v1::TrimChangeLogResponse response;
  response.set_oldest_revision(store.OldestRevision());
  response.set_revision(store.CurrentRevision());
  return response;
}

AdminService::AdminService(storage::Store& store, CallGate& gate)
    : store_(store), gate_(gate) {}

template <typename Response, typename Handler>
grpc::ServerUnaryReactor* AdminService::Serve(
    grpc::CallbackServerContext* context, Response* response,
    Handler&& handle) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Refused before the gate, as AtlasService does: a refused call takes no
  // rate token.
  const absl::Status admitted =
      refusing_new_calls() ? ShuttingDownError()
                           : gate_.Admit(*context, Access::kAdmin);
  if (!admitted.ok()) {
    reactor->Finish(ToGrpcStatus(admitted));
    return reactor;
  }
  absl::StatusOr<Response> result = std::forward<Handler>(handle)();
  if (result.ok()) *response = *std::move(result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::Backup(
    grpc::CallbackServerContext* context, const v1::BackupRequest* request,
    v1::BackupResponse* response) {
  return Serve(context, response,
               [&] { return services::Backup(store_, *request); });
}

grpc::ServerUnaryReactor* AdminService::TrimChangeLog(
    grpc::CallbackServerContext* context,
    const v1::TrimChangeLogRequest* request,
    v1::TrimChangeLogResponse* response) {
  return Serve(context, response,
               [&] { return services::TrimChangeLog(store_, *request); });
}

}  // namespace atlas::services
