#pragma once

// MultiWatcher: one WatchMany call (the test client side). Requests are
// written from the test thread; responses are read on a thread of its own
// and recorded per watch id, with each watch's `ended` and the call's
// final status.

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "atlas/v1/atlas_service.grpc.pb.h"
#include "common/mutex.h"

namespace atlas::testing {

class MultiWatcher {
 public:
  // With `paused`, responses are not read until Resume().
  explicit MultiWatcher(v1::Atlas::Stub& stub, bool paused = false)
      : paused_(paused) {
    stream_ = stub.WatchMany(&context_);
    thread_ = std::thread([this] { Run(); });
  }
  ~MultiWatcher() {
    context_.TryCancel();
    Resume();
    thread_.join();
  }

  // Reusing the id of a watch that ended forgets what it received.
  bool Create(uint64_t id, const v1::WatchRequest& request) {
    {
      atlas::MutexLock lock(&mu_);
      ended_.erase(id);
      revision_.erase(id);
      responses_.erase(id);
    }
    v1::WatchManyRequest message;
    message.mutable_create()->set_watch_id(id);
    *message.mutable_create()->mutable_request() = request;
    return Write(message);
  }
  bool CancelWatch(uint64_t id) {
    v1::WatchManyRequest message;
    message.mutable_cancel()->set_watch_id(id);
    return Write(message);
  }
  bool Write(const v1::WatchManyRequest& message) {
    return stream_->Write(message);
  }
  bool WritesDone() { return stream_->WritesDone(); }
  void CancelCall() { context_.TryCancel(); }
  void Resume() {
    atlas::MutexLock lock(&mu_);
    paused_ = false;
  }

  // Waits until watch `id` has a response at `revision` or later (false on
  // timeout, or if the watch or the call ended first).
  bool WaitForRevision(uint64_t id, uint64_t revision,
                       absl::Duration timeout = absl::Seconds(30)) {
    atlas::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done_ || ended_.count(id) > 0 || revision_[id] >= revision;
    };
    mu_.AwaitWithTimeout(reached, timeout);
    return revision_[id] >= revision;
  }
  // Waits until watch `id` has ended; its status, or nullopt on timeout.
  std::optional<grpc::Status> WaitForWatchEnd(
      uint64_t id, absl::Duration timeout = absl::Seconds(30)) {
    atlas::MutexLock lock(&mu_);
    auto ended = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done_ || ended_.count(id) > 0;
    };
    mu_.AwaitWithTimeout(ended, timeout);
    auto it = ended_.find(id);
    if (it == ended_.end()) return std::nullopt;
    return it->second;
  }
  // Waits for the end of the call and returns its status.
  grpc::Status WaitForEnd(absl::Duration timeout = absl::Seconds(30)) {
    atlas::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_; };
    if (!mu_.AwaitWithTimeout(done, timeout)) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "watcher timeout");
    }
    return status_;
  }

  std::vector<v1::WatchResponse> responses(uint64_t id) {
    atlas::MutexLock lock(&mu_);
    return responses_[id];
  }
  std::vector<v1::WatchEvent> events(uint64_t id) {
    std::vector<v1::WatchEvent> out;
    for (const auto& m : responses(id)) {
      for (const auto& e : m.events()) out.push_back(e);
    }
    return out;
  }
  // Items that came after their watch's `ended` (there must be none).
  int late_messages() {
    atlas::MutexLock lock(&mu_);
    return late_messages_;
  }
  // The most items one message carried.
  int max_items_per_message() {
    atlas::MutexLock lock(&mu_);
    return max_items_;
  }

 private:
  void Run() {
    for (;;) {
      {
        atlas::MutexLock lock(&mu_);
        auto unpaused = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !paused_;
        };
        mu_.Await(unpaused);
      }
      v1::WatchManyResponse message;
      if (!stream_->Read(&message)) break;
      atlas::MutexLock lock(&mu_);
      max_items_ = std::max(max_items_, message.items_size());
      for (const v1::WatchManyItem& item : message.items()) {
        const uint64_t id = item.watch_id();
        if (ended_.count(id) > 0) ++late_messages_;
        if (item.has_ended()) {
          ended_[id] = grpc::Status(
              static_cast<grpc::StatusCode>(item.ended().code()),
              item.ended().message());
        } else {
          revision_[id] = std::max(revision_[id], item.response().revision());
          responses_[id].push_back(item.response());
        }
      }
    }
    grpc::Status status = stream_->Finish();
    atlas::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::WatchManyRequest, v1::WatchManyResponse>>
      stream_;
  std::thread thread_;
  atlas::Mutex mu_;
  bool paused_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::vector<v1::WatchResponse>> responses_
      ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, uint64_t> revision_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, grpc::Status> ended_ ABSL_GUARDED_BY(mu_);
  int late_messages_ ABSL_GUARDED_BY(mu_) = 0;
  int max_items_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace atlas::testing
