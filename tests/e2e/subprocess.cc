#include "tests/e2e/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace atlas::e2e {
namespace {

absl::Status SystemError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// The test's environment without ATLAS_* variables (the server and atlasctl
// read flags from them).
std::vector<std::string> ChildEnvironment() {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!absl::StartsWith(*entry, "ATLAS_")) env.emplace_back(*entry);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// posix_spawn file actions and attributes, released on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attributes_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attributes_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // stdin from /dev/null, stdout and stderr to the pipes' write ends; own
  // process group; default signal dispositions and an empty signal mask
  // (gRPC in the test process may ignore SIGPIPE, which exec would keep).
  int Prepare(int out_fd, int err_fd) {
    int rc = posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO,
                                              "/dev/null", O_RDONLY, 0);
    if (rc == 0) {
      rc = posix_spawn_file_actions_adddup2(&actions_, out_fd, STDOUT_FILENO);
    }
    if (rc == 0) {
      rc = posix_spawn_file_actions_adddup2(&actions_, err_fd, STDERR_FILENO);
    }
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal : {SIGPIPE, SIGTERM, SIGINT, SIGHUP}) {
      sigaddset(&defaults, signal);
    }
    if (rc == 0) rc = posix_spawnattr_setpgroup(&attributes_, 0);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attributes_, &none);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attributes_, &defaults);
    if (rc == 0) {
      rc = posix_spawnattr_setflags(&attributes_, POSIX_SPAWN_SETPGROUP |
                                                      POSIX_SPAWN_SETSIGMASK |
                                                      POSIX_SPAWN_SETSIGDEF);
    }
    return rc;
  }

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attributes() const { return &attributes_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
};

ExitCode FromWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("empty command line");
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return SystemError("pipe");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return SystemError("pipe");
  }
  std::vector<std::string> args = argv;
  std::vector<std::string> env = ChildEnvironment();
  std::vector<char*> c_args = CStrings(args);
  std::vector<char*> c_env = CStrings(env);
  SpawnSetup setup;
  pid_t pid = 0;
  int rc = setup.Prepare(out_pipe[1], err_pipe[1]);
  if (rc == 0) {
    rc = ::posix_spawn(&pid, c_args[0], setup.actions(), setup.attributes(),
                       c_args.data(), c_env.data());
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return absl::InternalError(
        absl::StrCat("cannot start ", argv[0], ": ", std::strerror(rc)));
  }
  return std::unique_ptr<Subprocess>(
      new Subprocess(pid, out_pipe[0], err_pipe[0]));
}

Subprocess::Subprocess(pid_t pid, int out_fd, int err_fd) : pid_(pid) {
  reader_ = std::thread([this, out_fd, err_fd] { ReadOutput(out_fd, err_fd); });
  reaper_ = std::thread([this] { Reap(); });
}

Subprocess::~Subprocess() {
  Kill();
  reaper_.join();
  reader_.join();
}

void Subprocess::ReadOutput(int out_fd, int err_fd) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_count = 2;
  char buffer[65536];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open_count;
        continue;
      }
      atlas::MutexLock lock(&mu_);
      (i == 0 ? out_ : err_).append(buffer, static_cast<size_t>(n));
    }
  }
  for (const pollfd& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  atlas::MutexLock lock(&mu_);
  output_closed_ = true;
}

void Subprocess::Reap() {
  // Wait without reaping first: until exit_code_ is set the pid (and the
  // process group) cannot be reused, so Signal() and Kill() never hit a
  // stranger.
  siginfo_t info;
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) !=
         0) {
    if (errno != EINTR) break;
  }
  atlas::MutexLock lock(&mu_);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code_ = FromWaitStatus(status);
}

void Subprocess::Signal(int signal) {
  atlas::MutexLock lock(&mu_);
  if (!exit_code_.has_value()) ::kill(pid_, signal);
}

void Subprocess::Kill() {
  {
    atlas::MutexLock lock(&mu_);
    if (!exit_code_.has_value()) ::kill(-pid_, SIGKILL);
  }
  Wait(absl::InfiniteDuration());
}

std::optional<ExitCode> Subprocess::Wait(absl::Duration timeout) {
  atlas::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(
      [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return exit_code_.has_value() && output_closed_;
      },
      timeout);
  if (!output_closed_) return std::nullopt;
  return exit_code_;
}

std::optional<ExitCode> Subprocess::exit_code() {
  atlas::MutexLock lock(&mu_);
  return exit_code_;
}

std::string Subprocess::Stdout() {
  atlas::MutexLock lock(&mu_);
  return out_;
}

std::string Subprocess::Stderr() {
  atlas::MutexLock lock(&mu_);
  return err_;
}

bool Subprocess::AwaitStream(
    const std::string& which,
    const std::function<bool(const std::string&)>& ready,
    absl::Duration timeout) {
  atlas::MutexLock lock(&mu_);
  const std::string& text = which == "stdout" ? out_ : err_;
  mu_.AwaitWithTimeout(
      [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return output_closed_ || ready(text);
      },
      timeout);
  return ready(text);
}

bool Subprocess::AwaitStdout(
    const std::function<bool(const std::string&)>& ready,
    absl::Duration timeout) {
  return AwaitStream("stdout", ready, timeout);
}

bool Subprocess::AwaitStderr(
    const std::function<bool(const std::string&)>& ready,
    absl::Duration timeout) {
  return AwaitStream("stderr", ready, timeout);
}

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         absl::Duration timeout) {
  ProcessResult result;
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(argv);
  if (!process.ok()) {
    result.err = std::string(process.status().message());
    return result;
  }
  result.exit_code = (*process)->Wait(timeout);
  if (!result.exit_code.has_value()) (*process)->Kill();
  result.out = (*process)->Stdout();
  result.err = (*process)->Stderr();
  return result;
}

std::string DescribeExit(const std::optional<ExitCode>& code) {
  if (!code.has_value()) return "still running (timed out)";
  if (*code > 128) return absl::StrCat("killed by signal ", *code - 128);
  return absl::StrCat("exit ", *code);
}

}  // namespace atlas::e2e
