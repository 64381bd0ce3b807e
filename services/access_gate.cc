#include "services/access_gate.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/log.h"

namespace atlas::services {
namespace {

// Buckets kept before full (idle) ones are dropped.
constexpr size_t kBucketSweepThreshold = 4096;

// "ipv4:10.0.0.7:43210" -> "10.0.0.7", "ipv6:[::1]:43210" -> "[::1]"; other
// peers (unix sockets) as they are.
std::string PeerHost(const std::string& peer) {
  absl::string_view host = peer;
  if (absl::ConsumePrefix(&host, "ipv4:") ||
      absl::ConsumePrefix(&host, "ipv6:")) {
    const size_t colon = host.rfind(':');
    if (colon != absl::string_view::npos) host = host.substr(0, colon);
    return std::string(host);
  }
  return peer;
}

absl::StatusOr<absl::string_view> BearerToken(
    const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto [begin, end] = metadata.equal_range("authorization");
  if (begin == end) {
    return absl::UnauthenticatedError(
        "no credentials: send the metadata \"authorization: Bearer TOKEN\"");
  }
  if (std::next(begin) != end) {
    return absl::UnauthenticatedError(
        "more than one authorization metadata entry");
  }
  absl::string_view value(begin->second.data(), begin->second.size());
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError(
        "the authorization metadata is not \"Bearer TOKEN\"");
  }
  return absl::StripAsciiWhitespace(value.substr(kScheme.size()));
}

std::string FormatLimit(double value) { return absl::StrFormat("%g", value); }

}  // namespace

absl::StatusOr<std::unique_ptr<AccessGate>> AccessGate::Create(
    AccessOptions options) {
  std::unique_ptr<AccessGate> gate(new AccessGate(std::move(options)));
  if (gate->authenticating()) {
    absl::Status loaded = gate->Reload(/*only_if_changed=*/false);
    if (!loaded.ok()) return loaded;
    gate->watcher_ = std::thread([g = gate.get()] { g->WatchFile(); });
  }
  return gate;
}

AccessGate::AccessGate(AccessOptions options)
    : options_(std::move(options)),
      burst_(options_.request_burst > 0
                 ? options_.request_burst
                 : std::max(1.0, options_.max_requests_per_second)) {}

AccessGate::~AccessGate() {
  {
    atlas::MutexLock lock(&table_mu_);
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
}

absl::Status AccessGate::ReloadTokens() {
  if (!authenticating()) return absl::OkStatus();
  return Reload(/*only_if_changed=*/false);
}

absl::Status AccessGate::Reload(bool only_if_changed) {
  atlas::MutexLock reload_lock(&reload_mu_);
  FileSignature signature;
  struct stat info {};
  if (::stat(options_.tokens_file.c_str(), &info) == 0) {
    signature.mtime_ns =
        static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
        info.st_mtim.tv_nsec;
    signature.size = static_cast<int64_t>(info.st_size);
    signature.inode = static_cast<uint64_t>(info.st_ino);
  }
  {
    atlas::MutexLock lock(&table_mu_);
    if (only_if_changed && signature == signature_) return absl::OkStatus();
    // Remembered even if the load fails, so a broken file is reported once.
    signature_ = signature;
  }
  absl::StatusOr<TokenTable> table = TokenTable::Load(options_.tokens_file);
  bool first;
  {
    atlas::MutexLock lock(&table_mu_);
    first = table_ == nullptr;
    if (table.ok()) {
      table_ = std::make_shared<const TokenTable>(*std::move(table));
    }
  }
  if (!table.ok()) {
    const absl::Status status(
        table.status().code(),
        absl::StrCat("--tokens_file: ", table.status().message(),
                     first ? "" : "; keeping the tokens loaded before"));
    if (!first) {
      log::Error("access", std::string(status.message()),
                 {{"tokens_file", options_.tokens_file}});
    }
    return status;
  }
  size_t count;
  {
    atlas::MutexLock lock(&table_mu_);
    count = table_->size();
  }
  log::Info("access",
            absl::StrCat("tokens file ", options_.tokens_file,
                         first ? " loaded: " : " reloaded: ", count,
                         " tokens"),
            {{"tokens_file", options_.tokens_file},
             {"tokens", static_cast<uint64_t>(count)}});
  return absl::OkStatus();
}

void AccessGate::WatchFile() {
  for (;;) {
    {
      atlas::MutexLock lock(&table_mu_);
      table_mu_.AwaitWithTimeout(
          [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return stopping_; },
          options_.tokens_check_interval);
      if (stopping_) return;
    }
    // Errors are logged by Reload.
    Reload(/*only_if_changed=*/true).IgnoreError();
  }
}

absl::StatusOr<std::string> AccessGate::Authenticate(
    grpc::CallbackServerContext& context, Access access) {
  if (!authenticating()) return PeerHost(context.peer());
  absl::StatusOr<absl::string_view> token = BearerToken(context);
  if (!token.ok()) return token.status();
  std::shared_ptr<const TokenTable> table;
  {
    atlas::MutexLock lock(&table_mu_);
    table = table_;
  }
  std::optional<Principal> principal = table->Find(*token);
  if (!principal.has_value()) {
    return absl::UnauthenticatedError("the bearer token is not known");
  }
  absl::Status allowed = Authorize(*principal, access);
  if (!allowed.ok()) return allowed;
  return std::move(principal->name);
}

absl::Status AccessGate::TakeRequest(const std::string& principal) {
  const double rate = options_.max_requests_per_second;
  if (rate <= 0) return absl::OkStatus();
  const absl::Time now = options_.now();
  atlas::MutexLock lock(&rate_mu_);
  auto refill = [&](Bucket& bucket) {
    const double elapsed = absl::ToDoubleSeconds(now - bucket.updated);
    if (elapsed > 0) {
      bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate);
      bucket.updated = now;
    }
  };
  if (buckets_.size() >= kBucketSweepThreshold) {
    // Full buckets hold no state worth keeping.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      refill(it->second);
      auto current = it++;
      if (current->second.tokens >= burst_) buckets_.erase(current);
    }
  }
  auto [it, inserted] = buckets_.try_emplace(principal, Bucket{burst_, now});
  Bucket& bucket = it->second;
  refill(bucket);
  if (bucket.tokens < 1) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "request rate limit: principal \"", principal, "\" made more than ",
        FormatLimit(rate), " requests per second (burst ",
        FormatLimit(burst_),
        "; --max_requests_per_second, --request_burst); retry later"));
  }
  bucket.tokens -= 1;
  return absl::OkStatus();
}

