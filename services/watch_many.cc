#include "services/watch_many.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include <atomic>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "services/grpc_status.h"
#include "services/watch_encoding.h"
#include "services/watch_session.h"

namespace atlas::services {
namespace {

class WatchManyStream;

// A message packs what is queued up to about this size.
constexpr size_t kMaxPackedBytes = 256 << 10;

// One watch of a WatchMany stream: its messages go out tagged with its id.
class MuxedWatch final : public WatchSession {
 public:
  MuxedWatch(ChangeHub& hub, WatchManyStream& stream, uint64_t id,
             const v1::WatchRequest& request)
      : WatchSession(hub, request), stream_(stream), id_(id) {}
  uint64_t id() const { return id_; }

 private:
  void Send(grpc::ByteBuffer* message) override;
  void End(const grpc::Status& status) override;

  WatchManyStream& stream_;
  const uint64_t id_;
};

// Writes one message at a time; each packs every message queued meanwhile
// (up to kMaxPackedBytes), so a change that matches many watches of the
// stream goes out in one write. References: gRPC's (dropped in OnDone), one
// per open watch, one per pump the hub has pending.
class WatchManyStream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
      public Pumped {
 public:
  WatchManyStream(ChangeHub& hub, StreamTicket ticket)
      : hub_(hub), ticket_(std::move(ticket)) {}

  void Begin() {
    absl::Status added = hub_.AddStream(this);
    if (!added.ok()) {
      {
        atlas::MutexLock lock(&mu_);
        finished_ = true;
      }
      Finish(ToGrpcStatus(added));
      return;
    }
    StartRead(&in_);
  }

  // From the watches.
  void Send(MuxedWatch* watch, const grpc::ByteBuffer& message) {
    Outgoing tagged{watch, {}, message.Length()};
    AppendTagged(watch->id(), message, tagged.slices);
    watch->Ref();  // until its message is written (or fails)
    grpc::ByteBuffer* start = nullptr;
    {
      atlas::MutexLock lock(&mu_);
      if (!broken_) {
        outbox_.push_back(std::move(tagged));
        start = NextWriteLocked();
        watch = nullptr;
      }
    }
    if (watch != nullptr) {  // nobody is reading any more
      watch->WriteDone(false);
      watch->Unref();
      return;
    }
    if (start != nullptr) StartWrite(start);
  }

  void Ended(MuxedWatch* watch, const grpc::Status& status) {
    grpc::ByteBuffer* start = nullptr;
    {
      atlas::MutexLock lock(&mu_);
      watches_.erase(watch->id());
      if (!broken_ && !finished_) {
        outbox_.push_back(EndedMessage(watch->id(), status));
        start = NextWriteLocked();
      }
    }
    hub_.Unregister(watch);
    watch->Unref();  // the stream's reference
    if (start != nullptr) StartWrite(start);
    MaybeFinish();
    Unref();  // the watch's reference
  }

  // grpc::ServerBidiReactor
  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side (or the call broke)
      {
        atlas::MutexLock lock(&mu_);
        client_done_ = true;
      }
      MaybeFinish();
      return;
    }
    v1::WatchManyRequest request;
    grpc::ProtoBufferReader reader(&in_);
    absl::Status handled =
        request.ParseFromZeroCopyStream(&reader)
            ? Handle(request)
            : absl::InvalidArgumentError(
                  "request: not a valid serialized atlas.v1.WatchManyRequest");
    if (!handled.ok()) {
      {
        atlas::MutexLock lock(&mu_);
        client_done_ = true;
        if (!stream_error_) stream_error_ = ToGrpcStatus(handled);
      }
      CancelAll(grpc::Status(
          grpc::StatusCode::CANCELLED,
          absl::StrCat("the stream ends: ", handled.message())));
      MaybeFinish();
      return;
    }
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    std::vector<Outgoing> done;
    std::deque<Outgoing> failed;
    grpc::ByteBuffer* start = nullptr;
    {
      atlas::MutexLock lock(&mu_);
      done.swap(in_flight_);
      writing_ = false;
      if (!ok) broken_ = true;
      if (broken_) {
        failed.swap(outbox_);
      } else {
        start = NextWriteLocked();
      }
    }
    if (start != nullptr) StartWrite(start);
    for (Outgoing& message : done) {
      if (message.watch == nullptr) continue;
      message.watch->WriteDone(ok);
      message.watch->Unref();
    }
    for (Outgoing& message : failed) {
      if (message.watch == nullptr) continue;
      message.watch->WriteDone(false);
      message.watch->Unref();
    }
    if (!ok) {
      CancelAll(grpc::Status(grpc::StatusCode::CANCELLED,
                             "the stream broke while writing"));
    }
    MaybeFinish();
  }

