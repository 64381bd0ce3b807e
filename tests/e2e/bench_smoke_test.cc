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
  // atlas-bench exits 1 when a workload had errors and nothing succeeded.
  std::map<std::string, nlohmann::json> Bench(std::vector<std::string> args,
                                              int exit_code = 0) {
    std::vector<std::string> argv = {ATLAS_BENCH_BIN, "--server",
                                     server_address(), "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult result = RunProcess(argv, absl::Seconds(120));
    EXPECT_EQ(result.exit_code, exit_code) << Describe(result);
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

  // The first write is stored, with the payload the tool sent.
  void ExpectTheFirstWriteStored() {
    const ProcessResult got =
        Atlasctl({"get", "documents/bench-w0", "-o", "json"});
    ASSERT_EQ(got.exit_code, 0) << Describe(got);
    absl::StatusOr<v1::Entity> entity = ParseEntityJson(got.out);
    ASSERT_TRUE(entity.ok()) << entity.status() << "\n" << got.out;
    EXPECT_EQ(entity->document().summary().rfind("t=", 0), 0u)
        << entity->document().summary();
  }

  // `workloads` at tiny sizes over `client` (grpc or h2), reporting the
  // server's CPU.
  std::vector<std::string> TinyRun(const std::string& workloads,
                                   const std::string& client) {
    return {"-w",
            workloads,
            "--client",
            client,
            "--duration",
            "1",
            "--warmup",
            "0.2",
            "-c",
            "4",
            "--channels",
            "2",
            "--watch_channels",
            "2",
            "--payload_bytes",
            "64",
            "--read_keys",
            "50",
            "--batch",
            "5",
            "--subscribers",
            "10",
            "--topics",
            "2",
            "--rate",
            "50",
            "--drain",
            "2",
            "--streams",
            "20",
            "--hold",
            "0",
            "--catchup_events",
            "200",
            "--server_pid",
            std::to_string(server_pid())};
  }
};

TEST_F(BenchSmokeTest, EveryWorkloadRunsAgainstAtlas) {
  const auto results =
      Bench(TinyRun("write,apply,read,fanout,idle,catchup", "grpc"));
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

// --client h2: the same workloads, sent by atlas-bench's own HTTP/2 client
// instead of gRPC's.
TEST_F(BenchSmokeTest, EveryWorkloadRunsOverTheLightHttp2Client) {
  const auto results = Bench(TinyRun("write,read,fanout,idle,catchup", "h2"));
  for (const char* workload : {"write", "read", "fanout", "idle", "catchup"}) {
    SCOPED_TRACE(workload);
    ASSERT_EQ(results.count(workload), 1u) << "no result line";
    const nlohmann::json& r = results.at(workload);
    EXPECT_EQ(r.value("errors", -1.0), 0) << r.dump();
    EXPECT_GT(r.value("ops_per_s", 0.0), 0) << r.dump();
  }
  EXPECT_TRUE(results.at("write").contains("server_cpu_us"));
  const nlohmann::json& fanout = results.at("fanout");
  EXPECT_GT(fanout.value("expected", 0.0), 0) << fanout.dump();
  EXPECT_EQ(fanout.value("missing", -1.0), 0) << fanout.dump();
  EXPECT_EQ(results.at("idle").value("ready", 0.0), 20);
  EXPECT_EQ(results.at("catchup").value("received", 0.0), 200);
  ExpectTheFirstWriteStored();
}

TEST_F(BenchSmokeTest, TheLightHttp2ClientReportsTheServersErrors) {
  // Entities above the server's --max_entity_bytes (1 MiB) are refused.
  const auto results =
      Bench({"-w", "write", "--client", "h2", "--max_ops", "3", "--duration",
             "0", "--warmup", "0", "-c", "1", "--payload_bytes", "1100000"},
            /*exit_code=*/1);
  ASSERT_EQ(results.count("write"), 1u);
  const nlohmann::json& write = results.at("write");
  EXPECT_EQ(write.value("errors", -1.0), 3) << write.dump();
  EXPECT_EQ(write.value("ops_per_s", -1.0), 0) << write.dump();
  // "first error: CODE: MESSAGE", CODE 8 being RESOURCE_EXHAUSTED.
  const std::string note = write.value("note", "");
  EXPECT_EQ(note.rfind("first error: 8: ", 0), 0u) << note;
  EXPECT_NE(note.find("max_entity_bytes"), std::string::npos) << note;

  // A WatchMany stream holds at most 1,000 watches: the server ends the
  // stream's 1,001st, and the error arrives as a message on the stream.
  const auto watches = Bench({"-w", "idle", "--client", "h2", "--streams",
                              "1001", "--watches_per_stream", "1001", "--hold",
                              "0", "--watch_channels", "1"});
  ASSERT_EQ(watches.count("idle"), 1u);
  const nlohmann::json& idle = watches.at("idle");
  EXPECT_EQ(idle.value("ready", 0.0), 1000) << idle.dump();
  EXPECT_GT(idle.value("errors", 0.0), 0) << idle.dump();
  EXPECT_NE(idle.value("note", "").find("watch 1001: create: 1000 watches"),
            std::string::npos)
      << idle.dump();
}

TEST_F(BenchSmokeTest, TheLightHttp2ClientSaysWhyItCannotConnect) {
  // Port 1 on loopback: nothing listens there.
  const ProcessResult result =
      RunProcess({ATLAS_BENCH_BIN, "--server", "127.0.0.1:1", "-w", "write",
                  "--client", "h2"},
                 absl::Seconds(60));
  EXPECT_EQ(result.exit_code, 2) << Describe(result);
  EXPECT_NE(result.err.find("connecting to 127.0.0.1:1"), std::string::npos)
      << result.err;
}

// --write_basic_view and --apply_basic_view: the server takes the views and
// still stores the whole entities.
TEST_F(BenchSmokeTest, WritesAndAppliesCanAskForBasicResults) {
  for (const char* client : {"grpc", "h2"}) {
    SCOPED_TRACE(client);
    // The light client sends no applies.
    const std::string workloads =
        std::string(client) == "grpc" ? "write,apply" : "write";
    std::vector<std::string> argv = TinyRun(workloads, client);
    argv.push_back("--write_basic_view");
    argv.push_back("--apply_basic_view");
    const auto results = Bench(argv);
    for (const std::string& workload :
         std::vector<std::string>(absl::StrSplit(workloads, ','))) {
      SCOPED_TRACE(workload);
      ASSERT_EQ(results.count(workload), 1u) << "no result line";
      const nlohmann::json& r = results.at(workload);
      EXPECT_EQ(r.value("errors", -1.0), 0) << r.dump();
      EXPECT_GT(r.value("ops_per_s", 0.0), 0) << r.dump();
    }
  }
  ExpectTheFirstWriteStored();
}

TEST_F(BenchSmokeTest, IdleWatchesCanShareStreams) {
  for (const char* client : {"grpc", "h2"}) {
    SCOPED_TRACE(client);
    const auto results = Bench({"-w", "idle", "--client", client, "--streams",
                                "30", "--watches_per_stream", "8", "--hold",
                                "0", "--watch_channels", "2"});
    ASSERT_EQ(results.count("idle"), 1u);
    const nlohmann::json& idle = results.at("idle");
    EXPECT_EQ(idle.value("errors", -1.0), 0) << idle.dump();
    EXPECT_EQ(idle.value("watches", 0.0), 30) << idle.dump();
    EXPECT_EQ(idle.value("grpc_streams", 0.0), 4) << idle.dump();
    EXPECT_EQ(idle.value("ready", 0.0), 30) << idle.dump();
  }
}

}  // namespace
}  // namespace atlas::e2e
