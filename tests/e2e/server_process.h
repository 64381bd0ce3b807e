#pragma once

// The real atlas-server binary as a child process on 127.0.0.1, and the
// real atlasctl run against it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/e2e/subprocess.h"

namespace atlas::e2e {

// Generous, for a loaded two-core machine; tests poll, so they only wait
// this long when something is wrong.
inline constexpr absl::Duration kStartTimeout = absl::Seconds(30);
inline constexpr absl::Duration kCommandTimeout = absl::Seconds(30);
inline constexpr absl::Duration kEventTimeout = absl::Seconds(30);

// Paths compiled in by tests/e2e/CMakeLists.txt.
std::string ServerBinary();
std::string AtlasctlBinary();
std::string SourceDir();
std::string DatasetDir();  // SourceDir()/data/wto

struct ServerOptions {
  std::string data_dir;
  // Empty: do not seed.
  std::string seed_dir;
  // 0 picks a free port; a restart passes the previous one.
  int port = 0;
  int64_t progress_interval_ms = 200;
  int64_t shutdown_grace_ms = 5000;
  // More flags, e.g. {"--metrics_listen", "127.0.0.1:0"}.
  std::vector<std::string> extra_args;
};

class ServerProcess {
 public:
  // Starts atlas-server and waits for its "listening on HOST:PORT" line,
  // which it prints once it serves (seeding is done by then).
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const ServerOptions& options);

  // "127.0.0.1:PORT"
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  Subprocess& process() { return *process_; }

  // The server's current revision, read through the generated stub (the
  // revision a ListEntities response reflects): the oracle for "nothing was
  // written".
  absl::StatusOr<uint64_t> Revision();

  // SIGTERM, then waits up to `timeout` for the exit; the exit code.
  std::optional<ExitCode> Terminate(absl::Duration timeout);

 private:
  ServerProcess(std::unique_ptr<Subprocess> process, std::string address,
                int port);

  std::unique_ptr<Subprocess> process_;
  std::string address_;
  int port_;
};

// A local port nothing listens on (bound, then released).
int UnusedPort();

}  // namespace atlas::e2e
