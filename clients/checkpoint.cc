#include "clients/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "proto/document_files.h"

namespace atlas::client {
namespace {

absl::Status SystemError(const std::string& what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat("checkpoint ", path, ": ", what,
                                             ": ", std::strerror(errno)));
}

// Closes a descriptor on every path out of WriteCheckpoint.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the result (close can report write errors).
  bool Close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<std::optional<uint64_t>> ReadCheckpoint(
    const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("checkpoint ", path, ": ", error.message()));
    }
    return std::optional<uint64_t>();
  }
  absl::StatusOr<std::string> text = documents::ReadTextFile(path);
  if (!text.ok()) return text.status();
  uint64_t revision = 0;
  const absl::string_view trimmed =
      absl::StripAsciiWhitespace(absl::string_view(*text));
  if (trimmed.empty() || !absl::SimpleAtoi(trimmed, &revision) ||
      trimmed[0] == '-' || trimmed[0] == '+') {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint ", path, " does not hold a revision: \"",
                     trimmed.substr(0, 40), "\""));
  }
  return std::optional<uint64_t>(revision);
}

absl::Status WriteCheckpoint(const std::string& path, uint64_t revision) {
  const std::string temporary = path + ".tmp";
  const std::string text = absl::StrCat(revision, "\n");
  {
    FileDescriptor fd(::open(temporary.c_str(),
                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return SystemError("cannot create", temporary);
    size_t written = 0;
    while (written < text.size()) {
      const ssize_t n =
          ::write(fd.get(), text.data() + written, text.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        return SystemError("cannot write", temporary);
      }
      written += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return SystemError("cannot sync", temporary);
    if (!fd.Close()) return SystemError("cannot close", temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return SystemError("cannot rename", temporary);
  }
  // The rename itself is durable only once the directory is synced.
  std::string directory = std::filesystem::path(path).parent_path().string();
  if (directory.empty()) directory = ".";
  FileDescriptor dir(
      ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return SystemError("cannot open directory", directory);
  if (::fsync(dir.get()) != 0)
    return SystemError("cannot sync directory", directory);
  return absl::OkStatus();
}

}  // namespace atlas::client
