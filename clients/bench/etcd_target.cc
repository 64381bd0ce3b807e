#include "clients/bench/etcd_target.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/bench/parse_response.h"
#include "clients/bench/payload.h"

namespace atlas::bench {
namespace {

std::string KeyPrefix(char space, int topic) {
  return topic >= 0 ? absl::StrCat("/bench/", std::string(1, space), "/t",
                                   topic, "/")
                    : absl::StrCat("/bench/", std::string(1, space), "/");
}

// The end of the range of keys starting with `prefix` (etcd's convention:
// the prefix with its last byte incremented).
std::string PrefixEnd(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

etcdserverpb::PutRequest PutFor(const WriteOp& op) {
  etcdserverpb::PutRequest request;
  request.set_key(absl::StrCat(KeyPrefix(op.space, op.topic), op.key));
  request.set_value(op.payload);
  return request;
}

OpResult PutResult(const grpc::Status& status,
                   const etcdserverpb::PutResponse& response) {
  return {status, static_cast<uint64_t>(response.header().revision())};
}

// A read of one key that finds none fails.
OpResult RangeResult(const grpc::Status& status,
                     const etcdserverpb::RangeResponse& response) {
  grpc::Status result = status;
  if (status.ok() && response.kvs_size() != 1) {
    result = grpc::Status(grpc::StatusCode::NOT_FOUND, "key not found");
  }
  return {result, static_cast<uint64_t>(response.header().revision())};
}

// The create requests of a Watch stream, one watcher per spec.
std::vector<etcdserverpb::WatchRequest> WatchRequests(
    const std::vector<WatchSpec>& specs) {
  std::vector<etcdserverpb::WatchRequest> requests(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    etcdserverpb::WatchCreateRequest* create =
        requests[i].mutable_create_request();
    const std::string prefix = KeyPrefix(specs[i].space, specs[i].topic);
    create->set_key(prefix);
    create->set_range_end(PrefixEnd(prefix));
    create->set_start_revision(static_cast<int64_t>(specs[i].start_revision));
  }
  return requests;
}

// What a Watch message means. A cancelled watcher (compacted revision, ...)
// is a failure: the error says why, and the stream should end.
grpc::Status OnWatchResponse(const etcdserverpb::WatchResponse& response,
                             const WatchCallbacks& callbacks) {
  if (response.canceled()) {
    return grpc::Status(
        grpc::StatusCode::ABORTED,
        absl::StrCat("etcd cancelled watcher ", response.watch_id(), ": ",
                     response.cancel_reason()));
  }
  if (response.created()) callbacks.on_ready();
  for (const etcdserverpb::Event& event : response.events()) {
    callbacks.on_event(static_cast<uint64_t>(event.kv().mod_revision()),
                       WrittenNanos(event.kv().value()));
  }
  return grpc::Status::OK;
}

// One Watch stream carrying one watcher per spec: start, send the create
// requests one after the other, then read until the stream ends.
class EtcdWatch final : public Tag, public WatchStream {
 public:
  EtcdWatch(etcdserverpb::Watch::Stub& stub, grpc::CompletionQueue* queue,
            const std::vector<WatchSpec>& specs, WatchCallbacks callbacks)
      : callbacks_(std::move(callbacks)), requests_(WatchRequests(specs)) {
    stream_ = stub.PrepareAsyncWatch(&context_, queue);
    StartUnder([this] { stream_->StartCall(this); });
  }

  void Cancel() override { context_.TryCancel(); }

  void Proceed(bool ok) override {
    if (state_ == State::kFinishing) {
      callbacks_.on_done(ended_.ok() ? status_ : ended_);
      return;
    }
    if (!ok) {
      state_ = State::kFinishing;
      stream_->Finish(&status_, this);
      return;
    }
    switch (state_) {
      case State::kStarting:
      case State::kCreating:
        if (created_ < requests_.size()) {
          state_ = State::kCreating;
          stream_->Write(requests_[created_++], this);
          return;
        }
        state_ = State::kReading;
        break;
      case State::kReading:
        if (grpc::Status status = OnWatchResponse(response_, callbacks_);
            !status.ok()) {
          if (ended_.ok()) ended_ = status;
          context_.TryCancel();
        }
        break;
      case State::kFinishing:
        return;
    }
    stream_->Read(&response_, this);
  }

 private:
  enum class State { kStarting, kCreating, kReading, kFinishing };

  WatchCallbacks callbacks_;
  grpc::ClientContext context_;
  std::vector<etcdserverpb::WatchRequest> requests_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<etcdserverpb::WatchRequest,
                                                etcdserverpb::WatchResponse>>
      stream_;
  size_t created_ = 0;  // requests written
  etcdserverpb::WatchResponse response_;
  grpc::Status status_;
  grpc::Status ended_;  // why a watcher was cancelled, if one was
  State state_ = State::kStarting;
};

}  // namespace

EtcdTarget::EtcdTarget(const TargetOptions& options, CompletionQueues& queues)
    : options_(options), queues_(queues) {
  for (auto& channel : OpenChannels(options.server, options.channels, "unary")) {
    kv_stubs_.push_back(etcdserverpb::KV::NewStub(channel));
  }
  for (auto& channel :
       OpenChannels(options.server, options.watch_channels, "watch")) {
    watch_stubs_.push_back(etcdserverpb::Watch::NewStub(channel));
  }
}

absl::Status EtcdTarget::Setup(int) {
  // Nothing to create; check that etcd answers.
  etcdserverpb::RangeRequest request;
  request.set_key("/bench/");
  request.set_serializable(true);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(options_.timeout_ms));
  context.set_wait_for_ready(true);
  etcdserverpb::RangeResponse response;
  grpc::Status status = kv_stubs_[0]->Range(&context, request, &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("etcd does not answer: ", status.error_message()));
  }
  return absl::OkStatus();
}

