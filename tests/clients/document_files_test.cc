#include "proto/document_files.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace atlas::documents {
namespace {

TEST(DocumentFilesTest, ReadsADirectoryRecursivelyInPathOrder) {
  atlas::testing::TempDir dir;
  dir.Write("z.yml", "name: members/z\nmember: {}\n");
  dir.Write(
      "a/b.yaml",
      "name: members/b1\nmember: {}\n---\nname: members/b2\nmember: {}\n");
  dir.Write("a/c/d.json", "[{\"name\": \"members/d\", \"member\": {}}]");
  dir.Write("a/notes.txt", "not a document");
  dir.Write(".hidden.yaml", "this: is ignored");
  dir.Write(".git/x.yaml", "this: is ignored");

  absl::StatusOr<std::vector<std::string>> files =
      ListDocumentFiles(dir.path());
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0], dir.path() + "/a/b.yaml");
  EXPECT_EQ((*files)[1], dir.path() + "/a/c/d.json");
  EXPECT_EQ((*files)[2], dir.path() + "/z.yml");

  absl::StatusOr<std::vector<DecodedEntity>> entities =
      LoadEntities(dir.path());
  ASSERT_TRUE(entities.ok()) << entities.status();
  std::vector<std::string> names;
  for (const DecodedEntity& decoded : *entities) {
    names.push_back(decoded.entity.name());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"members/b1", "members/b2",
                                             "members/d", "members/z"}));
  EXPECT_EQ((*entities)[1].origin.file, dir.path() + "/a/b.yaml");
  EXPECT_EQ((*entities)[1].origin.index, 2);
}

TEST(DocumentFilesTest, AFileIsReadWhateverItsExtension) {
  atlas::testing::TempDir dir;
  const std::string file =
      dir.Write("entity.txt", "name: members/eu\nmember: {}\n");
  absl::StatusOr<std::vector<DecodedEntity>> entities = LoadEntities(file);
  ASSERT_TRUE(entities.ok()) << entities.status();
  ASSERT_EQ(entities->size(), 1u);
  EXPECT_EQ((*entities)[0].origin.file, file);
}

TEST(DocumentFilesTest, ErrorsNameTheFile) {
  atlas::testing::TempDir dir;
  const std::string bad = dir.Write("sub/bad.yaml", "name: x\ntitel: y\n");
  absl::StatusOr<std::vector<DecodedEntity>> entities =
      LoadEntities(dir.path());
  ASSERT_FALSE(entities.ok());
  EXPECT_EQ(
      entities.status().message(),
      bad + ":2:1: document 1: no such field \"titel\" in atlas.v1.Entity");

  absl::StatusOr<std::vector<DecodedEntity>> missing =
      LoadEntities(dir.path() + "/nope.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.yaml"), std::string::npos);
}

}  // namespace
}  // namespace atlas::documents
