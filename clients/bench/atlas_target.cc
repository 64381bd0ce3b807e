#include "clients/bench/atlas_target.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/bench/parse_response.h"
#include "clients/bench/payload.h"

namespace atlas::bench {
namespace {

std::string EntityName(char space, uint64_t key) {
  return absl::StrCat("documents/bench-", std::string(1, space), key);
}

std::string TopicSlug(int topic) { return absl::StrCat("bench-t", topic); }

void FillEntity(const WriteOp& op, v1::Entity& entity) {
  entity.set_name(EntityName(op.space, op.key));
  if (op.topic >= 0) entity.add_topics(TopicSlug(op.topic));
  v1::Document* document = entity.mutable_document();
  document->set_date("2025-01-01");
  document->set_summary(op.payload);
}

v1::UpdateEntityRequest WriteRequest(const WriteOp& op, bool basic_view) {
  v1::UpdateEntityRequest request;
  FillEntity(op, *request.mutable_entity());
  request.set_allow_missing(true);
  if (basic_view) request.set_view(v1::WRITE_VIEW_BASIC);
  return request;
}

v1::GetEntityRequest ReadRequest(char space, uint64_t key) {
  v1::GetEntityRequest request;
  request.set_name(EntityName(space, key));
  return request;
}

// A call's result: its status and the revision the response reports.
template <typename Response>
OpResult RevisionResult(const grpc::Status& status, const Response& response) {
  return {status, response.revision()};
}

v1::WatchRequest WatchRequestFor(const WatchSpec& spec) {
  v1::WatchRequest request;
  if (spec.topic >= 0) {
    request.mutable_filter()->add_topics(TopicSlug(spec.topic));
  } else {
    request.mutable_filter()->add_name_prefixes(
        absl::StrCat("documents/bench-", std::string(1, spec.space)));
  }
  request.set_start_revision(spec.start_revision);
  return request;
}

void DeliverEvents(const v1::WatchResponse& response,
                   const WatchCallbacks& callbacks) {
  for (const v1::WatchEvent& event : response.events()) {
    callbacks.on_event(
        event.change().revision(),
        WrittenNanos(event.change().entity().document().summary()));
  }
}

// What a Watch message means: the first one acknowledges the watch.
void OnWatchResponse(const v1::WatchResponse& response, bool& ready,
                     const WatchCallbacks& callbacks) {
  if (!ready) {
    ready = true;
    callbacks.on_ready();
  }
  DeliverEvents(response, callbacks);
}

// The create requests of a WatchMany stream: one watch per spec, ids 1..N.
std::vector<v1::WatchManyRequest> WatchManyRequests(
    const std::vector<WatchSpec>& specs) {
  std::vector<v1::WatchManyRequest> requests(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    v1::WatchCreate* create = requests[i].mutable_create();
    create->set_watch_id(i + 1);
    *create->mutable_request() = WatchRequestFor(specs[i]);
  }
  return requests;
}

// What a WatchMany message means, `ready` being by watch id. A watch that
// ends is a failure here: the error says why, and the stream should end.
grpc::Status OnWatchManyResponse(const v1::WatchManyResponse& response,
                                 std::vector<bool>& ready,
                                 const WatchCallbacks& callbacks) {
  for (const v1::WatchManyItem& item : response.items()) {
    const uint64_t id = item.watch_id();
    if (item.has_ended()) {
      return grpc::Status(
          static_cast<grpc::StatusCode>(item.ended().code()),
          absl::StrCat("watch ", id, ": ", item.ended().message()));
    }
    if (id < ready.size() && !ready[id]) {
      ready[id] = true;
      callbacks.on_ready();
    }
    DeliverEvents(item.response(), callbacks);
  }
  return grpc::Status::OK;
}

// One Watch server stream: start, then read until the stream ends.
class AtlasWatch final : public Tag, public WatchStream {
 public:
  AtlasWatch(v1::Atlas::Stub& stub, grpc::CompletionQueue* queue,
             const WatchSpec& spec, WatchCallbacks callbacks)
      : callbacks_(std::move(callbacks)) {
    reader_ = stub.PrepareAsyncWatch(&context_, WatchRequestFor(spec), queue);
    StartUnder([this] { reader_->StartCall(this); });
  }

