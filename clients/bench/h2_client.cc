#include "clients/bench/h2_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace atlas::bench {

// One call or stream, from Call/Stream until it ends.
struct H2Client::Pending {
  int lane = 0;
  std::string path;
  std::string body;  // the request messages, each framed: flags, length
  size_t sent = 0;
  bool end_after_body = true;  // false: the request side stays open
  // A unary call: the whole response, decoded when the stream closes.
  OpResult (*decode)(absl::string_view response) = nullptr;
  OpDone done;
  // A stream: each response message as it completes, then the end.
  std::function<grpc::Status(absl::string_view message)> on_message;
  std::function<void(const grpc::Status&)> on_end;
  uint64_t stream_key = 0;
  grpc::Status failed;  // on_message's error, which ended the stream
  bool cancelled = false;
  std::string response;  // received bytes not yet consumed
  int http_status = 0;
  int grpc_status = -1;  // none seen
  std::string grpc_message;

  bool is_stream() const { return on_end != nullptr; }
};

struct H2Client::Connection {
  ~Connection() {
    if (session != nullptr) nghttp2_session_del(session);
    if (fd >= 0) close(fd);
  }

  int fd = -1;
  nghttp2_session* session = nullptr;
  // Frames serialized but not yet sent: everything nghttp2 has to send goes
  // out in one system call a loop turn, as h2load does.
  std::string out;
  size_t out_sent = 0;
  bool polling_out = false;  // EPOLLOUT is on
  std::string broken;        // why the connection is unusable, if it is
  absl::flat_hash_map<int32_t, std::unique_ptr<Pending>> open;
  absl::flat_hash_map<uint64_t, int32_t> stream_ids;  // open streams by key
};

namespace {

using Connection = H2Client::Connection;
using Pending = H2Client::Pending;

constexpr size_t kFrameHeader = 5;  // gRPC message: 1 byte flags, 4 length

grpc::Status Unavailable(absl::string_view why) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(why));
}

grpc::Status Internal(absl::string_view why) {
  return grpc::Status(grpc::StatusCode::INTERNAL, std::string(why));
}

// The gRPC message at the start of `bytes`: its length, or 0 while
// incomplete; an error if it is compressed.
absl::StatusOr<size_t> NextMessage(absl::string_view bytes) {
  if (bytes.size() < kFrameHeader) return 0;
  if (bytes[0] != 0) return absl::InternalError("compressed response message");
  const size_t length = static_cast<uint32_t>(
      static_cast<uint8_t>(bytes[1]) << 24 |
      static_cast<uint8_t>(bytes[2]) << 16 |
      static_cast<uint8_t>(bytes[3]) << 8 | static_cast<uint8_t>(bytes[4]));
  return bytes.size() < kFrameHeader + length ? 0 : kFrameHeader + length;
}

// How the call ended, from its trailers or its reset.
grpc::Status EndStatus(const Pending& p, uint32_t error_code) {
  if (!p.failed.ok()) return p.failed;
  if (p.grpc_status >= 0) {
    return grpc::Status(static_cast<grpc::StatusCode>(p.grpc_status),
                        p.grpc_message);
  }
  if (p.cancelled) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }
  if (error_code != NGHTTP2_NO_ERROR) {
    return Unavailable(
        absl::StrCat("stream reset: ", nghttp2_http2_strerror(error_code)));
  }
  return Internal(
      absl::StrCat("no grpc-status (HTTP status ", p.http_status, ")"));
}

// A unary call's result: its status, and its one response message decoded.
OpResult Decode(const Pending& p, uint32_t error_code) {
  const grpc::Status status = EndStatus(p, error_code);
  if (!status.ok()) return {status, 0};
  const absl::StatusOr<size_t> length = NextMessage(p.response);
  if (!length.ok() || *length == 0 || *length != p.response.size()) {
    return {Internal(absl::StrCat("response framing: ", p.response.size(),
                                  " bytes do not hold one message")),
            0};
  }
  return p.decode(absl::string_view(p.response).substr(kFrameHeader));
}

// Ends the call or stream: its callback runs after it is freed.
void Finish(std::unique_ptr<Pending> p, uint32_t error_code) {
  if (p->is_stream()) {
    const grpc::Status status = EndStatus(*p, error_code);
    auto on_end = std::move(p->on_end);
    p.reset();
    on_end(status);
  } else {
    const OpResult result = Decode(*p, error_code);
    OpDone done = std::move(p->done);
    p.reset();
    done(result);
  }
}

void Fail(std::unique_ptr<Pending> p, const grpc::Status& status) {
  p->failed = status;
  Finish(std::move(p), NGHTTP2_NO_ERROR);
}

