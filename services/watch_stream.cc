#include "services/watch_stream.h"

namespace atlas::services {
namespace {
class Unimplemented : public grpc::ServerWriteReactor<v1::WatchResponse> {
 public:
  Unimplemented() { Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "soon")); }
  void OnDone() override { delete this; }
};
}  // namespace

grpc::ServerWriteReactor<v1::WatchResponse>* StartWatch(
    ChangeHub&, grpc::CallbackServerContext*, const v1::WatchRequest*) {
  return new Unimplemented();
}

}  // namespace atlas::services