  void OnCancel() override {
    {
      atlas::MutexLock lock(&mu_);
      broken_ = true;
    }
    CancelAll(
        grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
    MaybeFinish();
  }

  void OnDone() override {
    hub_.RemoveStream(this);
    ticket_.Release();
    Unref();
  }

  // Pumped: the hub tells every watch itself; the stream ends once they
  // have ended.
  bool OnShutdown() override {
    atlas::MutexLock lock(&mu_);
    shutting_down_ = true;
    return true;
  }
  void Pump() override { MaybeFinish(); }
  void Ref() override { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() override {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  // One serialized WatchManyResponse with one item, as slices.
  struct Outgoing {
    MuxedWatch* watch = nullptr;  // referenced; null for an `ended` message
    std::vector<grpc::Slice> slices;
    size_t size = 0;  // bytes, about (packing is bounded by them)
  };

  absl::Status Handle(const v1::WatchManyRequest& request) {
    switch (request.action_case()) {
      case v1::WatchManyRequest::kCreate:
        return Create(request.create());
      case v1::WatchManyRequest::kCancel:
        Cancel(request.cancel().watch_id());
        return absl::OkStatus();
      case v1::WatchManyRequest::ACTION_NOT_SET:
        break;
    }
    return absl::InvalidArgumentError(
        "action: set create or cancel (an empty request does nothing)");
  }

  absl::Status Create(const v1::WatchCreate& create) {
    const uint64_t id = create.watch_id();
    MuxedWatch* watch = nullptr;
    grpc::ByteBuffer* start = nullptr;
    {
      atlas::MutexLock lock(&mu_);
      if (watches_.contains(id)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "create.watch_id: watch ", id, " is already open on this stream"));
      }
      if (watches_.size() >= kMaxWatchesPerStream) {
        outbox_.push_back(
            EndedMessage(id, grpc::Status(
                                  grpc::StatusCode::RESOURCE_EXHAUSTED,
                                  absl::StrCat("create: ", kMaxWatchesPerStream,
                                               " watches are already open on "
                                               "this stream; open another "
                                               "stream"))));
        start = NextWriteLocked();
      } else {
        watch = new MuxedWatch(hub_, *this, id, create.request());
        watches_.emplace(id, watch);
        Ref();  // the watch's
      }
    }
    if (start != nullptr) StartWrite(start);
    if (watch != nullptr) watch->Start();
    return absl::OkStatus();
  }

  void Cancel(uint64_t id) {
    MuxedWatch* watch;
    {
      atlas::MutexLock lock(&mu_);
      auto it = watches_.find(id);
      if (it == watches_.end()) return;  // ended already, or never opened
      watch = it->second;
      watch->Ref();
    }
    watch->Cancel(
        grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
    watch->Unref();
  }

  // Ends every open watch with `why`.
  void CancelAll(const grpc::Status& why) {
    std::vector<MuxedWatch*> open;
    {
      atlas::MutexLock lock(&mu_);
      for (auto& [id, watch] : watches_) {
        watch->Ref();
        open.push_back(watch);
      }
    }
    for (MuxedWatch* watch : open) {
      watch->Cancel(why);
      watch->Unref();
    }
  }

  static Outgoing EndedMessage(uint64_t id, const grpc::Status& status) {
    v1::WatchManyResponse last;
    v1::WatchManyItem* item = last.add_items();
    item->set_watch_id(id);
    item->mutable_ended()->set_code(status.error_code());
    item->mutable_ended()->set_message(status.error_message());
    Outgoing out;
    out.size = last.ByteSizeLong();
    (void)SerializeResponse(last).Dump(&out.slices);
    return out;
  }

  // If nothing is being written: the queued messages, packed into one
  // (serialized WatchManyResponses concatenated are one with all their
  // items), to write next.
  grpc::ByteBuffer* NextWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_ || outbox_.empty()) return nullptr;
    writing_ = true;
    std::vector<grpc::Slice> slices;
    size_t bytes = 0;
    while (!outbox_.empty() &&
           (in_flight_.empty() || bytes < kMaxPackedBytes)) {
      Outgoing& next = outbox_.front();
      bytes += next.size;
      slices.insert(slices.end(), next.slices.begin(), next.slices.end());
      in_flight_.push_back(std::move(next));
      outbox_.pop_front();
    }
    in_flight_bytes_ = grpc::ByteBuffer(slices.data(), slices.size());
    return &in_flight_bytes_;
  }

  // Finishes the call once every watch has ended and everything queued is
  // written, if the call is over: broken, a bad request, the client done,
  // or the server shutting down.
  void MaybeFinish() {
    grpc::Status status;
    {
      atlas::MutexLock lock(&mu_);
      if (finished_ || writing_ || !outbox_.empty() || !watches_.empty()) {
        return;
      }
      if (broken_) {
        status = grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke");
      } else if (stream_error_) {
        status = *stream_error_;
      } else if (shutting_down_) {
        status = ToGrpcStatus(ShuttingDownError());
      } else if (client_done_) {
        status = grpc::Status::OK;
      } else {
        return;
      }
      finished_ = true;
    }
    hub_.RemoveStream(this);
    Finish(status);
  }

  ChangeHub& hub_;
  StreamTicket ticket_;
  grpc::ByteBuffer in_;  // the request being read
  std::atomic<int> refs_{1};

  atlas::Mutex mu_;
  absl::flat_hash_map<uint64_t, MuxedWatch*> watches_ ABSL_GUARDED_BY(mu_);
  std::deque<Outgoing> outbox_ ABSL_GUARDED_BY(mu_);  // not yet written
  // The messages being written, packed into in_flight_bytes_.
  std::vector<Outgoing> in_flight_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer in_flight_bytes_;  // owned by gRPC while writing_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool client_done_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> stream_error_ ABSL_GUARDED_BY(mu_);
};

void MuxedWatch::Send(grpc::ByteBuffer* message) {
  stream_.Send(this, *message);
}

void MuxedWatch::End(const grpc::Status& status) {
  stream_.Ended(this, status);
}

}  // namespace

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* StartWatchMany(
    ChangeHub& hub, StreamTicket ticket) {
  auto* stream = new WatchManyStream(hub, std::move(ticket));
  stream->Begin();
  return stream;
}

}  // namespace atlas::services