Pending* Find(Connection& c, int32_t stream_id) {
  auto it = c.open.find(stream_id);
  return it == c.open.end() ? nullptr : it->second.get();
}

// nghttp2 callbacks; user_data is the Connection.

ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                 uint32_t* flags, nghttp2_data_source* source, void*) {
  auto& p = *static_cast<Pending*>(source->ptr);
  const size_t n = std::min(length, p.body.size() - p.sent);
  if (n == 0 && !p.end_after_body) return NGHTTP2_ERR_DEFERRED;
  std::memcpy(buf, p.body.data() + p.sent, n);
  p.sent += n;
  if (p.sent == p.body.size() && p.end_after_body) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  }
  return static_cast<ssize_t>(n);
}

int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
             size_t name_length, const uint8_t* value, size_t value_length,
             uint8_t, void* user_data) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  Pending* p = Find(*static_cast<Connection*>(user_data), frame->hd.stream_id);
  if (p == nullptr) return 0;
  const absl::string_view n(reinterpret_cast<const char*>(name), name_length);
  const absl::string_view v(reinterpret_cast<const char*>(value), value_length);
  if (n == ":status") {
    if (!absl::SimpleAtoi(v, &p->http_status)) p->http_status = -1;
  } else if (n == "grpc-status") {
    if (!absl::SimpleAtoi(v, &p->grpc_status) || p->grpc_status < 0 ||
        p->grpc_status > 16) {
      p->grpc_status = static_cast<int>(grpc::StatusCode::UNKNOWN);
      p->grpc_message = absl::StrCat("grpc-status \"", v, "\"");
    }
  } else if (n == "grpc-message" && p->grpc_message.empty()) {
    p->grpc_message = std::string(v);  // still percent-encoded
  }
  return 0;
}

int OnData(nghttp2_session* session, uint8_t, int32_t stream_id,
           const uint8_t* data, size_t length, void* user_data) {
  Pending* p = Find(*static_cast<Connection*>(user_data), stream_id);
  if (p == nullptr) return 0;
  p->response.append(reinterpret_cast<const char*>(data), length);
  if (!p->is_stream() || !p->failed.ok()) return 0;
  // A stream hands on each message as soon as it is whole.
  size_t used = 0;
  for (;;) {
    const absl::string_view rest = absl::string_view(p->response).substr(used);
    absl::StatusOr<size_t> message = NextMessage(rest);
    grpc::Status status;
    if (!message.ok()) {
      status = Internal(message.status().message());
    } else if (*message == 0) {
      break;
    } else {
      status =
          p->on_message(rest.substr(kFrameHeader, *message - kFrameHeader));
      used += *message;
    }
    if (!status.ok()) {
      p->failed = status;
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id,
                                NGHTTP2_CANCEL);
      break;
    }
  }
  p->response.erase(0, used);
  return 0;
}

int OnClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
            void* user_data) {
  auto& c = *static_cast<Connection*>(user_data);
  auto node = c.open.extract(stream_id);
  if (node.empty()) return 0;
  if (node.mapped()->is_stream()) c.stream_ids.erase(node.mapped()->stream_key);
  Finish(std::move(node.mapped()), error_code);
  return 0;
}

nghttp2_session_callbacks* Callbacks() {
  static nghttp2_session_callbacks* callbacks = [] {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, OnData);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, OnClose);
    return cb;
  }();
  return callbacks;
}

// A TCP connection to host:port ("[::1]:50051" too), non-blocking, Nagle
// off.
absl::StatusOr<int> Dial(const std::string& server) {
  const size_t colon = server.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--server \"", server, "\": expected host:port"));
  }
  std::string host = server.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc =
      getaddrinfo(host.c_str(), server.c_str() + colon + 1, &hints, &found);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("resolving ", server, ": ", gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd =
        socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      freeaddrinfo(found);
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      const int flags = fcntl(fd, F_GETFL, 0);
      fcntl(fd, F_SETFL, flags | O_NONBLOCK);
      return fd;
    }
    last_error = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  return absl::UnavailableError(
      absl::StrCat("connecting to ", server, ": ", last_error));
}

std::string Framed(const std::string& message) {
  std::string body;
  body.reserve(kFrameHeader + message.size());
  body.append(kFrameHeader, '\0');
  const auto length = static_cast<uint32_t>(message.size());
  body[1] = static_cast<char>(length >> 24);
  body[2] = static_cast<char>(length >> 16);
  body[3] = static_cast<char>(length >> 8);
  body[4] = static_cast<char>(length);
  body += message;
  return body;
}

