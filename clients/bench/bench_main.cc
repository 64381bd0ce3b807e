// atlas-bench: load generator for Atlas (and, side by side, etcd): durable
// writes, batched applies, reads, watch fan-out, idle watch streams and
// change-log catch-up. Prints a table; with --json, one JSON object per
// workload per line on stdout (the table then goes to stderr).

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "clients/bench/atlas_target.h"
#include "clients/bench/completion_queues.h"
#include "clients/bench/etcd_target.h"
#include "clients/bench/h2_target.h"
#include "clients/bench/workloads.h"

namespace {

using atlas::bench::BenchConfig;

constexpr char kWorkloadHelp[] =
    "Workloads (comma-separated, run in order):\n"
    "  write    durable single-entity writes (Atlas UpdateEntity with\n"
    "           allow_missing; etcd Put), closed loop; latency per write\n"
    "  apply    ApplyEntities of --batch entities a call (Atlas only);\n"
    "           PER_SECOND counts entities, latency per call\n"
    "  read     writes --read_keys keys, then gets them at random (Atlas\n"
    "           GetEntity; etcd Range of one key, serializable)\n"
    "  fanout   --subscribers watch streams over --topics topics; writers at\n"
    "           --rate writes/s; PER_SECOND counts deliveries, latency is\n"
    "           write issued -> event received (timestamp in the payload)\n"
    "  idle     opens --streams watches that see nothing, each on its own\n"
    "           stream or --watches_per_stream to a stream; reads the\n"
    "           server's VmRSS (--server_pid) before and after; latency is\n"
    "           the time for a watch to be acknowledged\n"
    "  catchup  writes --catchup_events events, then one subscriber replays\n"
    "           them from their first revision; PER_SECOND counts events,\n"
    "           P50/P99 are the times until 50 % / 99 % had arrived\n"
    "  ready    polls until the server answers a call; ready_ms is how long\n"
    "           that took (for restart timing)";

void AddFlags(CLI::App& app, BenchConfig& config,
              atlas::bench::TargetOptions& target, std::string& kind,
              std::vector<std::string>& workloads, int& client_threads,
              std::string& client, bool& json, bool& linearizable) {
  app.footer(kWorkloadHelp);
  app.add_option("--target", kind, "What to drive: atlas or etcd")
      ->check(CLI::IsMember({"atlas", "etcd"}))
      ->capture_default_str();
  app.add_option("--server", target.server, "host:port of the server")
      ->envname("ATLAS_SERVER")
      ->capture_default_str();
  app.add_option("--workload,-w", workloads, "Workloads, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember(atlas::bench::WorkloadNames()))
      ->required();
  app.add_flag("--json", json,
               "Print one JSON object per workload per line on stdout (the "
               "table goes to stderr)");
  app.add_option("--duration", config.duration_s, "Measured seconds")
      ->capture_default_str();
  app.add_option("--warmup", config.warmup_s, "Seconds run before measuring")
      ->capture_default_str();
  app.add_option("--concurrency,-c", config.concurrency,
                 "Calls in flight (write, apply, read)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--channels", target.channels,
                 "Channels (HTTP/2 connections) for unary calls")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--watch_channels", target.watch_channels,
                 "Channels the watch streams are spread over")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--client", client,
                 "How writes, reads and watches are sent: grpc (gRPC's C++ "
                 "client) or h2 (atlas-bench's own HTTP/2 client on "
                 "nghttp2, a thread for --channels and one for "
                 "--watch_channels, about as light as h2load; plaintext; "
                 "for measuring a server whose client shares its cores)")
      ->check(CLI::IsMember({"grpc", "h2"}))
      ->capture_default_str();
  app.add_option("--client_threads", client_threads,
                 "Completion-queue threads of this client")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--payload_bytes", config.payload_bytes,
                 "Bytes of payload per entity/value")
      ->capture_default_str();
  app.add_option("--keys", config.keys,
                 "write: 0 = a new key per write, N = spread over N keys "
                 "(1 = one hot key)")
      ->capture_default_str();
  app.add_option("--read_keys", config.read_keys, "read: keys to read")
      ->capture_default_str();
  app.add_option("--batch", config.batch, "apply: entities per call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--apply_basic_view", target.apply_basic_view,
               "apply: ask for results without the entities' content "
               "(APPLY_VIEW_BASIC)");
  app.add_flag("--write_basic_view", target.write_basic_view,
               "write: ask for responses without the entity's content "
               "(WRITE_VIEW_BASIC)");
  app.add_option("--max_ops", config.max_ops,
                 "write/apply: stop after this many calls (0: none)")
      ->capture_default_str();
  app.add_option("--subscribers", config.subscribers, "fanout: subscribers")
      ->capture_default_str();
  app.add_option("--topics", config.topics,
                 "fanout: topics (subscriber i filters on topic i % topics)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--rate", config.rate, "fanout: writes per second")
      ->capture_default_str();
  app.add_option("--drain", config.drain_s,
                 "fanout: seconds to wait for late deliveries")
      ->capture_default_str();
  app.add_option("--streams", config.streams,
                 "idle: watches (each on its own stream unless "
                 "--watches_per_stream)")
      ->capture_default_str();
  app.add_option("--watches_per_stream", config.watches_per_stream,
                 "idle, fanout: watches sharing one stream (Atlas "
                 "WatchMany; etcd: create requests on one Watch stream)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--server_pid", config.server_pid,
                 "PID of the server: idle reports its VmRSS; write, apply "
                 "and read its cores and CPU microseconds per write, entity "
                 "or read (server_cores, server_cpu_us), and the client's "
                 "cores (client_cores)")
      ->capture_default_str();
  app.add_option("--hold", config.hold_s,
                 "idle: seconds to hold the streams before reading memory")
      ->capture_default_str();
  app.add_option("--catchup_events", config.catchup_events,
                 "catchup: events to write and replay")
      ->capture_default_str();
  app.add_option("--catchup_batch", config.catchup_batch,
                 "catchup: entities per revision (Atlas ApplyEntities)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--timeout_ms", target.timeout_ms, "Deadline of unary calls")
      ->capture_default_str();
  app.add_option("--ready_timeout", config.ready_timeout_s,
                 "ready: seconds to wait for the server")
      ->capture_default_str();
  app.add_flag("--linearizable", linearizable,
               "etcd read: linearizable Range instead of serializable");
}

