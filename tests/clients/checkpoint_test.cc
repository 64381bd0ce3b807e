#include "clients/checkpoint.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace atlas::client {
namespace {

TEST(CheckpointTest, MissingFileMeansNoCheckpoint) {
  atlas::testing::TempDir dir;
  absl::StatusOr<std::optional<uint64_t>> read =
      ReadCheckpoint(dir.path() + "/watch.checkpoint");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->has_value());
}

TEST(CheckpointTest, WritesAtomicallyAndReadsBack) {
  atlas::testing::TempDir dir;
  const std::string path = dir.path() + "/watch.checkpoint";
  ASSERT_TRUE(WriteCheckpoint(path, 41).ok());
  ASSERT_TRUE(WriteCheckpoint(path, 18446744073709551615ull).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::ifstream file(path);
  std::string text((std::istreambuf_iterator<char>(file)),
                   std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "18446744073709551615\n");
  absl::StatusOr<std::optional<uint64_t>> read = ReadCheckpoint(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, 18446744073709551615ull);
}

TEST(CheckpointTest, RejectsAFileThatIsNotARevision) {
  atlas::testing::TempDir dir;
  for (const char* text : {"", "abc\n", "-1\n", "12 13\n"}) {
    const std::string path = dir.Write("bad.checkpoint", text);
    absl::StatusOr<std::optional<uint64_t>> read = ReadCheckpoint(path);
    ASSERT_FALSE(read.ok()) << text;
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(read.status().message().find(path), std::string::npos);
  }
}

TEST(CheckpointTest, ReportsAnUnwritableLocation) {
  atlas::testing::TempDir dir;
  const absl::Status status =
      WriteCheckpoint(dir.path() + "/no/such/dir/checkpoint", 1);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("cannot create"), std::string::npos)
      << status;
}

}  // namespace
}  // namespace atlas::client