  void Cancel() override { context_.TryCancel(); }

  void Proceed(bool ok) override {
    switch (state_) {
      case State::kStarting:
      case State::kReading:
        if (!ok) {
          state_ = State::kFinishing;
          reader_->Finish(&status_, this);
          return;
        }
        if (state_ == State::kReading) {
          OnWatchResponse(response_, ready_, callbacks_);
        }
        state_ = State::kReading;
        reader_->Read(&response_, this);
        return;
      case State::kFinishing:
        callbacks_.on_done(status_);
        return;
    }
  }

 private:
  enum class State { kStarting, kReading, kFinishing };

  WatchCallbacks callbacks_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReader<v1::WatchResponse>> reader_;
  v1::WatchResponse response_;
  grpc::Status status_;
  State state_ = State::kStarting;
  bool ready_ = false;
};

// One WatchMany stream with one watch per spec (ids 1..N): send the create
// requests one after the other, then read until the stream ends.
class AtlasWatchMany final : public Tag, public WatchStream {
 public:
  AtlasWatchMany(v1::Atlas::Stub& stub, grpc::CompletionQueue* queue,
                 const std::vector<WatchSpec>& specs, WatchCallbacks callbacks)
      : callbacks_(std::move(callbacks)),
        requests_(WatchManyRequests(specs)),
        ready_(specs.size() + 1, false) {
    stream_ = stub.PrepareAsyncWatchMany(&context_, queue);
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
    if (state_ == State::kReading) {
      Deliver();
    } else if (created_ < requests_.size()) {
      state_ = State::kCreating;
      stream_->Write(requests_[created_++], this);
      return;
    }
    state_ = State::kReading;
    stream_->Read(&response_, this);
  }

 private:
  enum class State { kStarting, kCreating, kReading, kFinishing };

  void Deliver() {
    const grpc::Status status =
        OnWatchManyResponse(response_, ready_, callbacks_);
    if (!status.ok()) {
      if (ended_.ok()) ended_ = status;
      context_.TryCancel();
    }
  }

  WatchCallbacks callbacks_;
  grpc::ClientContext context_;
  std::vector<v1::WatchManyRequest> requests_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::WatchManyRequest,
                                                v1::WatchManyResponse>>
      stream_;
  size_t created_ = 0;  // requests written
  std::vector<bool> ready_;  // by watch id
  v1::WatchManyResponse response_;
  grpc::Status status_;
  grpc::Status ended_;  // why a watch ended, if one did
  State state_ = State::kStarting;
};

}  // namespace

AtlasTarget::AtlasTarget(const TargetOptions& options,
                         CompletionQueues& queues)
    : options_(options), queues_(queues) {
  for (auto& channel : OpenChannels(options.server, options.channels, "unary",
                                    options.security)) {
    stubs_.push_back(v1::Atlas::NewStub(channel));
  }
  for (auto& channel : OpenChannels(options.server, options.watch_channels,
                                    "watch", options.security)) {
    watch_stubs_.push_back(v1::Atlas::NewStub(channel));
  }
}

absl::Status AtlasTarget::Setup(int topics) {
  v1::ApplyEntitiesRequest request;
  v1::Entity* basket = request.add_entities();
  basket->set_name("baskets/bench");
  basket->set_title("atlas-bench");
  basket->mutable_basket()->set_description("Topics used by atlas-bench");
  for (int t = 0; t < topics; ++t) {
    v1::Entity* topic = request.add_entities();
    topic->set_name(absl::StrCat("topics/", TopicSlug(t)));
    topic->mutable_topic()->set_basket("baskets/bench");
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(options_.timeout_ms));
  context.set_wait_for_ready(true);
  v1::ApplyEntitiesResponse response;
  grpc::Status status = stubs_[0]->ApplyEntities(&context, request, &response);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "atlas setup (ApplyEntities of the bench topics) failed: ",
        status.error_message()));
  }
  return absl::OkStatus();
}

