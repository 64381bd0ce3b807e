#pragma once

// What every atlasctl verb works with: the stub, connection options, output
// format and the streams to print to. Tests build one around an in-process
// channel and string streams.

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "atlas/v1/admin_service.grpc.pb.h"
#include "atlas/v1/atlas_service.grpc.pb.h"
#include "clients/backoff.h"
#include "clients/connection.h"
#include "clients/output_format.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace atlas::client {

// The process' standard streams, or test doubles.
struct Io {
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // Progress lines go to `err` only when it is a terminal.
  bool err_is_terminal = false;
  // How watch waits before reconnecting; tests make it instant.
  std::function<void(Backoff::Delay)> sleep;
};

class CommandContext {
 public:
  CommandContext(ConnectionOptions connection, OutputFormat format, Io io,
                 std::shared_ptr<grpc::Channel> channel);

  atlas::v1::Atlas::StubInterface& stub() { return *stub_; }
  atlas::v1::Admin::StubInterface& admin_stub() { return *admin_stub_; }
  const ConnectionOptions& connection() const { return connection_; }
  OutputFormat format() const { return format_; }
  std::istream& in() { return *io_.in; }
  std::ostream& err() { return *io_.err; }
  bool err_is_terminal() const { return io_.err_is_terminal; }

  // Token and, for unary calls, the deadline.
  void Prepare(grpc::ClientContext* context, bool with_deadline) const;

  // A failed call as atlasctl reports it (see RpcError).
  absl::Status Fail(const grpc::Status& status) const;

  // Writes and flushes `text` to the output; UNAVAILABLE if the output is
  // gone (e.g. a closed pipe).
  absl::Status Print(const std::string& text);

  // Waits `delay` before a reconnect attempt (Io::sleep if set). Meanwhile
  // the channel retries connecting, and the wait drives those attempts: a
  // synchronous client that merely sleeps does no I/O, so its channel would
  // go on failing calls with the old error until gRPC's 5 s backup poller
  // noticed that the server is back.
  void Sleep(Backoff::Delay delay);

 private:
  ConnectionOptions connection_;
  OutputFormat format_;
  Io io_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<atlas::v1::Atlas::StubInterface> stub_;
  std::unique_ptr<atlas::v1::Admin::StubInterface> admin_stub_;
};

}  // namespace atlas::client
