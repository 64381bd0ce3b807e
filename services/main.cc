// atlas-server: parses flags, starts an AtlasServer, and shuts it down
// gracefully on SIGTERM or SIGINT.

#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iostream>
#include <limits>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "common/mutex.h"
#include "services/server.h"

namespace {

using atlas::services::AtlasServer;
using atlas::services::ServerConfig;

struct Flags {
  ServerConfig config;
  int64_t progress_interval_ms = 10'000;
  int64_t shutdown_grace_ms = 10'000;
  std::string keepalive_time = "30s";
  std::string keepalive_timeout = "10s";
  std::string log_format = "json";
  std::string log_level = "info";
};

// Integers from `min` up (also rejects "-1" for unsigned flags, which the
// parser would otherwise wrap around).
CLI::Range AtLeast(int64_t min) {
  return CLI::Range(min, std::numeric_limits<int64_t>::max());
}

// Durations as absl::ParseDuration reads them ("30s", "500ms", "2m"), at
// least 1ms.
const CLI::Validator kDuration(
    [](std::string& value) -> std::string {
      absl::Duration duration;
      if (!absl::ParseDuration(value, &duration) ||
          duration < absl::Milliseconds(1)) {
        return absl::StrCat("'", value,
                            "' is not a duration of at least 1ms (e.g. 30s, "
                            "500ms, 2m)");
      }
      return "";
    },
    "DURATION");

absl::Duration ToDuration(const std::string& value) {
  absl::Duration duration;
  absl::ParseDuration(value, &duration);  // checked by kDuration
  return duration;
}

// Connections: keepalive and the health-only port.
void AddConnectionFlags(CLI::App& app, Flags& flags) {
  app.add_option("--keepalive_time", flags.keepalive_time,
                 "HTTP/2 keepalive: ping a client connection after this long "
                 "without reads (e.g. 30s), so a client that vanished "
                 "without closing it (network cut) does not hold its Watch "
                 "streams until TCP gives up. Clients' own keepalive pings "
                 "may come as often as every 10s")
      ->envname("ATLAS_KEEPALIVE_TIME")
      ->check(kDuration)
      ->capture_default_str();
  app.add_option("--keepalive_timeout", flags.keepalive_timeout,
                 "HTTP/2 keepalive: close the connection (ending its calls) "
                 "when a ping is not acknowledged within this long")
      ->envname("ATLAS_KEEPALIVE_TIMEOUT")
      ->check(kDuration)
      ->capture_default_str();
  app.add_option("--health_listen", flags.config.health_listen,
                 "Plaintext address, host:port, of a second gRPC port that "
                 "serves only grpc.health.v1.Health (status of '' and "
                 "atlas.v1.Atlas, as on --listen): for Kubernetes gRPC "
                 "probes, which cannot speak TLS (empty: off)")
      ->envname("ATLAS_HEALTH_LISTEN")
      ->capture_default_str();
}

// TLS, bearer tokens and the limits.
void AddAccessFlags(CLI::App& app, ServerConfig& config) {
  app.add_option("--tls_cert", config.tls.cert,
                 "Server TLS certificate (chain), PEM; with --tls_key the "
                 "gRPC port speaks only TLS (empty: plaintext)")
      ->envname("ATLAS_TLS_CERT")
      ->capture_default_str();
  app.add_option("--tls_key", config.tls.key,
                 "Private key of --tls_cert, PEM, unencrypted")
      ->envname("ATLAS_TLS_KEY")
      ->capture_default_str();
  app.add_option("--tls_client_ca", config.tls.client_ca,
                 "CA bundle, PEM: clients must present a certificate it "
                 "signed (mutual TLS; empty: no client certificates)")
      ->envname("ATLAS_TLS_CLIENT_CA")
      ->capture_default_str();
  app.add_option("--tokens_file", config.access.tokens_file,
                 "Bearer tokens, one 'TOKEN ROLE [NAME]' per line, ROLE "
                 "reader, writer or admin; every call must then send "
                 "'authorization: Bearer TOKEN' (health and reflection "
                 "excepted). Re-read on SIGHUP and when it changes (empty: "
                 "no authentication)")
      ->envname("ATLAS_TOKENS_FILE")
      ->capture_default_str();
  app.add_option("--max_message_bytes", config.limits.max_message_bytes,
                 "Largest request message accepted, in bytes")
      ->envname("ATLAS_MAX_MESSAGE_BYTES")
      ->check(CLI::Range(1024, std::numeric_limits<int>::max()))
      ->capture_default_str();
  app.add_option("--max_entity_bytes", config.limits.max_entity_bytes,
                 "Largest entity a write may carry (serialized), in bytes")
      ->envname("ATLAS_MAX_ENTITY_BYTES")
      ->check(AtLeast(1))
      ->capture_default_str();
  app.add_option("--max_apply_entities", config.limits.max_apply_entities,
                 "Most entities in one ApplyEntities call")
      ->envname("ATLAS_MAX_APPLY_ENTITIES")
      ->check(AtLeast(1))
      ->capture_default_str();
  app.add_option("--max_streams_per_connection",
                 config.access.max_streams_per_connection,
                 "Most Watch streams open at once on one client connection "
                 "(0: no limit)")
      ->envname("ATLAS_MAX_STREAMS_PER_CONNECTION")
      ->check(AtLeast(0))
      ->capture_default_str();
  app.add_option("--max_streams_per_principal",
                 config.access.max_streams_per_principal,
                 "Most Watch streams open at once for one principal (token "
                 "NAME, or client IP address without --tokens_file; 0: no "
                 "limit)")
      ->envname("ATLAS_MAX_STREAMS_PER_PRINCIPAL")
      ->check(AtLeast(0))
      ->capture_default_str();
  app.add_option("--max_requests_per_second",
                 config.access.max_requests_per_second,
                 "Calls per second each principal may make on average, a "
                 "token bucket (0: no limit)")
      ->envname("ATLAS_MAX_REQUESTS_PER_SECOND")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--request_burst", config.access.request_burst,
                 "Calls a principal may make at once after a quiet spell "
                 "(0: one second's worth of --max_requests_per_second)")
      ->envname("ATLAS_REQUEST_BURST")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

void AddFlags(CLI::App& app, Flags& flags) {
  ServerConfig& config = flags.config;
  app.add_option("--listen", config.listen,
                 "gRPC listening address (host:port; port 0 picks a free one)")
      ->envname("ATLAS_LISTEN")
      ->capture_default_str();
  app.add_option("--data_dir", config.data_dir,
                 "Directory of the RocksDB store (created if missing)")
      ->envname("ATLAS_DATA_DIR")
      ->capture_default_str();
  app.add_option("--seed_dir", config.seed_dir,
                 "Dataset directory applied in one commit when the store is "
                 "empty (empty: none)")
      ->envname("ATLAS_SEED_DIR")
      ->capture_default_str();
  app.add_option("--retention_revisions", config.retention_revisions,
                 "Keep this many recent revisions in the change log (0: keep "
                 "all); Watch from an older revision fails with OUT_OF_RANGE")
      ->envname("ATLAS_RETENTION_REVISIONS")
      ->check(AtLeast(0))
      ->capture_default_str();
  app.add_option("--progress_interval_ms", flags.progress_interval_ms,
                 "Watch PROGRESS message interval when nothing matches, in ms")
      ->envname("ATLAS_PROGRESS_INTERVAL_MS")
      ->check(AtLeast(1))
      ->capture_default_str();
  app.add_option("--subscriber_queue_bound", config.subscriber_queue_bound,
                 "Change sets queued in memory per Watch subscriber; a slower "
                 "one is served from the change log on disk")
      ->envname("ATLAS_SUBSCRIBER_QUEUE_BOUND")
      ->check(AtLeast(1))
      ->capture_default_str();
  app.add_option("--shutdown_grace_ms", flags.shutdown_grace_ms,
                 "On SIGTERM/SIGINT, how long running calls may finish before "
                 "they are cancelled, in ms")
      ->envname("ATLAS_SHUTDOWN_GRACE_MS")
      ->check(AtLeast(0))
      ->capture_default_str();
  app.add_option("--metrics_listen", config.metrics_listen,
                 "Prometheus metrics HTTP address, host:port, serving "
                 "/metrics (empty: off)")
      ->envname("ATLAS_METRICS_LISTEN")
      ->capture_default_str();
  AddConnectionFlags(app, flags);
  AddAccessFlags(app, config);
  app.add_option("--log_format", flags.log_format,
                 "Log lines on stderr: json (one object per line) or text")
      ->envname("ATLAS_LOG_FORMAT")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  app.add_option("--log_level", flags.log_level,
                 "Least severe log level written: debug (adds a line per "
                 "successful request), info, warning or error")
      ->envname("ATLAS_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();
}

void ConfigureLog(const Flags& flags) {
  atlas::log::Options options;
  options.format = *atlas::log::ParseFormat(flags.log_format);
  options.min_level = *atlas::log::ParseLevel(flags.log_level);
  atlas::log::Configure(std::move(options));
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built with Mutex deadlock detection on, which makes
  // every absl::Mutex lock inside gRPC update a lock graph. Atlas' own locks
  // are atlas::Mutex (std::mutex) and are checked by the TSan builds.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"atlas-server: the Atlas gRPC service (atlas.v1.Atlas)"};
  Flags flags;
  AddFlags(app, flags);
  CLI11_PARSE(app, argc, argv);
  ConfigureLog(flags);

  flags.config.progress_interval =
      absl::Milliseconds(flags.progress_interval_ms);
  flags.config.shutdown_grace = absl::Milliseconds(flags.shutdown_grace_ms);
  flags.config.keepalive_time = ToDuration(flags.keepalive_time);
  flags.config.keepalive_timeout = ToDuration(flags.keepalive_timeout);

  // Block the shutdown signals before any thread starts, so every thread
  // inherits the mask and only the signal thread's sigwait receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);  // reloads the tokens file
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = AtlasServer::Start(flags.config);
  if (!server.ok()) {
    atlas::log::Error("server", absl::StrCat("cannot start: ",
                                             server.status().ToString()));
    return 1;
  }
  atlas::log::Info(
      "server",
      absl::StrCat(
          "listening on ", (*server)->address(), ", data_dir ",
          flags.config.data_dir, ", revision ",
          (*server)->store().CurrentRevision(),
          (*server)->seed_result().seeded
              ? absl::StrCat(" (seeded ", (*server)->seed_result().entities,
                             " entities from ", flags.config.seed_dir, ")")
              : ""),
      {{"address", (*server)->address()},
       {"revision", (*server)->store().CurrentRevision()}});
  if (!(*server)->metrics_address().empty()) {
    atlas::log::Info("server",
                     absl::StrCat("metrics on http://",
                                  (*server)->metrics_address(), "/metrics"),
                     {{"metrics_address", (*server)->metrics_address()}});
  }
  if (!(*server)->health_address().empty()) {
    atlas::log::Info("server",
                     absl::StrCat("health checks (plaintext) on ",
                                  (*server)->health_address()),
                     {{"health_address", (*server)->health_address()}});
  }

  atlas::Notification stop;
  int received = 0;
  std::thread signal_thread([&] {
    int signal = 0;
    while (sigwait(&signals, &signal) != 0 || signal == SIGHUP) {
      if (signal != SIGHUP) continue;
      signal = 0;
      if (flags.config.access.tokens_file.empty()) {
        atlas::log::Info("server", "SIGHUP: no --tokens_file to reload");
      } else {
        // A broken file is logged by the server and the old tokens stay.
        (*server)->ReloadTokens().IgnoreError();
      }
    }
    received = signal;
    stop.Notify();
  });
  stop.WaitForNotification();
  atlas::log::Info(
      "server",
      absl::StrCat("received ", received == SIGTERM ? "SIGTERM" : "SIGINT",
                   ", shutting down"));
  (*server)->Shutdown();
  signal_thread.join();
  atlas::log::Info("server", "stopped");
  return 0;
}