void AtlasTarget::Write(int lane, const WriteOp& op, OpDone done) {
  UnaryCall<v1::WriteEntityResponse>::Start(
      StubFor(lane), &v1::Atlas::Stub::PrepareAsyncUpdateEntity,
      WriteRequest(op, options_.write_basic_view), queues_.ForLane(lane),
      std::chrono::milliseconds(options_.timeout_ms),
      [done = std::move(done)](const grpc::Status& status,
                               v1::WriteEntityResponse& response) {
        done(RevisionResult(status, response));
      });
}

void AtlasTarget::Read(int lane, char space, uint64_t key, OpDone done) {
  UnaryCall<v1::GetEntityResponse>::Start(
      StubFor(lane), &v1::Atlas::Stub::PrepareAsyncGetEntity,
      ReadRequest(space, key), queues_.ForLane(lane),
      std::chrono::milliseconds(options_.timeout_ms),
      [done = std::move(done)](const grpc::Status& status,
                               v1::GetEntityResponse& response) {
        done(RevisionResult(status, response));
      });
}

RawCall AtlasTarget::WriteCall(const WriteOp& op) const {
  return {"/atlas.v1.Atlas/UpdateEntity",
          WriteRequest(op, options_.write_basic_view).SerializeAsString(),
          &DecodeResponse<v1::WriteEntityResponse, RevisionResult>};
}

RawCall AtlasTarget::ReadCall(char space, uint64_t key) const {
  return {"/atlas.v1.Atlas/GetEntity",
          ReadRequest(space, key).SerializeAsString(),
          &DecodeResponse<v1::GetEntityResponse, RevisionResult>};
}

void AtlasTarget::Apply(int lane, const std::vector<WriteOp>& ops,
                        OpDone done) {
  v1::ApplyEntitiesRequest request;
  for (const WriteOp& op : ops) FillEntity(op, *request.add_entities());
  if (options_.apply_basic_view) request.set_view(v1::APPLY_VIEW_BASIC);
  UnaryCall<v1::ApplyEntitiesResponse>::Start(
      StubFor(lane), &v1::Atlas::Stub::PrepareAsyncApplyEntities, request,
      queues_.ForLane(lane), std::chrono::milliseconds(options_.timeout_ms),
      [done = std::move(done)](const grpc::Status& status,
                               v1::ApplyEntitiesResponse& response) {
        done(RevisionResult(status, response));
      });
}

std::unique_ptr<WatchStream> AtlasTarget::Watch(
    int lane, const std::vector<WatchSpec>& specs, WatchCallbacks callbacks) {
  v1::Atlas::Stub& stub =
      *watch_stubs_[static_cast<size_t>(lane) % watch_stubs_.size()];
  if (specs.size() == 1) {
    return std::make_unique<AtlasWatch>(stub, queues_.ForLane(lane), specs[0],
                                        std::move(callbacks));
  }
  return std::make_unique<AtlasWatchMany>(stub, queues_.ForLane(lane), specs,
                                          std::move(callbacks));
}

RawStream AtlasTarget::WatchCall(const std::vector<WatchSpec>& specs,
                                 const WatchCallbacks& callbacks) const {
  RawStream stream;
  if (specs.size() == 1) {
    stream.path = "/atlas.v1.Atlas/Watch";
    stream.requests.push_back(WatchRequestFor(specs[0]).SerializeAsString());
    stream.half_close = true;
    stream.on_message = [callbacks, response = v1::WatchResponse(),
                         ready = false](absl::string_view bytes) mutable {
      grpc::Status status = ParseResponse(bytes, response);
      if (status.ok()) OnWatchResponse(response, ready, callbacks);
      return status;
    };
    return stream;
  }
  stream.path = "/atlas.v1.Atlas/WatchMany";
  for (const v1::WatchManyRequest& request : WatchManyRequests(specs)) {
    stream.requests.push_back(request.SerializeAsString());
  }
  stream.on_message = [callbacks, response = v1::WatchManyResponse(),
                       ready = std::vector<bool>(specs.size() + 1, false)](
                          absl::string_view bytes) mutable {
    grpc::Status status = ParseResponse(bytes, response);
    return status.ok() ? OnWatchManyResponse(response, ready, callbacks)
                       : status;
  };
  return stream;
}

}  // namespace atlas::bench
