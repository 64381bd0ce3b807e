#pragma once

// A small tmpfs mounted for a test, that the test can fill to the last byte
// and free again. Mounting needs root (CAP_SYS_ADMIN); when it fails,
// mounted() is false and skip_reason() says why.

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace atlas::testing {

class DiskFullVolume {
 public:
  // `size` as mount(8) takes it, e.g. "16m".
  DiskFullVolume(const std::string& path, const std::string& size)
      : path_(path) {
    std::error_code ignored;
    std::filesystem::create_directories(path_, ignored);
    const std::string data = "size=" + size + ",mode=0755";
    if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                data.c_str()) != 0) {
      skip_reason_ = "cannot mount a tmpfs at " + path_ + ": " +
                     std::strerror(errno) + " (the test needs root)";
      return;
    }
    mounted_ = true;
  }
  ~DiskFullVolume() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  DiskFullVolume(const DiskFullVolume&) = delete;
  DiskFullVolume& operator=(const DiskFullVolume&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& skip_reason() const { return skip_reason_; }
  const std::string& path() const { return path_; }

  // Writes a filler file until the volume has no byte left.
  void Fill() {
    const int fd = ::open(filler().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;
    const std::string chunk(64 << 10, 'f');
    for (size_t size = chunk.size(); size > 0; size /= 2) {
      while (::write(fd, chunk.data(), size) == static_cast<ssize_t>(size)) {
      }
    }
    ::close(fd);
  }
  // Removes the filler file.
  void Free() { ::unlink(filler().c_str()); }

 private:
  std::string filler() const { return path_ + "/filler"; }

  std::string path_;
  bool mounted_ = false;
  std::string skip_reason_;
};

}  // namespace atlas::testing
