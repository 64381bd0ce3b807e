#pragma once

// A child process for end-to-end tests: started with posix_spawn in its own
// process group, stdin from /dev/null, stdout and stderr captured through
// pipes by a background thread. The destructor kills the group (SIGKILL)
// if the process is still running, so no test leaves a process behind.

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace atlas::e2e {

// How a process ended: its exit code, or 128 + the signal that killed it
// (as a shell reports it).
using ExitCode = int;

// The outcome of a process run to completion (see RunProcess).
struct ProcessResult {
  // Empty if the process did not finish in time (it was then killed).
  std::optional<ExitCode> exit_code;
  std::string out;
  std::string err;
};

class Subprocess {
 public:
  // Starts argv[0] (a path) with argv. Environment variables ATLAS_* of the
  // test process are not passed on, so the child sees only its flags.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const std::vector<std::string>& argv);

  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // Sends `signal` to the process (not its group). No-op once it has exited.
  void Signal(int signal);
  // Kills the whole process group and waits for the process.
  void Kill();

  // Waits up to `timeout` for the process to exit and for its output to be
  // read completely; the exit code, or nullopt if it is still running.
  std::optional<ExitCode> Wait(absl::Duration timeout);
  // The exit code if the process has exited.
  std::optional<ExitCode> exit_code();

  // Output read so far.
  std::string Stdout();
  std::string Stderr();

  // Waits up to `timeout` until `ready(output so far)` holds; false on
  // timeout or if the stream ended (process exited) without it holding.
  bool AwaitStdout(const std::function<bool(const std::string&)>& ready,
                   absl::Duration timeout);
  bool AwaitStderr(const std::function<bool(const std::string&)>& ready,
                   absl::Duration timeout);

 private:
  Subprocess(pid_t pid, int out_fd, int err_fd);
  void ReadOutput(int out_fd, int err_fd);
  void Reap();
  bool AwaitStream(const std::string& which,
                   const std::function<bool(const std::string&)>& ready,
                   absl::Duration timeout);

  const pid_t pid_;
  atlas::Mutex mu_;
  std::string out_ ABSL_GUARDED_BY(mu_);
  std::string err_ ABSL_GUARDED_BY(mu_);
  bool output_closed_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<ExitCode> exit_code_ ABSL_GUARDED_BY(mu_);
  std::thread reader_;
  std::thread reaper_;
};

// Runs argv to completion, killing it after `timeout`.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         absl::Duration timeout);

// "exit 3", "killed by signal 9", "still running" for failure messages.
std::string DescribeExit(const std::optional<ExitCode>& code);

}  // namespace atlas::e2e