// Atlas' TLS and token, as atlasctl takes them.
void AddSecurityFlags(CLI::App& app, atlas::bench::SecurityFlags& flags) {
  app.add_flag("--tls", flags.tls,
               "Atlas: use TLS, verifying the server against the system's CA "
               "certificates (implied by --ca, --cert, --key)")
      ->envname("ATLAS_TLS");
  app.add_option("--ca", flags.ca_file,
                 "Atlas: CA certificates (PEM) that signed the server's "
                 "certificate; enables TLS")
      ->envname("ATLAS_CA")
      ->check(CLI::ExistingFile);
  app.add_option("--cert", flags.cert_file,
                 "Atlas: client certificate (PEM) for mutual TLS")
      ->envname("ATLAS_CERT")
      ->check(CLI::ExistingFile);
  app.add_option("--key", flags.key_file,
                 "Atlas: client private key (PEM) for mutual TLS")
      ->envname("ATLAS_KEY")
      ->check(CLI::ExistingFile);
  app.add_option("--server_name", flags.server_name,
                 "Atlas: name to verify the server's certificate against")
      ->envname("ATLAS_SERVER_NAME");
  app.add_option("--token", flags.token,
                 "Atlas: bearer token sent with every call")
      ->envname("ATLAS_TOKEN");
}

// Thousands of watch streams need descriptors and the default soft limit
// may be low: raise it to the hard limit.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"atlas-bench: load generator for Atlas and etcd"};
  BenchConfig config;
  atlas::bench::TargetOptions target_options;
  target_options.server = "127.0.0.1:50051";
  std::string kind = "atlas";
  std::vector<std::string> workloads;
  int client_threads = 2;
  std::string client = "grpc";
  bool json = false;
  bool linearizable = false;
  AddFlags(app, config, target_options, kind, workloads, client_threads, client,
           json, linearizable);
  atlas::bench::SecurityFlags security;
  AddSecurityFlags(app, security);
  CLI11_PARSE(app, argc, argv);
  target_options.serializable_reads = !linearizable;
  {
    auto loaded = atlas::bench::LoadChannelSecurity(security);
    if (!loaded.ok()) {
      std::cerr << "atlas-bench: " << loaded.status().message() << "\n";
      return 2;
    }
    target_options.security = *std::move(loaded);
  }
  RaiseFileLimit();
  // Debian's Abseil is built without NDEBUG, so every absl::Mutex that gRPC
  // takes runs deadlock detection (GraphCycles in profiles): a client cost
  // that has nothing to do with the server under test.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::vector<atlas::bench::WorkloadResult> results;
  {
    atlas::bench::CompletionQueues queues(client_threads);
    std::unique_ptr<atlas::bench::Target> target;
    if (kind == "etcd") {
      target =
          std::make_unique<atlas::bench::EtcdTarget>(target_options, queues);
    } else {
      target =
          std::make_unique<atlas::bench::AtlasTarget>(target_options, queues);
    }
    if (client == "h2") {
      if (target_options.security.credentials != nullptr) {
        std::cerr << "atlas-bench: --client h2 speaks plaintext HTTP/2 only; "
                     "drop the TLS flags or use --client grpc\n";
        return 2;
      }
      auto connect = [&](int connections) {
        return atlas::bench::H2Client::Connect(
            {target_options.server, connections, target_options.timeout_ms,
             target_options.security.token});
      };
      auto unary = connect(target_options.channels);
      auto watch =
          unary.ok() ? connect(target_options.watch_channels) : unary.status();
      if (!watch.ok()) {
        std::cerr << "atlas-bench: " << watch.status().message() << "\n";
        return 2;
      }
      target = std::make_unique<atlas::bench::H2Target>(
          std::move(target), *std::move(unary), *std::move(watch));
    }
    for (const std::string& workload : workloads) {
      std::cerr << "atlas-bench: " << workload << " against " << kind << " at "
                << target_options.server << " ...\n";
      results.push_back(atlas::bench::RunWorkload(workload, config, *target));
      if (json) {
        std::cout << atlas::bench::ToJsonLine(results.back()) << std::endl;
      }
    }
  }
  atlas::bench::PrintTable(results, json ? std::cerr : std::cout);
  for (const auto& result : results) {
    if (result.errors > 0 && result.ops_per_s == 0) return 1;
  }
  return 0;
}