absl::Status AccessGate::Admit(grpc::CallbackServerContext& context,
                               Access access) {
  absl::StatusOr<std::string> principal = Authenticate(context, access);
  if (!principal.ok()) return principal.status();
  return TakeRequest(*principal);
}

absl::StatusOr<StreamTicket> AccessGate::AdmitStream(
    grpc::CallbackServerContext& context, Access access) {
  absl::StatusOr<std::string> principal = Authenticate(context, access);
  if (!principal.ok()) return principal.status();
  absl::Status rate = TakeRequest(*principal);
  if (!rate.ok()) return rate;
  const int per_connection = options_.max_streams_per_connection;
  const int per_principal = options_.max_streams_per_principal;
  if (per_connection <= 0 && per_principal <= 0) return StreamTicket();

  std::string connection = context.peer();
  StreamCounts& counts = *streams_;
  {
    atlas::MutexLock lock(&counts.mu);
    int& on_connection = counts.per_connection[connection];
    int& of_principal = counts.per_principal[*principal];
    absl::Status refused;
    if (per_connection > 0 && on_connection >= per_connection) {
      refused = absl::ResourceExhaustedError(absl::StrCat(
          "open stream limit: this connection already has ", on_connection,
          " open Watch streams (--max_streams_per_connection=",
          per_connection, "); end one or open another connection"));
    } else if (per_principal > 0 && of_principal >= per_principal) {
      refused = absl::ResourceExhaustedError(absl::StrCat(
          "open stream limit: principal \"", *principal, "\" already has ",
          of_principal, " open Watch streams (--max_streams_per_principal=",
          per_principal, ")"));
    }
    if (!refused.ok()) {
      if (on_connection == 0) counts.per_connection.erase(connection);
      if (of_principal == 0) counts.per_principal.erase(*principal);
      return refused;
    }
    ++on_connection;
    ++of_principal;
  }
  return StreamTicket([streams = streams_, connection = std::move(connection),
                       principal = *std::move(principal)] {
    atlas::MutexLock lock(&streams->mu);
    if (--streams->per_connection[connection] <= 0) {
      streams->per_connection.erase(connection);
    }
    if (--streams->per_principal[principal] <= 0) {
      streams->per_principal.erase(principal);
    }
  });
}

}  // namespace atlas::services