// Sends what nghttp2 has to send, all of it in one system call unless the
// socket is full; returns why the connection broke, if it did.
std::string Flush(Connection& c) {
  constexpr size_t kBatch = 256 * 1024;
  for (;;) {
    while (c.out.size() - c.out_sent < kBatch) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(c.session, &data);
      if (n < 0) {
        return absl::StrCat("HTTP/2: ", nghttp2_strerror(static_cast<int>(n)));
      }
      if (n == 0) break;
      c.out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (c.out_sent == c.out.size()) return "";
    const ssize_t sent = send(c.fd, c.out.data() + c.out_sent,
                              c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return "";  // EPOLLOUT
      if (errno == EINTR) continue;
      return absl::StrCat("send: ", std::strerror(errno));
    }
    c.out_sent += static_cast<size_t>(sent);
    if (c.out_sent == c.out.size()) {
      c.out.clear();
      c.out_sent = 0;
    }
  }
}

nghttp2_nv Header(absl::string_view name, absl::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
          name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

absl::StatusOr<std::unique_ptr<H2Client>> H2Client::Connect(
    const H2Options& options) {
  std::unique_ptr<H2Client> client(new H2Client(options));
  client->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  client->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (client->epoll_fd_ < 0 || client->wake_fd_ < 0) {
    return absl::InternalError(
        absl::StrCat("epoll/eventfd: ", std::strerror(errno)));
  }
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.ptr = nullptr;
  epoll_ctl(client->epoll_fd_, EPOLL_CTL_ADD, client->wake_fd_, &wake);
  for (int i = 0; i < std::max(1, options.connections); ++i) {
    auto c = std::make_unique<Connection>();
    absl::StatusOr<int> fd = Dial(options.server);
    if (!fd.ok()) return fd.status();
    c->fd = *fd;
    if (nghttp2_session_client_new(&c->session, Callbacks(), c.get()) != 0) {
      return absl::InternalError("nghttp2_session_client_new failed");
    }
    // Room for many responses in flight: 1 MiB a stream, 16 MiB in all.
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0,
                                          1 << 24);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = c.get();
    epoll_ctl(client->epoll_fd_, EPOLL_CTL_ADD, c->fd, &event);
    client->connections_.push_back(std::move(c));
  }
  client->loop_ = std::thread([raw = client.get()] { raw->Loop(); });
  return client;
}

H2Client::H2Client(const H2Options& options)
    : options_(options),
      timeout_(absl::StrCat(options.timeout_ms, "m")),
      authorization_(absl::StrCat("Bearer ", options.token)) {}

