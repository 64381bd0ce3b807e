#pragma once

// Watcher: one Watch call read on its own thread (the test client side),
// recording every message and the final status.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "atlas/v1/atlas_service.grpc.pb.h"
#include "common/mutex.h"

namespace atlas::testing {

class Watcher {
 public:
  // With `paused`, the watcher does not read until Resume(): a subscriber
  // that stops reading.
  Watcher(v1::Atlas::Stub& stub, v1::WatchRequest request, bool paused = false)
      : paused_(paused) {
    reader_ = stub.Watch(&context_, request);
    thread_ = std::thread([this] { Run(); });
  }
  ~Watcher() {
    context_.TryCancel();
    Resume();
    thread_.join();
  }

  void Resume() {
    atlas::MutexLock lock(&mu_);
    paused_ = false;
  }
  void Cancel() { context_.TryCancel(); }

  // Waits until a message reports `revision` or later. False on timeout or
  // if the stream ended first.
  bool WaitForRevision(uint64_t revision,
                       absl::Duration timeout = absl::Seconds(30)) {
    atlas::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done_ || revision_ >= revision;
    };
    mu_.AwaitWithTimeout(reached, timeout);
    return revision_ >= revision;
  }
  // Waits until a message of `type` arrived.
  bool WaitForType(v1::WatchResponse::Type type,
                   absl::Duration timeout = absl::Seconds(30)) {
    atlas::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (done_) return true;
      for (const auto& m : messages_) {
        if (m.type() == type) return true;
      }
      return false;
    };
    mu_.AwaitWithTimeout(seen, timeout);
    for (const auto& m : messages_) {
      if (m.type() == type) return true;
    }
    return false;
  }
  // Waits for the end of the stream and returns its status.
  grpc::Status WaitForEnd(absl::Duration timeout = absl::Seconds(30)) {
    atlas::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_; };
    if (!mu_.AwaitWithTimeout(done, timeout)) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "watcher timeout");
    }
    return status_;
  }

  std::vector<v1::WatchResponse> messages() {
    atlas::MutexLock lock(&mu_);
    return messages_;
  }
  std::vector<v1::WatchEvent> events() {
    std::vector<v1::WatchEvent> out;
    for (const auto& m : messages()) {
      for (const auto& e : m.events()) out.push_back(e);
    }
    return out;
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
      v1::WatchResponse message;
      if (!reader_->Read(&message)) break;
      atlas::MutexLock lock(&mu_);
      revision_ = std::max(revision_, message.revision());
      messages_.push_back(std::move(message));
    }
    grpc::Status status = reader_->Finish();
    atlas::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader_;
  std::thread thread_;
  atlas::Mutex mu_;
  bool paused_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::WatchResponse> messages_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atlas::testing
