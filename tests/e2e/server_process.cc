#include "tests/e2e/server_process.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <regex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "atlas/v1/atlas_service.grpc.pb.h"

namespace atlas::e2e {
namespace {

// The address in atlas-server's start line, e.g.
// "atlas-server: listening on 127.0.0.1:40123, data_dir ...".
std::optional<std::string> ListeningAddress(const std::string& log) {
  static const std::regex kLine("listening on (127\\.0\\.0\\.1:[0-9]+),");
  std::smatch match;
  if (!std::regex_search(log, match, kLine)) return std::nullopt;
  return match[1].str();
}

}  // namespace

std::string ServerBinary() { return ATLAS_SERVER_BIN; }
std::string AtlasctlBinary() { return ATLASCTL_BIN; }
std::string SourceDir() { return ATLAS_SOURCE_DIR; }
std::string DatasetDir() { return SourceDir() + "/data/wto"; }

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const ServerOptions& options) {
  std::vector<std::string> argv = {
      ServerBinary(),
      "--listen",
      absl::StrCat("127.0.0.1:", options.port),
      "--data_dir",
      options.data_dir,
      "--progress_interval_ms",
      absl::StrCat(options.progress_interval_ms),
      "--shutdown_grace_ms",
      absl::StrCat(options.shutdown_grace_ms),
  };
  if (!options.seed_dir.empty()) {
    argv.insert(argv.end(), {"--seed_dir", options.seed_dir});
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(argv);
  if (!process.ok()) return process.status();
  (*process)->AwaitStderr(
      [](const std::string& log) { return ListeningAddress(log).has_value(); },
      kStartTimeout);
  const std::optional<std::string> address =
      ListeningAddress((*process)->Stderr());
  if (!address.has_value()) {
    return absl::UnavailableError(absl::StrCat(
        "atlas-server did not start (", DescribeExit((*process)->exit_code()),
        "); stderr: ", (*process)->Stderr()));
  }
  const int port = std::stoi(address->substr(address->rfind(':') + 1));
  std::unique_ptr<ServerProcess> server(
      new ServerProcess(*std::move(process), *address, port));
  return server;
}

ServerProcess::ServerProcess(std::unique_ptr<Subprocess> process,
                             std::string address, int port)
    : process_(std::move(process)), address_(std::move(address)), port_(port) {}

absl::StatusOr<uint64_t> ServerProcess::Revision() {
  atlas::v1::ListEntitiesRequest request;
  request.set_page_size(1);
  // A channel of its own, closed after the call: an idle connection that
  // the test process does not poll would answer the server's GOAWAY only
  // when gRPC's backup poller runs, holding up a graceful shutdown.
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::unique_ptr<atlas::v1::Atlas::Stub> stub =
      atlas::v1::Atlas::NewStub(grpc::CreateCustomChannel(
          address_, grpc::InsecureChannelCredentials(), arguments));
  atlas::v1::ListEntitiesResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoSeconds(kCommandTimeout));
  context.set_wait_for_ready(true);
  const grpc::Status status = stub->ListEntities(&context, request, &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("ListEntities: ", status.error_message()));
  }
  return response.revision();
}

std::optional<ExitCode> ServerProcess::Terminate(absl::Duration timeout) {
  process_->Signal(SIGTERM);
  return process_->Wait(timeout);
}

int UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);  // never listened on: connections are refused
  return port;
}

}  // namespace atlas::e2e
