// atlas-bench against the real server, every workload at a tiny size: the
// tool keeps working and reports what it measured. No figure is judged here
// (performance is measured by tests/bench/compare_etcd.sh, not in tests);
// only that each workload ran without errors and counted something.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_fixture.h"

namespace atlas::e2e {
namespace {

class BenchSmokeTest : public E2eTest {
 protected:
  // Runs atlas-bench --json against the server; its results by workload.
  std::map<std::string, nlohmann::json> Bench(std::vector<std::string> args) {
    std::vector<std::string> argv = {ATLAS_BENCH_BIN, "--server",
                                     server_address(), "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult result = RunProcess(argv, absl::Seconds(120));
    EXPECT_EQ(result.exit_code, 0) << Describe(result);
    std::map<std::string, nlohmann::json> by_workload;
    for (absl::string_view line :
         absl::StrSplit(result.out, '\n', absl::SkipEmpty())) {
      nlohmann::json parsed =
          nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      EXPECT_TRUE(parsed.is_object()) << "not a JSON object: " << line;
      if (parsed.is_object()) {
        by_workload[parsed.value("workload", "")] = parsed;
      }
    }
    return by_workload;
  }
};

TEST_F(BenchSmokeTest, EveryWorkloadRunsAgainstAtlas) {
  const auto results = Bench(
      {"-w", "write,apply,read,fanout,idle,catchup", "--duration", "1",
       "--warmup", "0.2", "-c", "4", "--channels", "2", "--watch_channels",
       "2", "--payload_bytes", "64", "--read_keys", "50", "--batch", "5",
       "--subscribers", "10", "--topics", "2", "--rate", "50", "--drain", "2",
       "--streams", "20", "--hold", "0", "--catchup_events", "200",
       "--server_pid", std::to_string(server_pid())});
  for (const char* workload :
       {"write", "apply", "read", "fanout", "idle", "catchup"}) {
    SCOPED_TRACE(workload);
    auto it = results.find(workload);
    ASSERT_NE(it, results.end()) << "no result line";
    const nlohmann::json& r = it->second;
    EXPECT_EQ(r.value("target", ""), "atlas");
    EXPECT_EQ(r.value("errors", -1.0), 0) << r.dump();
    EXPECT_GT(r.value("ops_per_s", 0.0), 0) << r.dump();
    EXPECT_TRUE(r.contains("p50_ms") && r.contains("p99_ms")) << r.dump();
  }
  // With --server_pid the unary workloads say where the CPU went: the
  // server's cores and CPU time per operation, and the client's cores. Each
  // figure is whole clock ticks, so one short run may show 0 for one of
  // them, but not for the server over all three.
  double server_cpu_us = 0;
  for (const char* workload : {"write", "apply", "read"}) {
    SCOPED_TRACE(workload);
    const nlohmann::json& r = results.at(workload);
    for (const char* key : {"server_cores", "server_cpu_us", "client_cores"}) {
      ASSERT_TRUE(r.contains(key)) << key << " missing: " << r.dump();
      EXPECT_GE(r.value(key, -1.0), 0) << key << ": " << r.dump();
    }
    server_cpu_us += r.value("server_cpu_us", 0.0);
  }
  EXPECT_GT(server_cpu_us, 0);
  // Every event written during fan-out reached each of its subscribers.
  const nlohmann::json& fanout = results.at("fanout");
  EXPECT_GT(fanout.value("expected", 0.0), 0) << fanout.dump();
  EXPECT_EQ(fanout.value("missing", -1.0), 0) << fanout.dump();
  EXPECT_EQ(results.at("catchup").value("received", 0.0), 200);
}

TEST_F(BenchSmokeTest, IdleWatchesCanShareStreams) {
  const auto results = Bench({"-w", "idle", "--streams", "30",
                              "--watches_per_stream", "8", "--hold", "0",
                              "--watch_channels", "2"});
  ASSERT_EQ(results.count("idle"), 1u);
  const nlohmann::json& idle = results.at("idle");
  EXPECT_EQ(idle.value("errors", -1.0), 0) << idle.dump();
  EXPECT_EQ(idle.value("watches", 0.0), 30) << idle.dump();
  EXPECT_EQ(idle.value("grpc_streams", 0.0), 4) << idle.dump();
  EXPECT_EQ(idle.value("ready", 0.0), 30) << idle.dump();
}

}  // namespace
}  // namespace atlas::e2e
