#pragma once

// AccessGate: the CallGate atlas-server runs with. In order, for each call:
//   1. authentication: with a tokens file, the call must carry
//      `authorization: Bearer TOKEN` naming a known token (UNAUTHENTICATED
//      otherwise); its principal is the token's NAME. Without a tokens file
//      every call is admitted and its principal is the client's IP address.
//   2. authorization: the principal's role must cover the access the call
//      needs (PERMISSION_DENIED otherwise; see services/token_table.h).
//   3. the per-principal request rate (a token bucket) and, for streams, the
//      open-stream limits per connection and per principal
//      (RESOURCE_EXHAUSTED naming the limit's flag).
// The tokens file is re-read when ReloadTokens() is called (atlas-server
// does on SIGHUP) and when its modification time, size or inode changes
// (checked every tokens_check_interval). A file that fails to parse keeps
// the previous table and logs the error (component "access"); tokens are
// never logged.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "services/call_gate.h"
#include "services/token_table.h"

namespace atlas::services {

struct AccessOptions {
  // Bearer tokens file (see token_table.h); empty: no authentication.
  std::string tokens_file;
  // How often the tokens file is checked for changes.
  absl::Duration tokens_check_interval = absl::Seconds(5);
  // Requests per second each principal may make on average (0: no limit),
  // and how many it may make at once after a quiet spell (0: one second's
  // worth).
  double max_requests_per_second = 0;
  double request_burst = 0;
  // Most Watch streams open at once on one connection and for one principal
  // (0: no limit). atlas-bench's largest default load (10,000 idle streams
  // over 32 connections) fits.
  int max_streams_per_connection = 1000;
  int max_streams_per_principal = 20'000;
  // Source of time for the rate limit (tests inject one).
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class AccessGate final : public CallGate {
 public:
  // Loads the tokens file (an error if it cannot be read or parsed) and
  // starts watching it.
  static absl::StatusOr<std::unique_ptr<AccessGate>> Create(
      AccessOptions options);
  ~AccessGate() override;
  AccessGate(const AccessGate&) = delete;
  AccessGate& operator=(const AccessGate&) = delete;

  absl::Status Admit(grpc::CallbackServerContext& context,
                     Access access) override;
  absl::StatusOr<StreamTicket> AdmitStream(grpc::CallbackServerContext& context,
                                           Access access) override;

  // Re-reads the tokens file now. On error the current table stays in force;
  // the error is logged and returned. OK (and a no-op) without a tokens file.
  absl::Status ReloadTokens();

  bool authenticating() const { return !options_.tokens_file.empty(); }

 private:
  struct FileSignature {
    int64_t mtime_ns = -1;
    int64_t size = -1;
    uint64_t inode = 0;
    bool operator==(const FileSignature& other) const {
      return mtime_ns == other.mtime_ns && size == other.size &&
             inode == other.inode;
    }
  };
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  // Open streams, shared with the tickets so a late release stays safe.
  struct StreamCounts {
    atlas::Mutex mu;
    absl::flat_hash_map<std::string, int> per_connection ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string, int> per_principal ABSL_GUARDED_BY(mu);
  };

  explicit AccessGate(AccessOptions options);
  // The caller's principal name, checked against `access`.
  absl::StatusOr<std::string> Authenticate(grpc::CallbackServerContext& context,
                                           Access access);
  absl::Status TakeRequest(const std::string& principal);
  absl::Status Reload(bool only_if_changed);
  void WatchFile();

  const AccessOptions options_;
  const double burst_;

  atlas::Mutex table_mu_;
  std::shared_ptr<const TokenTable> table_ ABSL_GUARDED_BY(table_mu_);
  FileSignature signature_ ABSL_GUARDED_BY(table_mu_);
  bool stopping_ ABSL_GUARDED_BY(table_mu_) = false;
  // Serializes reloads (SIGHUP and the file watcher).
  atlas::Mutex reload_mu_;

  atlas::Mutex rate_mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(rate_mu_);

  std::shared_ptr<StreamCounts> streams_ = std::make_shared<StreamCounts>();
  std::thread watcher_;
};

}  // namespace atlas::services
