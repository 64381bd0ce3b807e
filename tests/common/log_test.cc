// common/log: every line is one JSON object (or one text line) with time,
// level, component, message and the record's fields, whatever the text.

#include "common/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"

namespace atlas::log {
namespace {

using nlohmann::json;

class LogTest : public ::testing::Test {
 protected:
  void Capture(Format format, Level min_level = Level::kInfo) {
    Options options;
    options.format = format;
    options.min_level = min_level;
    options.sink = [this](absl::string_view line) {
      atlas::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    };
    Configure(std::move(options));
  }
  void TearDown() override { Configure(Options()); }

  std::vector<std::string> Lines() {
    atlas::MutexLock lock(&mu_);
    return lines_;
  }

  atlas::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

TEST_F(LogTest, JsonRecordHasTheFieldsInOrder) {
  Capture(Format::kJson);
  Info("server", "listening", {{"address", "127.0.0.1:1"},
                               {"revision", uint64_t{42}},
                               {"duration_ms", 1.5},
                               {"seeded", true}});
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0].back(), '\n');
  EXPECT_EQ(lines[0].find('\n'), lines[0].size() - 1);
  const nlohmann::ordered_json record = nlohmann::ordered_json::parse(lines[0]);
  std::vector<std::string> keys;
  for (const auto& item : record.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"time", "level", "component",
                                            "message", "address", "revision",
                                            "duration_ms", "seeded"}));
  EXPECT_EQ(record["level"], "info");
  EXPECT_EQ(record["component"], "server");
  EXPECT_EQ(record["message"], "listening");
  EXPECT_EQ(record["revision"], 42);
  EXPECT_EQ(record["duration_ms"], 1.5);
  EXPECT_EQ(record["seeded"], true);
  // RFC 3339, UTC, milliseconds.
  const std::string time = record["time"];
  ASSERT_EQ(time.size(), 24u) << time;
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time.back(), 'Z');
}

TEST_F(LogTest, AnyTextStaysOneValidJsonLine) {
  Capture(Format::kJson);
  const std::string nasty =
      std::string("quote\" backslash\\ newline\n tab\t nul") + '\0' +
      " bell\a invalid-utf8 \xff\xfe end";
  Warning("request", nasty, {{"error", nasty}});
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find('\n'), lines[0].size() - 1) << lines[0];
  const json record = json::parse(lines[0]);
  EXPECT_EQ(record["level"], "warning");
  const std::string message = record["message"];
  EXPECT_EQ(message.substr(0, 30), nasty.substr(0, 30));
  EXPECT_NE(message.find("invalid-utf8 \xEF\xBF\xBD"), std::string::npos)
      << "invalid UTF-8 becomes U+FFFD";
  EXPECT_EQ(record["error"], record["message"]);
}

TEST_F(LogTest, LevelsBelowTheMinimumAreDropped) {
  Capture(Format::kJson, Level::kWarning);
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
  Debug("c", "debug");
  Info("c", "info");
  Warning("c", "warning");
  Error("c", "error");
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(json::parse(lines[0])["level"], "warning");
  EXPECT_EQ(json::parse(lines[1])["level"], "error");
}

TEST_F(LogTest, TextIsOneReadableLine) {
  Capture(Format::kText);
  Info("server", "listening on 127.0.0.1:1, data_dir /d",
       {{"address", "127.0.0.1:1"}, {"note", "two words"}, {"n", 3}});
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(" INFO server: listening on 127.0.0.1:1, data_dir "
                          "/d address=127.0.0.1:1 note=\"two words\" n=3\n"),
            std::string::npos)
      << lines[0];
}

TEST_F(LogTest, ConcurrentWritersNeverInterleave) {
  Capture(Format::kJson);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        Info("test", std::string(100, static_cast<char>('a' + t)),
             {{"i", i}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 800u);
  for (const std::string& line : lines) {
    EXPECT_TRUE(json::accept(line)) << line;
  }
}

TEST(LogNames, ParseRoundTrips) {
  for (Level level :
       {Level::kDebug, Level::kInfo, Level::kWarning, Level::kError}) {
    EXPECT_EQ(ParseLevel(LevelName(level)), level);
  }
  EXPECT_FALSE(ParseLevel("verbose").has_value());
  EXPECT_EQ(ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("text"), Format::kText);
  EXPECT_FALSE(ParseFormat("yaml").has_value());
}

}  // namespace
}  // namespace atlas::log
