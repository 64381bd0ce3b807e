#pragma once

// H2UnaryClient: gRPC unary calls spoken directly over HTTP/2 (nghttp2), by
// one event-loop thread, as h2load does. It exists to measure a server with
// a client that costs little CPU: on a small machine the client and the
// server share the cores, and gRPC's own client stack takes about as much
// CPU per call as the server under test. Unlike h2load, each call carries
// its own request (a new key per write), and each response is decoded.
//
// Plaintext only (h2c), as the benchmark runs on loopback; a bearer token
// can be sent as an `authorization` header.

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/bench/target.h"
#include "common/mutex.h"

namespace atlas::bench {

struct H2Options {
  std::string server;  // host:port
  int connections = 8;
  int64_t timeout_ms = 10'000;  // sent as grpc-timeout
  std::string token;            // "authorization: Bearer <token>" if set
};

class H2UnaryClient {
 public:
  // Connects every connection (blocking) and starts the event loop.
  static absl::StatusOr<std::unique_ptr<H2UnaryClient>> Connect(
      const H2Options& options);
  // Every call must have completed.
  ~H2UnaryClient();
  H2UnaryClient(const H2UnaryClient&) = delete;
  H2UnaryClient& operator=(const H2UnaryClient&) = delete;

  // Starts `call` on connection lane % connections; `done` runs on the
  // event-loop thread with the decoded result. Thread-safe.
  void Call(int lane, RawCall call, OpDone done);

  struct Connection;
  struct Pending;

 private:
  explicit H2UnaryClient(const H2Options& options);
  void Loop();
  // On the loop thread: submits what Call queued.
  void SubmitQueued();

  const H2Options options_;
  std::vector<std::unique_ptr<Connection>> connections_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: calls queued, or stop
  std::thread loop_;
  atlas::Mutex mu_;
  std::vector<std::unique_ptr<Pending>> queued_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace atlas::bench
