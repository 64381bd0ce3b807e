#pragma once

// CallGate: the one place that decides whether a call may run at all
// (authentication, the caller's role, per-caller limits). Every handler of
// every Atlas service asks it first, naming the access the call needs;
// health checking and reflection stay open so probes need no credentials.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atlas::services {

// What a call needs, in increasing order: readers read and watch, writers
// also write, admins also run administrative operations (backup, retention).
enum class Access { kRead, kWrite, kAdmin };

// The slot a running stream holds against the stream limits; destroying the
// ticket (or Release()) frees it. Move-only.
class StreamTicket {
 public:
  StreamTicket() = default;
  explicit StreamTicket(std::function<void()> release)
      : release_(std::move(release)) {}
  StreamTicket(StreamTicket&& other) noexcept
      : release_(std::exchange(other.release_, nullptr)) {}
  StreamTicket& operator=(StreamTicket&& other) noexcept {
    if (this != &other) {
      Release();
      release_ = std::exchange(other.release_, nullptr);
    }
    return *this;
  }
  StreamTicket(const StreamTicket&) = delete;
  StreamTicket& operator=(const StreamTicket&) = delete;
  ~StreamTicket() { Release(); }

  void Release() {
    if (release_) std::exchange(release_, nullptr)();
  }

 private:
  std::function<void()> release_;
};

class CallGate {
 public:
  virtual ~CallGate() = default;
  // OK when the caller behind `context` may make a call needing `access`.
  // Otherwise UNAUTHENTICATED (no or unknown credentials), PERMISSION_DENIED
  // (role too low) or RESOURCE_EXHAUSTED (a limit, named in the message).
  virtual absl::Status Admit(grpc::CallbackServerContext& context,
                             Access access) = 0;
  // For a call that opens a stream (Watch): Admit, plus the open-stream
  // limits. The stream holds the ticket until it is done.
  virtual absl::StatusOr<StreamTicket> AdmitStream(
      grpc::CallbackServerContext& context, Access access) {
    absl::Status status = Admit(context, access);
    if (!status.ok()) return status;
    return StreamTicket();
  }
};

// Admits every call: the gate when no access control is configured.
class OpenGate final : public CallGate {
 public:
  absl::Status Admit(grpc::CallbackServerContext&, Access) override {
    return absl::OkStatus();
  }
};

}  // namespace atlas::services
