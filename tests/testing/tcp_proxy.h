#pragma once

// TcpProxy: a loopback TCP proxy in front of a server, so a test can cut a
// client's connection from under it (DropConnections closes both sides of
// every proxied connection, as the kernel does for a client process that
// was killed) while the client process itself lives on. One thread, poll(2),
// at most kBuffer bytes buffered per direction: a client that stops reading
// stops the proxy reading from the server, as a direct connection would.
// Freeze() stops forwarding in both directions without closing anything, as
// a network cut does (no FIN, no RST: both ends just stop hearing back).
//
//   atlas::testing::TcpProxy proxy(server.address());
//   auto stub = v1::Atlas::NewStub(grpc::CreateChannel(proxy.address(), ...));
//   ...
//   proxy.DropConnections();  // or proxy.Freeze();

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"

namespace atlas::testing {

class TcpProxy {
 public:
  // `upstream`: "127.0.0.1:PORT".
  explicit TcpProxy(const std::string& upstream) {
    const size_t colon = upstream.rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(upstream.substr(colon + 1), &port)) {
      std::abort();
    }
    upstream_ = Loopback(port);
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in address = Loopback(0);
    socklen_t length = sizeof(address);
    if (listener_ < 0 ||
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address),
               sizeof(address)) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address),
                      &length) != 0 ||
        ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
      std::abort();
    }
    address_ = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
    thread_ = std::thread([this] { Loop(); });
  }

  ~TcpProxy() {
    {
      atlas::MutexLock lock(&mu_);
      stopping_ = true;
    }
    Wake();
    thread_.join();
    for (Link& link : links_) link.Close();
    ::close(listener_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // "127.0.0.1:PORT" to connect to instead of the server.
  const std::string& address() const { return address_; }

  // Closes both sides of every open connection (new ones are still
  // accepted) and returns how many there were.
  int DropConnections() {
    atlas::MutexLock lock(&mu_);
    ++drop_requests_;
    const uint64_t target = drop_requests_;
    Wake();
    mu_.Await([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return drops_done_ >= target;
    });
    return last_dropped_;
  }

  // Bytes forwarded from the server to its clients so far, all connections.
  uint64_t BytesFromServer() const {
    return from_server_.load(std::memory_order_relaxed);
  }

  // From now on no byte is read or written on any connection, open or
  // accepted later; the sockets stay open until the proxy is destroyed.
  // Returns once the proxy thread has stopped forwarding.
  void Freeze() {
    atlas::MutexLock lock(&mu_);
    freeze_requested_ = true;
    Wake();
    mu_.Await([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return frozen_; });
  }

 private:
  static constexpr size_t kBuffer = 64 * 1024;

  // One proxied connection; `pending[d]` is what was read from side d and
  // not yet written to the other side.
  struct Link {
    int fd[2] = {-1, -1};  // 0: the client, 1: the server
    std::string pending[2];
    bool open() const { return fd[0] >= 0; }
    void Close() {
      for (int& f : fd) {
        if (f >= 0) ::close(f);
        f = -1;
      }
    }
  };

  static sockaddr_in Loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    return address;
  }

  void Wake() {
    const char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(wake_[1], &byte, 1);
  }

  void Accept() {
    for (;;) {
      const int client = ::accept4(listener_, nullptr, nullptr,
                                   SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (client < 0) return;
      const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (server < 0 ||
          ::connect(server, reinterpret_cast<const sockaddr*>(&upstream_),
                    sizeof(upstream_)) != 0) {
        ::close(client);
        if (server >= 0) ::close(server);
        continue;
      }
      ::fcntl(server, F_SETFL, ::fcntl(server, F_GETFL) | O_NONBLOCK);
      Link link;
      link.fd[0] = client;
      link.fd[1] = server;
      links_.push_back(std::move(link));
    }
  }

  // Moves bytes for one link as poll reported; false once it broke.
  bool Transfer(Link& link, const pollfd* events) {
    char buffer[16 * 1024];
    for (int side = 0; side < 2; ++side) {
      const int other = 1 - side;
      if ((events[side].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
          link.pending[side].size() < kBuffer) {
        const ssize_t n = ::read(link.fd[side], buffer,
                                 std::min(sizeof(buffer),
                                          kBuffer - link.pending[side].size()));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          return false;
        }
        if (n > 0) link.pending[side].append(buffer, static_cast<size_t>(n));
      }
      if (!link.pending[side].empty()) {
        const ssize_t n = ::send(link.fd[other], link.pending[side].data(),
                                 link.pending[side].size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
        if (n > 0) {
          link.pending[side].erase(0, static_cast<size_t>(n));
          if (side == 1) {
            from_server_.fetch_add(static_cast<uint64_t>(n),
                                   std::memory_order_relaxed);
          }
        }
      }
    }
    return true;
  }

  void Loop() {
    bool frozen = false;
    for (;;) {
      std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
      for (const Link& link : links_) {
        if (frozen) break;
        for (int side = 0; side < 2; ++side) {
          short wanted = 0;
          if (link.pending[side].size() < kBuffer) wanted |= POLLIN;
          if (!link.pending[1 - side].empty()) wanted |= POLLOUT;
          fds.push_back({link.fd[side], wanted, 0});
        }
      }
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
      char drain[64];
      while (::read(wake_[0], drain, sizeof(drain)) > 0) {
      }
      {
        atlas::MutexLock lock(&mu_);
        if (stopping_) return;
        if (drops_done_ < drop_requests_) {
          last_dropped_ = static_cast<int>(links_.size());
          for (Link& link : links_) link.Close();
          links_.clear();
          drops_done_ = drop_requests_;
          continue;
        }
        if (freeze_requested_ && !frozen) {
          frozen = frozen_ = true;
          continue;
        }
      }
      if (frozen) {
        // Connections still complete (the kernel accepts them), then hang.
        if ((fds[1].revents & POLLIN) != 0) Accept();
        continue;
      }
      for (size_t i = 0; i < links_.size(); ++i) {
        if (!Transfer(links_[i], &fds[2 + 2 * i])) links_[i].Close();
      }
      std::vector<Link> open;
      for (Link& link : links_) {
        if (link.open()) open.push_back(std::move(link));
      }
      links_ = std::move(open);
      if ((fds[1].revents & POLLIN) != 0) Accept();
    }
  }

  sockaddr_in upstream_{};
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::string address_;
  std::vector<Link> links_;  // used by the proxy thread only
  std::thread thread_;
  std::atomic<uint64_t> from_server_{0};

  atlas::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t drop_requests_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t drops_done_ ABSL_GUARDED_BY(mu_) = 0;
  int last_dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool freeze_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool frozen_ ABSL_GUARDED_BY(mu_) = false;  // the proxy thread stopped
};

}  // namespace atlas::testing
