// A Watch call: one WatchSession whose messages are the call's responses.

#include "services/watch_stream.h"

#include <utility>

#include "services/watch_session.h"

namespace atlas::services {
namespace {

class WatchStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
                          public WatchSession {
 public:
  WatchStream(ChangeHub& hub, const v1::WatchRequest& request,
              StreamTicket ticket)
      : WatchSession(hub, request), ticket_(std::move(ticket)) {}

  void OnWriteDone(bool ok) override { WriteDone(ok); }
  void OnCancel() override {
    Cancel(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
  }
  void OnDone() override {
    hub().Unregister(this);
    ticket_.Release();  // now, not when the last pump reference goes
    Unref();
  }

 private:
  void Send(grpc::ByteBuffer* message) override { StartWrite(message); }
  void End(const grpc::Status& status) override { Finish(status); }

  StreamTicket ticket_;
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* StartWatch(
    ChangeHub& hub, grpc::CallbackServerContext* context,
    const v1::WatchRequest* request, StreamTicket ticket) {
  auto* stream = new WatchStream(hub, *request, std::move(ticket));
  stream->Start();
  return stream;
}

}  // namespace atlas::services
