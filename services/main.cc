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
#include "absl/time/time.h"
#include "common/mutex.h"
#include "services/server.h"

namespace {

using atlas::services::AtlasServer;
using atlas::services::ServerConfig;

struct Flags {
  ServerConfig config;
  int64_t progress_interval_ms = 10'000;
  int64_t shutdown_grace_ms = 10'000;
  std::string metrics_listen;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string tokens_file;
  std::string log_format = "text";
};

// Integers from `min` up (also rejects "-1" for unsigned flags, which the
// parser would otherwise wrap around).
CLI::Range AtLeast(int64_t min) {
  return CLI::Range(min, std::numeric_limits<int64_t>::max());
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
  app.add_option("--metrics_listen", flags.metrics_listen,
                 "Prometheus metrics HTTP address (reserved: not served yet)")
      ->envname("ATLAS_METRICS_LISTEN")
      ->capture_default_str();
  app.add_option("--tls_cert", flags.tls_cert,
                 "Server TLS certificate, PEM (not supported yet)")
      ->envname("ATLAS_TLS_CERT")
      ->capture_default_str();
  app.add_option("--tls_key", flags.tls_key,
                 "Server TLS private key, PEM (not supported yet)")
      ->envname("ATLAS_TLS_KEY")
      ->capture_default_str();
  app.add_option("--tls_client_ca", flags.tls_client_ca,
                 "CA bundle for client certificates, PEM (not supported yet)")
      ->envname("ATLAS_TLS_CLIENT_CA")
      ->capture_default_str();
  app.add_option("--tokens_file", flags.tokens_file,
                 "Bearer tokens file, one 'TOKEN ROLE [NAME]' per line (not "
                 "supported yet)")
      ->envname("ATLAS_TOKENS_FILE")
      ->capture_default_str();
  app.add_option("--log_format", flags.log_format, "Log format: json or text")
      ->envname("ATLAS_LOG_FORMAT")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
}

// The flags that are accepted but whose feature is not there yet.
std::string UnsupportedFlag(const Flags& flags) {
  if (!flags.tls_cert.empty()) return "--tls_cert";
  if (!flags.tls_key.empty()) return "--tls_key";
  if (!flags.tls_client_ca.empty()) return "--tls_client_ca";
  if (!flags.tokens_file.empty()) return "--tokens_file";
  return "";
}

std::string JsonEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

void Log(const Flags& flags, const std::string& text) {
  if (flags.log_format == "json") {
    std::cerr << "{\"severity\":\"INFO\",\"message\":\"" << JsonEscape(text)
              << "\"}\n";
  } else {
    std::cerr << "atlas-server: " << text << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"atlas-server: the Atlas gRPC service (atlas.v1.Atlas)"};
  Flags flags;
  AddFlags(app, flags);
  CLI11_PARSE(app, argc, argv);

  if (std::string flag = UnsupportedFlag(flags); !flag.empty()) {
    std::cerr << "atlas-server: " << flag
              << " is not supported yet (TLS and tokens are planned)\n";
    return 2;
  }
  if (!flags.metrics_listen.empty()) {
    Log(flags, "--metrics_listen is not served yet; ignoring it");
  }
  flags.config.progress_interval =
      absl::Milliseconds(flags.progress_interval_ms);
  flags.config.shutdown_grace = absl::Milliseconds(flags.shutdown_grace_ms);

  // Block the shutdown signals before any thread starts, so every thread
  // inherits the mask and only the signal thread's sigwait receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = AtlasServer::Start(flags.config);
  if (!server.ok()) {
    std::cerr << "atlas-server: " << server.status() << "\n";
    return 1;
  }
  Log(flags,
      absl::StrCat(
          "listening on ", (*server)->address(), ", data_dir ",
          flags.config.data_dir, ", revision ",
          (*server)->store().CurrentRevision(),
          (*server)->seed_result().seeded
              ? absl::StrCat(" (seeded ", (*server)->seed_result().entities,
                             " entities from ", flags.config.seed_dir, ")")
              : ""));

  atlas::Notification stop;
  int received = 0;
  std::thread signal_thread([&] {
    int signal = 0;
    while (sigwait(&signals, &signal) != 0) {
    }
    received = signal;
    stop.Notify();
  });
  stop.WaitForNotification();
  Log(flags,
      absl::StrCat("received ", received == SIGTERM ? "SIGTERM" : "SIGINT",
                   ", shutting down"));
  (*server)->Shutdown();
  signal_thread.join();
  Log(flags, "stopped");
  return 0;
}
