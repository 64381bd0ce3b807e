#pragma once

// Target: the store under test, driven asynchronously. AtlasTarget speaks
// atlas.v1.Atlas, EtcdTarget etcd's v3 API; the workloads see only this
// interface, so both run exactly the same load.
//
// Keys live in "spaces", one letter per workload ('w' write, 'r' read,
// 'a' apply, 'f' fan-out, 'c' catch-up, 'i' idle), so workloads run one
// after the other against one server do not see each other's data. A key
// may also belong to one of the fan-out topics (Atlas: entity topic
// "bench-t<N>"; etcd: key prefix "/bench/<space>/t<N>/").

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "clients/bench/channel_security.h"
#include "grpcpp/support/status.h"

namespace atlas::bench {

struct WriteOp {
  char space = 'w';
  uint64_t key = 0;
  int topic = -1;  // none
  std::string payload;
};

struct OpResult {
  grpc::Status status;
  // The store revision the call reported (write: the write's revision).
  uint64_t revision = 0;
};
// Runs on a completion-queue thread.
using OpDone = std::function<void(const OpResult&)>;

struct WatchSpec {
  char space = 'f';
  int topic = -1;               // -1: every key of the space
  uint64_t start_revision = 0;  // 0: from now on
};

// A unary call as bytes, for a client that speaks HTTP/2 itself
// (H2Client): the method, the serialized request, and how to read the
// serialized response (the same checks the target's gRPC path makes).
struct RawCall {
  std::string path;  // e.g. "/atlas.v1.Atlas/UpdateEntity"
  std::string request;
  OpResult (*decode)(absl::string_view response) = nullptr;
};

// A streaming call as bytes (H2Client): the request messages it opens with,
// and what each response message means.
struct RawStream {
  std::string path;
  std::vector<std::string> requests;
  // Server streaming: the request side ends after `requests`.
  bool half_close = false;
  // Each response message, in order; an error ends the stream with it.
  std::function<grpc::Status(absl::string_view message)> on_message;
};

// Called on completion-queue threads; on_ready once per watch, then on_done
// once for the stream (possibly without every on_ready, if a watch failed to
// start).
struct WatchCallbacks {
  // The server acknowledged a watch (Atlas: its first message; etcd:
  // created).
  std::function<void()> on_ready;
  // One delivered event: its revision and the `t` of its payload.
  std::function<void(uint64_t revision, int64_t written_ns)> on_event;
  std::function<void(const grpc::Status&)> on_done;
};

class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // Ends the stream; on_done follows. Destroy only after on_done.
  virtual void Cancel() = 0;
};

struct TargetOptions {
  std::string server;
  int channels = 8;         // for unary calls
  int watch_channels = 32;  // for watch streams
  int64_t timeout_ms = 10'000;
  bool serializable_reads = true;  // etcd Range
  // Atlas ApplyEntities: results without the entities' content
  // (APPLY_VIEW_BASIC), as a bulk loader would ask.
  bool apply_basic_view = false;
  // Atlas UpdateEntity (write): the response without the entity's content
  // (WRITE_VIEW_BASIC); like etcd's Put, it answers with the revision.
  bool write_basic_view = false;
  // TLS and token for Atlas (etcd is driven in plaintext).
  ChannelSecurity security;
};

class Target {
 public:
  virtual ~Target() = default;
  virtual const char* name() const = 0;
  // Creates what the workloads need before they start (Atlas: the basket and
  // the fan-out topics bench-t0..bench-t<topics-1>). Blocking.
  virtual absl::Status Setup(int topics) = 0;
  // `lane` picks the channel and completion queue.
  virtual void Write(int lane, const WriteOp& op, OpDone done) = 0;
  virtual void Read(int lane, char space, uint64_t key, OpDone done) = 0;
  // The calls Write and Read make, as bytes.
  virtual RawCall WriteCall(const WriteOp& op) const = 0;
  virtual RawCall ReadCall(char space, uint64_t key) const = 0;
  // Atomic multi-key write (Atlas ApplyEntities); etcd has none here.
  virtual bool SupportsApply() const = 0;
  virtual void Apply(int lane, const std::vector<WriteOp>& ops,
                     OpDone done) = 0;
  // One stream carrying one watch per spec (at least one). Atlas: a Watch
  // call for one, a WatchMany call for several; etcd: one create request
  // each on its Watch stream.
  virtual std::unique_ptr<WatchStream> Watch(
      int lane, const std::vector<WatchSpec>& specs,
      WatchCallbacks callbacks) = 0;
  // The stream Watch opens, as bytes; its messages drive on_ready and
  // on_event (the caller reports the end to on_done).
  virtual RawStream WatchCall(const std::vector<WatchSpec>& specs,
                              const WatchCallbacks& callbacks) const = 0;
};

}  // namespace atlas::bench
