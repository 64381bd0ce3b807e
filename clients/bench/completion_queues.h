#pragma once

// The asynchronous gRPC client machinery atlas-bench runs on: completion
// queues each drained by one thread, a Tag interface for the objects waiting
// on them, a one-shot unary call, and channels that each get their own TCP
// connection.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "clients/bench/channel_security.h"
#include "common/mutex.h"

namespace atlas::bench {

// Something waiting for a completion-queue event. The queue's thread calls
// Run, which calls Proceed with the event's `ok`.
class Tag {
 public:
  void Run(bool ok) {
    { atlas::MutexLock lock(&handoff_); }
    Proceed(ok);
  }
  virtual void Proceed(bool ok) = 0;

 protected:
  ~Tag() = default;

  // Starts the tag's first operation from another thread than the queue's.
  // `start` runs holding a lock that Run takes before Proceed, so that what
  // the starting thread did before is visibly done before the completion.
  // gRPC hands the event over too, but Debian's gRPC is not built for
  // ThreadSanitizer, which cannot see that hand-over.
  template <typename Start>
  void StartUnder(Start start) {
    atlas::MutexLock lock(&handoff_);
    start();
  }

 private:
  atlas::Mutex handoff_;
};

// `threads` completion queues, each drained by its own thread. Calls started
// on a queue complete (and their callbacks run) on that queue's thread.
class CompletionQueues {
 public:
  explicit CompletionQueues(int threads);
  // Every call must have completed: shuts the queues down and joins.
  ~CompletionQueues();
  CompletionQueues(const CompletionQueues&) = delete;
  CompletionQueues& operator=(const CompletionQueues&) = delete;

  grpc::CompletionQueue* ForLane(int lane) {
    return queues_[static_cast<size_t>(lane) % queues_.size()].get();
  }

 private:
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<std::thread> threads_;
};

// `count` channels to `server`, each with its own subchannel (so its own
// HTTP/2 connection), without a receive-size limit; plaintext unless
// `security` says otherwise.
std::vector<std::shared_ptr<grpc::Channel>> OpenChannels(
    const std::string& server, int count, const std::string& purpose,
    const ChannelSecurity& security = {});

// A unary call whose completion runs `done(status, response)` on the queue's
// thread, then frees the call.
template <typename Response>
class UnaryCall final : public Tag {
 public:
  using Done = std::function<void(const grpc::Status&, Response&)>;

  // `prepare` is the stub's PrepareAsync<Method> member.
  template <typename Stub, typename Prepare, typename Request>
  static void Start(Stub& stub, Prepare prepare, const Request& request,
                    grpc::CompletionQueue* queue,
                    std::chrono::milliseconds timeout, Done done) {
    auto* call = new UnaryCall(std::move(done));
    call->context_.set_deadline(std::chrono::system_clock::now() + timeout);
    call->reader_ = (stub.*prepare)(&call->context_, request, queue);
    call->StartUnder([call] {
      call->reader_->StartCall();
      call->reader_->Finish(&call->response_, &call->status_, call);
    });
  }

  void Proceed(bool) override {
    done_(status_, response_);
    delete this;
  }

 private:
  explicit UnaryCall(Done done) : done_(std::move(done)) {}
  ~UnaryCall() = default;

  Done done_;
  grpc::ClientContext context_;
  Response response_;
  grpc::Status status_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader_;
};

}  // namespace atlas::bench
