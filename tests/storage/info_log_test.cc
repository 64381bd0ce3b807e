// InfoLogFile, RocksDB's LOG in the store directory: it rotates while the
// store runs, so a long-running server's log stays bounded.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "storage/disk_full.h"
#include "tests/testing/temp_dir.h"

namespace atlas::storage {
namespace {

std::string Contents(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Log(InfoLogFile& log, int line) {
  rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, &log, "line %04d %s", line,
               std::string(60, 'x').c_str());
}

TEST(InfoLogTest, RotatesWhileRunningAndKeepsOneOldFile) {
  testing::TempDir dir;
  const std::string path = dir.Sub("LOG");
  {
    InfoLogFile log(path, rocksdb::InfoLogLevel::INFO_LEVEL,
                    /*rotate_bytes=*/1000);
    for (int line = 0; line < 100; ++line) Log(log, line);
  }
  // Each line is about 100 bytes, so the log rotated about ten times; only
  // the last two files are left, each past the limit by at most one line.
  EXPECT_LE(std::filesystem::file_size(path), 1200u);
  EXPECT_GT(std::filesystem::file_size(path + ".old"), 1000u);
  EXPECT_LE(std::filesystem::file_size(path + ".old"), 1200u);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 2);
  // The newest lines are in LOG, the ones just before them in LOG.old.
  EXPECT_NE(Contents(path).find("line 0099 "), std::string::npos);
  EXPECT_EQ(Contents(path).find("line 0000 "), std::string::npos);
  const std::string old = Contents(path + ".old");
  EXPECT_EQ(old.find("line 0099 "), std::string::npos);
  EXPECT_EQ(old.find("line 0000 "), std::string::npos);
}

TEST(InfoLogTest, AppendsAcrossRestartsUntilTheLimit) {
  testing::TempDir dir;
  const std::string path = dir.Sub("LOG");
  {
    InfoLogFile log(path, rocksdb::InfoLogLevel::INFO_LEVEL, 1000);
    Log(log, 1);
  }
  {
    InfoLogFile log(path, rocksdb::InfoLogLevel::INFO_LEVEL, 1000);
    Log(log, 2);
  }
  const std::string text = Contents(path);
  EXPECT_NE(text.find("line 0001 "), std::string::npos) << text;
  EXPECT_NE(text.find("line 0002 "), std::string::npos) << text;
  EXPECT_FALSE(std::filesystem::exists(path + ".old"));
}

}  // namespace
}  // namespace atlas::storage
