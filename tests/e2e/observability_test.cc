// The real atlas-server's logs and metrics: with the default --log_format
// every stderr line is one JSON object (requests included, with method,
// peer, duration and status); --metrics_listen serves Prometheus series that
// move when atlasctl calls it; --log_format=text is for people.

#include <signal.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/e2e/subprocess.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/temp_dir.h"

namespace atlas::e2e {
namespace {

using nlohmann::json;

// The port in "metrics on http://127.0.0.1:PORT/metrics".
std::optional<int> MetricsPort(const std::string& log) {
  static const std::regex kLine(R"(metrics on http://127\.0\.0\.1:([0-9]+)/)");
  std::smatch match;
  if (!std::regex_search(log, match, kLine)) return std::nullopt;
  return std::stoi(match[1].str());
}

ProcessResult Atlasctl(const ServerProcess& server,
                       const std::vector<std::string>& args) {
  std::vector<std::string> argv = {AtlasctlBinary(), "--server",
                                   server.address()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, kCommandTimeout);
}

double Scrape(int port, const std::string& name,
              const atlas::testing::Metrics::Labels& labels) {
  auto text = atlas::testing::HttpGet("127.0.0.1", port, "/metrics");
  EXPECT_TRUE(text.ok()) << text.status();
  return atlas::testing::Metrics(text.ok() ? *text : "").ValueOr0(name, labels);
}

TEST(ObservabilityTest, JsonLogLinesAndMetricsFromTheRealServer) {
  atlas::testing::TempDir dir;
  ServerOptions options;
  options.data_dir = dir.Sub("data");
  options.seed_dir = DatasetDir();
  options.extra_args = {"--metrics_listen", "127.0.0.1:0", "--log_level",
                        "debug"};
  auto server = ServerProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  Subprocess& process = (*server)->process();
  ASSERT_TRUE(process.AwaitStderr(
      [](const std::string& log) { return MetricsPort(log).has_value(); },
      kStartTimeout))
      << process.Stderr();
  const int port = *MetricsPort(process.Stderr());

  const std::string kGet = "/atlas.v1.Atlas/GetEntity";
  EXPECT_EQ(Scrape(port, "atlas_store_revision", {}), 1.0)
      << "the seed is one commit";
  const double found_before =
      Scrape(port, "atlas_grpc_requests_total", {{"method", kGet}, {"code", "OK"}});
  ProcessResult found = Atlasctl(**server, {"get", "organizations/wto"});
  EXPECT_EQ(found.exit_code, 0) << found.err;
  ProcessResult missing = Atlasctl(**server, {"get", "agreements/no-such"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_EQ(Scrape(port, "atlas_grpc_requests_total",
                   {{"method", kGet}, {"code", "OK"}}) -
                found_before,
            1);
  EXPECT_EQ(Scrape(port, "atlas_grpc_requests_total",
                   {{"method", kGet}, {"code", "NOT_FOUND"}}),
            1);

  EXPECT_EQ((*server)->Terminate(kCommandTimeout), 0);

  // Every line is one JSON object with the four common fields.
  const std::string log = process.Stderr();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back(), '\n');
  std::vector<json> requests;
  std::vector<std::string> messages;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    const json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(record.is_object()) << "not a JSON object: " << line;
    for (const char* key : {"time", "level", "component", "message"}) {
      ASSERT_TRUE(record.contains(key) && record[key].is_string())
          << key << " missing in " << line;
    }
    messages.push_back(record["message"]);
    if (record["component"] == "request") requests.push_back(record);
  }
  auto has_message = [&](const std::string& prefix) {
    for (const std::string& message : messages) {
      if (message.rfind(prefix, 0) == 0) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_message("listening on 127.0.0.1:")) << log;
  EXPECT_TRUE(has_message("received SIGTERM")) << log;
  EXPECT_TRUE(has_message("stopped")) << log;

  bool ok_logged = false, not_found_logged = false;
  for (const json& record : requests) {
    EXPECT_TRUE(record["peer"].is_string()) << record.dump();
    EXPECT_TRUE(record["duration_ms"].is_number()) << record.dump();
    if (record["method"] != kGet) continue;
    if (record["status"] == "OK") {
      ok_logged = true;
      EXPECT_EQ(record["level"], "debug");
    } else if (record["status"] == "NOT_FOUND") {
      not_found_logged = true;
      EXPECT_EQ(record["level"], "info");
      EXPECT_NE(record["peer"].get<std::string>().find("127.0.0.1"),
                std::string::npos)
          << record.dump();
    }
  }
  EXPECT_TRUE(ok_logged) << log;
  EXPECT_TRUE(not_found_logged) << log;
}

TEST(ObservabilityTest, TextLogsForPeople) {
  atlas::testing::TempDir dir;
  ServerOptions options;
  options.data_dir = dir.Sub("data");
  options.extra_args = {"--log_format", "text"};
  auto server = ServerProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->Terminate(kCommandTimeout), 0);
  const std::string log = (*server)->process().Stderr();
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    EXPECT_NE(line.front(), '{') << line;
  }
  EXPECT_NE(log.find(" INFO server: listening on 127.0.0.1:"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(" INFO server: stopped\n"), std::string::npos) << log;
}

}  // namespace
}  // namespace atlas::e2e