H2Client::~H2Client() {
  if (loop_.joinable()) {
    {
      atlas::MutexLock lock(&mu_);
      stopping_ = true;
    }
    Wake();
    loop_.join();
  }
  connections_.clear();
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void H2Client::Call(int lane, RawCall call, OpDone done) {
  auto p = std::make_unique<Pending>();
  p->lane = lane;
  p->path = std::move(call.path);
  p->body = Framed(call.request);
  p->decode = call.decode;
  p->done = std::move(done);
  Enqueue(std::move(p));
}

namespace {

// Ends a stream from any thread, through the loop.
class H2Stream final : public WatchStream {
 public:
  explicit H2Stream(std::function<void()> cancel)
      : cancel_(std::move(cancel)) {}
  void Cancel() override { cancel_(); }

 private:
  std::function<void()> cancel_;
};

}  // namespace

std::unique_ptr<WatchStream> H2Client::Stream(
    int lane, RawStream stream, std::function<void(const grpc::Status&)> done) {
  auto p = std::make_unique<Pending>();
  p->lane = lane;
  p->path = std::move(stream.path);
  for (const std::string& request : stream.requests) p->body += Framed(request);
  p->end_after_body = stream.half_close;
  p->on_message = std::move(stream.on_message);
  p->on_end = std::move(done);
  {
    atlas::MutexLock lock(&mu_);
    p->stream_key = next_stream_key_++;
  }
  const uint64_t key = p->stream_key;
  Enqueue(std::move(p));
  return std::make_unique<H2Stream>([this, lane, key] { Cancel(lane, key); });
}

void H2Client::Enqueue(std::unique_ptr<Pending> pending) {
  bool wake;
  {
    atlas::MutexLock lock(&mu_);
    // The loop submits what its own callbacks queue before it next waits.
    wake = queued_.empty() && cancels_.empty() &&
           std::this_thread::get_id() != loop_.get_id();
    queued_.push_back(std::move(pending));
  }
  if (wake) Wake();
}

void H2Client::Cancel(int lane, uint64_t stream_key) {
  {
    atlas::MutexLock lock(&mu_);
    cancels_.emplace_back(lane, stream_key);
  }
  Wake();
}

H2Client::Connection& H2Client::ConnectionFor(int lane) {
  return *connections_[static_cast<size_t>(lane) % connections_.size()];
}

void H2Client::Wake() {
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void H2Client::SubmitQueued() {
  std::vector<std::unique_ptr<Pending>> calls;
  std::vector<std::pair<int, uint64_t>> cancels;
  {
    atlas::MutexLock lock(&mu_);
    calls.swap(queued_);
    cancels.swap(cancels_);
  }
  for (std::unique_ptr<Pending>& p : calls) {
    Connection& c = ConnectionFor(p->lane);
    if (!c.broken.empty()) {
      Fail(std::move(p), Unavailable(c.broken));
      continue;
    }
    std::vector<nghttp2_nv> headers = {
        Header(":method", "POST"),
        Header(":scheme", "http"),
        Header(":authority", options_.server),
        Header(":path", p->path),
        Header("content-type", "application/grpc"),
        Header("te", "trailers"),
    };
    if (!p->is_stream()) headers.push_back(Header("grpc-timeout", timeout_));
    if (!options_.token.empty()) {
      headers.push_back(Header("authorization", authorization_));
    }
    nghttp2_data_provider body{};
    body.source.ptr = p.get();
    body.read_callback = ReadBody;
    const int32_t id = nghttp2_submit_request(
        c.session, nullptr, headers.data(), headers.size(), &body, p.get());
    if (id < 0) {
      Fail(std::move(p), Unavailable(absl::StrCat("cannot start a stream: ",
                                                  nghttp2_strerror(id))));
      continue;
    }
    if (p->is_stream()) c.stream_ids.emplace(p->stream_key, id);
    c.open.emplace(id, std::move(p));
  }
  for (const auto& [lane, key] : cancels) {
    Connection& c = ConnectionFor(lane);
    auto it = c.stream_ids.find(key);
    if (it == c.stream_ids.end()) continue;  // already ended
    if (Pending* p = Find(c, it->second)) p->cancelled = true;
    nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, it->second,
                              NGHTTP2_CANCEL);
  }
}

void H2Client::Loop() {
  // Fails what is open on the connection; later calls on it fail at once.
  auto mark_broken = [&](Connection& c, std::string why) {
    if (c.broken.empty()) c.broken = std::move(why);
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    absl::flat_hash_map<int32_t, std::unique_ptr<Pending>> open;
    open.swap(c.open);
    c.stream_ids.clear();
    for (auto& [id, p] : open) Fail(std::move(p), Unavailable(c.broken));
  };
  std::vector<epoll_event> events(connections_.size() + 1);
  char buffer[64 * 1024];
  for (;;) {
    const int n = epoll_wait(epoll_fd_, events.data(),
                             static_cast<int>(events.size()), -1);
    if (n < 0 && errno != EINTR) return;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof(count));
        atlas::MutexLock lock(&mu_);
        if (stopping_) return;
        continue;  // what was queued is submitted below
      }
      Connection& c = *static_cast<Connection*>(events[i].data.ptr);
      if (!c.broken.empty()) continue;
      for (;;) {
        const ssize_t got = read(c.fd, buffer, sizeof(buffer));
        if (got > 0) {
          const ssize_t used = nghttp2_session_mem_recv(
              c.session, reinterpret_cast<const uint8_t*>(buffer),
              static_cast<size_t>(got));
          if (used < 0) {
            mark_broken(c,
                        absl::StrCat("HTTP/2: ",
                                     nghttp2_strerror(static_cast<int>(used))));
            break;
          }
          continue;
        }
        if (got == 0) {
          mark_broken(c, "the server closed the connection");
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          mark_broken(c, absl::StrCat("read: ", std::strerror(errno)));
        }
        break;
      }
    }
    SubmitQueued();
    for (auto& c : connections_) {
      if (!c->broken.empty()) continue;
      std::string why = Flush(*c);
      if (!why.empty()) {
        mark_broken(*c, std::move(why));
        continue;
      }
      if (!nghttp2_session_want_read(c->session) &&
          !nghttp2_session_want_write(c->session)) {
        mark_broken(*c, "the HTTP/2 session ended (GOAWAY)");
        continue;
      }
      const bool want_out = c->out_sent < c->out.size();
      if (want_out != c->polling_out) {
        epoll_event event{};
        event.events = want_out ? EPOLLIN | EPOLLOUT : EPOLLIN;
        event.data.ptr = c.get();
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &event);
        c->polling_out = want_out;
      }
    }
  }
}

}  // namespace atlas::bench