void EtcdTarget::Write(int lane, const WriteOp& op, OpDone done) {
  UnaryCall<etcdserverpb::PutResponse>::Start(
      StubFor(lane), &etcdserverpb::KV::Stub::PrepareAsyncPut, PutFor(op),
      queues_.ForLane(lane), std::chrono::milliseconds(options_.timeout_ms),
      [done = std::move(done)](const grpc::Status& status,
                               etcdserverpb::PutResponse& response) {
        done(PutResult(status, response));
      });
}

void EtcdTarget::Read(int lane, char space, uint64_t key, OpDone done) {
  UnaryCall<etcdserverpb::RangeResponse>::Start(
      StubFor(lane), &etcdserverpb::KV::Stub::PrepareAsyncRange,
      RangeFor(space, key), queues_.ForLane(lane),
      std::chrono::milliseconds(options_.timeout_ms),
      [done = std::move(done)](const grpc::Status& status,
                               etcdserverpb::RangeResponse& response) {
        done(RangeResult(status, response));
      });
}

RawCall EtcdTarget::WriteCall(const WriteOp& op) const {
  return {"/etcdserverpb.KV/Put", PutFor(op).SerializeAsString(),
          &DecodeResponse<etcdserverpb::PutResponse, PutResult>};
}

RawCall EtcdTarget::ReadCall(char space, uint64_t key) const {
  return {"/etcdserverpb.KV/Range", RangeFor(space, key).SerializeAsString(),
          &DecodeResponse<etcdserverpb::RangeResponse, RangeResult>};
}

etcdserverpb::RangeRequest EtcdTarget::RangeFor(char space,
                                                uint64_t key) const {
  etcdserverpb::RangeRequest request;
  request.set_key(absl::StrCat(KeyPrefix(space, -1), key));
  request.set_serializable(options_.serializable_reads);
  return request;
}

void EtcdTarget::Apply(int, const std::vector<WriteOp>&, OpDone done) {
  done({grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                     "etcd has no multi-entity apply in atlas-bench"),
        0});
}

std::unique_ptr<WatchStream> EtcdTarget::Watch(
    int lane, const std::vector<WatchSpec>& specs, WatchCallbacks callbacks) {
  return std::make_unique<EtcdWatch>(
      *watch_stubs_[static_cast<size_t>(lane) % watch_stubs_.size()],
      queues_.ForLane(lane), specs, std::move(callbacks));
}

RawStream EtcdTarget::WatchCall(const std::vector<WatchSpec>& specs,
                                const WatchCallbacks& callbacks) const {
  RawStream stream;
  stream.path = "/etcdserverpb.Watch/Watch";
  for (const etcdserverpb::WatchRequest& request : WatchRequests(specs)) {
    stream.requests.push_back(request.SerializeAsString());
  }
  stream.on_message = [callbacks, response = etcdserverpb::WatchResponse()](
                          absl::string_view bytes) mutable {
    grpc::Status status = ParseResponse(bytes, response);
    return status.ok() ? OnWatchResponse(response, callbacks) : status;
  };
  return stream;
}

}  // namespace atlas::bench
