#pragma once

// H2Client: gRPC calls spoken directly over HTTP/2 (nghttp2) by one
// event-loop thread, as h2load does. It exists to measure a server with a
// client that costs little CPU: on a small machine the client and the server
// share the cores, and gRPC's own C++ client takes about as much CPU per
// call as the server under test. Unlike h2load, each call carries its own
// request (a new key per write), each response is decoded, and streams
// (Watch) are supported.
//
// Plaintext only (h2c), as the benchmark runs on loopback; a bearer token
// can be sent as an `authorization` header.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/bench/target.h"
#include "common/mutex.h"

namespace atlas::bench {

struct H2Options {
  std::string server;  // host:port
  int connections = 8;
  int64_t timeout_ms = 10'000;  // sent as grpc-timeout on unary calls
  std::string token;            // "authorization: Bearer <token>" if set
};

class H2Client {
 public:
  // Connects every connection (blocking) and starts the event loop.
  static absl::StatusOr<std::unique_ptr<H2Client>> Connect(
      const H2Options& options);
  // Every call and stream must have completed.
  ~H2Client();
  H2Client(const H2Client&) = delete;
  H2Client& operator=(const H2Client&) = delete;

  // Starts `call` on connection lane % connections; `done` runs on the
  // event-loop thread with the decoded result. Thread-safe.
  void Call(int lane, RawCall call, OpDone done);

  // Opens `stream` on connection lane % connections. Its messages go to
  // stream.on_message and its end to `done`, once, all on the event-loop
  // thread. Thread-safe; destroy the handle only after `done`.
  std::unique_ptr<WatchStream> Stream(
      int lane, RawStream stream,
      std::function<void(const grpc::Status&)> done);

  struct Connection;
  struct Pending;

 private:
  explicit H2Client(const H2Options& options);
  void Enqueue(std::unique_ptr<Pending> pending);
  void Cancel(int lane, uint64_t stream_key);
  Connection& ConnectionFor(int lane);
  void Wake();
  void Loop();
  // On the loop thread: submits what Call and Stream queued, then resets
  // the streams Cancel asked to end.
  void SubmitQueued();

  const H2Options options_;
  const std::string timeout_;        // grpc-timeout of unary calls
  const std::string authorization_;  // sent if options_.token is set
  std::vector<std::unique_ptr<Connection>> connections_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: work queued, or stop
  std::thread loop_;
  atlas::Mutex mu_;
  std::vector<std::unique_ptr<Pending>> queued_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<int, uint64_t>> cancels_  // lane, stream key
      ABSL_GUARDED_BY(mu_);
  uint64_t next_stream_key_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace atlas::bench
