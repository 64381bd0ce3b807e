#include "clients/command_context.h"

#include <chrono>
#include <ostream>
#include <thread>
#include <utility>

#include "clients/rpc_error.h"

namespace atlas::client {

CommandContext::CommandContext(ConnectionOptions connection,
                               OutputFormat format, Io io,
                               std::shared_ptr<grpc::Channel> channel)
    : connection_(std::move(connection)),
      format_(format),
      io_(std::move(io)),
      channel_(std::move(channel)),
      stub_(atlas::v1::Atlas::NewStub(channel_)),
      admin_stub_(atlas::v1::Admin::NewStub(channel_)) {}

void CommandContext::Prepare(grpc::ClientContext* context,
                             bool with_deadline) const {
  PrepareContext(connection_, with_deadline, context);
}

absl::Status CommandContext::Fail(const grpc::Status& status) const {
  const bool connected =
      channel_->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY;
  return RpcError(status, connection_.server, connected);
}

absl::Status CommandContext::Print(const std::string& text) {
  *io_.out << text;
  io_.out->flush();
  if (!*io_.out) return absl::UnavailableError("cannot write output");
  return absl::OkStatus();
}

void CommandContext::Sleep(Backoff::Delay delay) {
  if (io_.sleep) {
    io_.sleep(delay);
    return;
  }
  const auto deadline = std::chrono::system_clock::now() + delay;
  grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
  channel_->WaitForConnected(deadline);
  std::this_thread::sleep_until(deadline);
}

}  // namespace atlas::client
