// Request logs from the request interceptor of an in-process AtlasServer,
// captured through the logger's sink: one JSON record per call with method,
// peer, duration and status, at the level the status calls for, and never a
// metadata value.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/mutex.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/test_server.h"
#include "tests/testing/entities.h"

namespace atlas::services {
namespace {

using nlohmann::json;

class RequestLogTest : public ::testing::Test {
 protected:
  void Capture(log::Level min_level) {
    log::Options options;
    options.format = log::Format::kJson;
    options.min_level = min_level;
    options.sink = [this](absl::string_view line) {
      atlas::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    };
    log::Configure(std::move(options));
  }
  void TearDown() override { log::Configure(log::Options()); }

  // The parsed request records; every captured line must parse.
  std::vector<json> RequestRecords() {
    atlas::MutexLock lock(&mu_);
    std::vector<json> records;
    for (const std::string& line : lines_) {
      EXPECT_EQ(line.back(), '\n');
      json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
      EXPECT_TRUE(record.is_object()) << line;
      if (record.is_object() && record.value("component", "") == "request") {
        records.push_back(record);
      }
    }
    return records;
  }
  std::string AllLines() {
    atlas::MutexLock lock(&mu_);
    std::string all;
    for (const std::string& line : lines_) all += line;
    return all;
  }

  atlas::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

TEST_F(RequestLogTest, FailedCallIsLoggedWithItsFieldsAtInfo) {
  Capture(log::Level::kInfo);
  testing::TestServer server;
  testing::AtlasCalls calls(server.stub());
  ASSERT_TRUE(calls.Apply({testing::Topic("t0")}).ok());
  EXPECT_EQ(calls.Get("agreements/missing").status.error_code(),
            grpc::StatusCode::NOT_FOUND);
  server.Shutdown();

  // The successful Apply is a debug record: not written at info.
  const std::vector<json> records = RequestRecords();
  ASSERT_EQ(records.size(), 1u) << AllLines();
  const json& record = records[0];
  EXPECT_EQ(record["level"], "info");
  EXPECT_EQ(record["method"], "/atlas.v1.Atlas/GetEntity");
  EXPECT_EQ(record["status"], "NOT_FOUND");
  EXPECT_TRUE(record["peer"].is_string());
  EXPECT_NE(record["peer"].get<std::string>().find("127.0.0.1"),
            std::string::npos)
      << record.dump();
  ASSERT_TRUE(record["duration_ms"].is_number());
  EXPECT_GE(record["duration_ms"].get<double>(), 0.0);
  EXPECT_NE(record["error"].get<std::string>().find("agreements/missing"),
            std::string::npos)
      << record.dump();
  for (const char* key : {"time", "level", "component", "message"}) {
    EXPECT_TRUE(record.contains(key)) << key;
  }
}

TEST_F(RequestLogTest, DebugLogsEveryCallButNeverMetadata) {
  Capture(log::Level::kDebug);
  testing::TestServer server;
  const std::string secret = "secret-token-9f8e7d";
  v1::GetEntityRequest request;
  request.set_name("agreements/missing");
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    context.AddMetadata("authorization", "Bearer " + secret);
    context.AddMetadata("x-atlas-note", secret);
    v1::GetEntityResponse response;
    server.stub().GetEntity(&context, request, &response);
  }
  testing::AtlasCalls calls(server.stub());
  ASSERT_TRUE(calls.Apply({testing::Topic("t0")}).ok());
  server.Shutdown();

  const std::vector<json> records = RequestRecords();
  int ok = 0;
  for (const json& record : records) {
    if (record["status"] == "OK") {
      ++ok;
      EXPECT_EQ(record["level"], "debug");
      EXPECT_EQ(record["method"], "/atlas.v1.Atlas/ApplyEntities");
      EXPECT_FALSE(record.contains("error"));
    }
  }
  EXPECT_EQ(ok, 1) << AllLines();
  EXPECT_GE(records.size(), 3u) << AllLines();
  EXPECT_EQ(AllLines().find(secret), std::string::npos)
      << "a metadata value reached the log:\n"
      << AllLines();
}

}  // namespace
}  // namespace atlas::services
