#pragma once

// An in-memory stand-in for the Atlas service, served over real gRPC on a
// local port, so atlasctl's client logic can be tested without the server
// (which lives in services/ and is tested there). Not a model of the real
// semantics beyond what the client relies on.

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "atlas/v1/atlas_service.grpc.pb.h"
#include "grpcpp/server.h"

namespace atlas::testing {

// What one Watch call does: send `responses`, then end with `status`.
struct WatchScript {
  std::vector<atlas::v1::WatchResponse> responses;
  grpc::Status status;
};

class FakeAtlasService final : public atlas::v1::Atlas::Service {
 public:
  // Stored entities, by name. Apply creates or updates (etag precondition),
  // Get reads, List pages through them `page_size` (default 2) at a time.
  void Put(const atlas::v1::Entity& entity);
  // Scripts for the next Watch calls, in order; a call without a script
  // ends at once with UNAVAILABLE.
  void AddWatchScript(WatchScript script);
  // Makes the next ApplyEntities fail with `status`.
  void FailNextApply(grpc::Status status);
  // From now on every page of ListEntities and ListEntityHistory is the
  // first one, naming the same next page token ("again"): a broken server.
  void RepeatPageTokens();

  std::vector<atlas::v1::ApplyEntitiesRequest> apply_requests() const;
  std::vector<atlas::v1::ListEntitiesRequest> list_requests() const;
  std::vector<atlas::v1::DeleteEntityRequest> delete_requests() const;
  std::vector<atlas::v1::WatchRequest> watch_requests() const;
  // "authorization" metadata of the last call ("" if none).
  std::string last_authorization() const;

  grpc::Status GetEntity(grpc::ServerContext* context,
                         const atlas::v1::GetEntityRequest* request,
                         atlas::v1::GetEntityResponse* response) override;
  grpc::Status ListEntities(grpc::ServerContext* context,
                            const atlas::v1::ListEntitiesRequest* request,
                            atlas::v1::ListEntitiesResponse* response) override;
  grpc::Status ApplyEntities(
      grpc::ServerContext* context,
      const atlas::v1::ApplyEntitiesRequest* request,
      atlas::v1::ApplyEntitiesResponse* response) override;
  grpc::Status DeleteEntity(grpc::ServerContext* context,
                            const atlas::v1::DeleteEntityRequest* request,
                            atlas::v1::WriteEntityResponse* response) override;
  grpc::Status ListEntityHistory(
      grpc::ServerContext* context,
      const atlas::v1::ListEntityHistoryRequest* request,
      atlas::v1::ListEntityHistoryResponse* response) override;
  grpc::Status Watch(
      grpc::ServerContext* context, const atlas::v1::WatchRequest* request,
      grpc::ServerWriter<atlas::v1::WatchResponse>* writer) override;

 private:
  void RecordAuthorization(const grpc::ServerContext& context)
      ABSL_LOCKS_EXCLUDED(mutex_);

  mutable atlas::Mutex mutex_;
  uint64_t revision_ ABSL_GUARDED_BY(mutex_) = 0;
  std::map<std::string, atlas::v1::Entity> entities_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::vector<atlas::v1::Entity>> history_
      ABSL_GUARDED_BY(mutex_);
  std::deque<WatchScript> watch_scripts_ ABSL_GUARDED_BY(mutex_);
  std::unique_ptr<grpc::Status> next_apply_failure_ ABSL_GUARDED_BY(mutex_);
  bool repeat_page_tokens_ ABSL_GUARDED_BY(mutex_) = false;
  std::vector<atlas::v1::ApplyEntitiesRequest> apply_requests_
      ABSL_GUARDED_BY(mutex_);
  std::vector<atlas::v1::ListEntitiesRequest> list_requests_
      ABSL_GUARDED_BY(mutex_);
  std::vector<atlas::v1::DeleteEntityRequest> delete_requests_
      ABSL_GUARDED_BY(mutex_);
  std::vector<atlas::v1::WatchRequest> watch_requests_ ABSL_GUARDED_BY(mutex_);
  std::string last_authorization_ ABSL_GUARDED_BY(mutex_);
};

// The fake served on 127.0.0.1 at a free port, stopped on destruction.
class FakeAtlasServer {
 public:
  FakeAtlasServer();
  ~FakeAtlasServer();

  FakeAtlasService& service() { return service_; }
  // "127.0.0.1:PORT".
  const std::string& address() const { return address_; }
  void Stop();

 private:
  FakeAtlasService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace atlas::testing
