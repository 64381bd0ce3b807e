#pragma once

// Scraping a Prometheus endpoint in tests: a tiny blocking HTTP/1.0 GET over
// a loopback TCP socket, and a reader of the text exposition format.
//
//   auto text = testing::HttpGet("127.0.0.1", port, "/metrics");
//   testing::Metrics metrics(*text);
//   metrics.Value("atlas_grpc_requests_total",
//                 {{"method", "/atlas.v1.Atlas/GetEntity"}, {"code", "OK"}});

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace atlas::testing {

// The body of GET http://host:port/path; an error unless the status is 200.
inline absl::StatusOr<std::string> HttpGet(
    const std::string& host, int port, const std::string& path,
    absl::Duration timeout = absl::Seconds(30)) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("bad IPv4 host ", host));
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", host, ":", port));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host, ":", port,
                   "\r\nConnection: close\r\n\r\n");
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return absl::UnavailableError("cannot send the request");
  }
  std::string response;
  const absl::Time deadline = absl::Now() + timeout;
  char buffer[16384];
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      ::close(fd);
      return absl::DeadlineExceededError("no complete HTTP response");
    }
    pollfd poll_fd{fd, POLLIN, 0};
    const int ready =
        ::poll(&poll_fd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // the deadline check above ends it
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the server closed: the response is complete
    response.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) {
    return absl::UnavailableError(
        absl::StrCat("not an HTTP response: ", response.substr(0, 200)));
  }
  const std::string status_line = response.substr(0, response.find("\r\n"));
  if (status_line.find(" 200 ") == std::string::npos) {
    return absl::UnavailableError(
        absl::StrCat("HTTP status: ", status_line));
  }
  return response.substr(body + 4);
}

// The samples of one scrape (text exposition format 0.0.4).
class Metrics {
 public:
  using Labels = std::map<std::string, std::string>;
  struct Sample {
    std::string name;
    Labels labels;
    double value = 0;
  };

  explicit Metrics(const std::string& text) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      if (absl::StartsWith(line, "# TYPE ")) {
        std::vector<std::string> parts = absl::StrSplit(line, ' ');
        if (parts.size() >= 4) types_[parts[2]] = parts[3];
        continue;
      }
      if (line.empty() || line[0] == '#') continue;
      if (auto sample = ParseSample(line)) samples_.push_back(*sample);
    }
  }

  // "counter", "gauge", "histogram", ... as declared by # TYPE; empty if
  // the family is not there.
  std::string Type(const std::string& family) const {
    auto it = types_.find(family);
    return it == types_.end() ? "" : it->second;
  }

  // The value of the one sample named `name` whose labels include
  // `labels`; nullopt if there is none. (0 matches are nullopt; several
  // matches are summed, e.g. a counter over every code.)
  std::optional<double> Value(const std::string& name,
                              const Labels& labels = {}) const {
    std::optional<double> sum;
    for (const Sample& sample : samples_) {
      if (sample.name != name) continue;
      bool match = true;
      for (const auto& [key, value] : labels) {
        auto it = sample.labels.find(key);
        if (it == sample.labels.end() || it->second != value) match = false;
      }
      if (match) sum = sum.value_or(0) + sample.value;
    }
    return sum;
  }
  // Value(), with 0 for a sample not (yet) there.
  double ValueOr0(const std::string& name, const Labels& labels = {}) const {
    return Value(name, labels).value_or(0);
  }

  const std::vector<Sample>& samples() const { return samples_; }

 private:
  // name{key="value",...} value [timestamp]
  static std::optional<Sample> ParseSample(const std::string& line) {
    Sample sample;
    size_t pos = line.find_first_of("{ ");
    if (pos == std::string::npos) return std::nullopt;
    sample.name = line.substr(0, pos);
    if (line[pos] == '{') {
      ++pos;
      while (pos < line.size() && line[pos] != '}') {
        const size_t equals = line.find("=\"", pos);
        if (equals == std::string::npos) return std::nullopt;
        std::string key = line.substr(pos, equals - pos);
        std::string value;
        size_t i = equals + 2;
        for (; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
        }
        sample.labels[key] = value;
        pos = i + 1;
        if (pos < line.size() && line[pos] == ',') ++pos;
      }
      ++pos;  // '}'
    }
    absl::string_view rest = absl::StripLeadingAsciiWhitespace(
        absl::string_view(line).substr(std::min(pos, line.size())));
    std::vector<absl::string_view> fields =
        absl::StrSplit(rest, ' ', absl::SkipEmpty());
    if (fields.empty()) return std::nullopt;
    if (fields[0] == "+Inf") {
      sample.value = HUGE_VAL;
    } else if (!absl::SimpleAtod(fields[0], &sample.value)) {
      return std::nullopt;
    }
    return sample;
  }

  std::map<std::string, std::string> types_;
  std::vector<Sample> samples_;
};

}  // namespace atlas::testing
