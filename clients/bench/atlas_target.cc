#include "clients/bench/atlas_target.h"

#include <utility>

#include "absl/strings/str_cat.h"
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

// One Watch server stream: start, then read until the stream ends.
class AtlasWatch final : public Tag, public WatchStream {
 public:
  AtlasWatch(v1::Atlas::Stub& stub, grpc::CompletionQueue* queue,
             const WatchSpec& spec, WatchCallbacks callbacks)
      : callbacks_(std::move(callbacks)) {
    v1::WatchRequest request;
    if (spec.topic >= 0) {
      request.mutable_filter()->add_topics(TopicSlug(spec.topic));
    } else {
      request.mutable_filter()->add_name_prefixes(
          absl::StrCat("documents/bench-", std::string(1, spec.space)));
    }
    request.set_start_revision(spec.start_revision);
    reader_ = stub.PrepareAsyncWatch(&context_, request, queue);
    reader_->StartCall(this);
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
        if (state_ == State::kReading) Deliver();
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

  void Deliver() {
    if (!ready_) {
      ready_ = true;
      callbacks_.on_ready();
    }
    for (const v1::WatchEvent& event : response_.events()) {
      callbacks_.on_event(
          event.change().revision(),
          WrittenNanos(event.change().entity().document().summary()));
    }
  }

  WatchCallbacks callbacks_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReader<v1::WatchResponse>> reader_;
  v1::WatchResponse response_;
  grpc::Status status_;
  State state_ = State::kStarting;
  bool ready_ = false;
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
  v1::UpdateEntityRequest request;
  FillEntity(op, *request.mutable_entity());
  request.set_allow_missing(true);
  UnaryCall<v1::WriteEntityResponse>::Start(
      StubFor(lane), &v1::Atlas::Stub::PrepareAsyncUpdateEntity, request,
      queues_.ForLane(lane), std::chrono::milliseconds(options_.timeout_ms),
      [done = std::move(done)](const grpc::Status& status,
                               v1::WriteEntityResponse& response) {
        done({status, response.revision()});
      });
}

void AtlasTarget::Read(int lane, char space, uint64_t key, OpDone done) {
  v1::GetEntityRequest request;
  request.set_name(EntityName(space, key));
  UnaryCall<v1::GetEntityResponse>::Start(
      StubFor(lane), &v1::Atlas::Stub::PrepareAsyncGetEntity, request,
      queues_.ForLane(lane), std::chrono::milliseconds(options_.timeout_ms),
      [done = std::move(done)](const grpc::Status& status,
                               v1::GetEntityResponse& response) {
        done({status, response.revision()});
      });
}

void AtlasTarget::Apply(int lane, const std::vector<WriteOp>& ops,
                        OpDone done) {
  v1::ApplyEntitiesRequest request;
  for (const WriteOp& op : ops) FillEntity(op, *request.add_entities());
  UnaryCall<v1::ApplyEntitiesResponse>::Start(
      StubFor(lane), &v1::Atlas::Stub::PrepareAsyncApplyEntities, request,
      queues_.ForLane(lane), std::chrono::milliseconds(options_.timeout_ms),
      [done = std::move(done)](const grpc::Status& status,
                               v1::ApplyEntitiesResponse& response) {
        done({status, response.revision()});
      });
}

std::unique_ptr<WatchStream> AtlasTarget::Watch(int lane, const WatchSpec& spec,
                                                WatchCallbacks callbacks) {
  return std::make_unique<AtlasWatch>(
      *watch_stubs_[static_cast<size_t>(lane) % watch_stubs_.size()],
      queues_.ForLane(lane), spec, std::move(callbacks));
}

}  // namespace atlas::bench
