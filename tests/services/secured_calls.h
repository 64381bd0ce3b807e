#pragma once

// Calls to atlas.v1.Atlas as a client with (or without) a bearer token, one
// per access level, and Watch streams held open; for the access and limits
// tests. A call is "admitted" when the gate let it through: its status is
// then the method's own (e.g. NOT_FOUND for a read of a missing entity).

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "atlas/v1/atlas_service.grpc.pb.h"
#include "tests/testing/entities.h"

namespace atlas::testing {

inline void Authorize(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
}

inline void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
}

// A read: GetEntity of an entity that does not exist (NOT_FOUND if admitted).
inline grpc::Status ReadCall(v1::Atlas::Stub& stub, const std::string& token) {
  grpc::ClientContext context;
  SetDeadline(context);
  Authorize(context, token);
  v1::GetEntityRequest request;
  request.set_name("documents/absent");
  v1::GetEntityResponse response;
  return stub.GetEntity(&context, request, &response);
}

// A write: creates or replaces documents/`id` (OK if admitted).
inline grpc::Status WriteCall(v1::Atlas::Stub& stub, const std::string& token,
                              const std::string& id = "written") {
  grpc::ClientContext context;
  SetDeadline(context);
  Authorize(context, token);
  v1::UpdateEntityRequest request;
  *request.mutable_entity() = Document(id, "WT/TEST/1");
  request.set_allow_missing(true);
  v1::WriteEntityResponse response;
  return stub.UpdateEntity(&context, request, &response);
}

// A Watch from now on. Started() reads the first message (the initial
// PROGRESS) or, if the stream was refused, its status.
class HeldWatch {
 public:
  HeldWatch(v1::Atlas::Stub& stub, const std::string& token) {
    Authorize(context_, token);
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(5)));
    reader_ = stub.Watch(&context_, v1::WatchRequest());
  }
  ~HeldWatch() { End(); }
  HeldWatch(const HeldWatch&) = delete;
  HeldWatch& operator=(const HeldWatch&) = delete;

  // True if the stream is open (its first message arrived); otherwise
  // status() says why not.
  bool Started() {
    v1::WatchResponse response;
    if (reader_->Read(&response)) return true;
    status_ = reader_->Finish();
    finished_ = true;
    return false;
  }
  const grpc::Status& status() const { return status_; }

  // Cancels the stream (if still open) and waits for its end.
  void End() {
    if (finished_) return;
    context_.TryCancel();
    v1::WatchResponse response;
    while (reader_->Read(&response)) {
    }
    status_ = reader_->Finish();
    finished_ = true;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader_;
  grpc::Status status_;
  bool finished_ = false;
};

// The status of a Watch started with `token`: OK if it opened (it is then
// ended at once).
inline grpc::Status WatchCall(v1::Atlas::Stub& stub, const std::string& token) {
  HeldWatch watch(stub, token);
  if (watch.Started()) return grpc::Status::OK;
  return watch.status();
}

// A stub on a channel of its own (its own connection).
inline std::unique_ptr<v1::Atlas::Stub> StubOnNewConnection(
    const std::string& address,
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        grpc::InsecureChannelCredentials(),
    const std::string& server_name = "") {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (!server_name.empty()) arguments.SetSslTargetNameOverride(server_name);
  return v1::Atlas::NewStub(
      grpc::CreateCustomChannel(address, credentials, arguments));
}

inline void WriteTextFile(const std::string& path, const std::string& text) {
  // Written beside and renamed into place, as an operator should.
  const std::string temporary = path + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
  }
  ASSERT_EQ(std::rename(temporary.c_str(), path.c_str()), 0) << path;
}

inline std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Polls `done` every 10 ms until it holds or `timeout` passes.
inline bool Eventually(const std::function<bool()>& done,
                       absl::Duration timeout = absl::Seconds(60)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

}  // namespace atlas::testing
