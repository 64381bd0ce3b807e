// Store::Backup: a consistent online copy that opens as a store, taken while
// writers run, and the rules for its target directory.

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "storage/store.h"
#include "tests/storage/store_fixture.h"

namespace atlas::storage {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<v1::Entity> ListAll(Store& store) {
  std::vector<v1::Entity> all;
  ListQuery query;
  query.page_size = 1000;
  while (true) {
    absl::StatusOr<ListPage> page = store.List(query);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return all;
    for (auto& e : page->entities) all.push_back(std::move(e));
    if (page->next_page_token.empty()) return all;
    query.page_token = page->next_page_token;
  }
}

std::unique_ptr<Store> OpenAt(const std::string& path) {
  StoreOptions options;
  options.path = path;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// The restored store equals the source as of `revision`: the same entities
// (each as the source reads it at `revision`), and the same gap-free change
// log 1..revision.
void ExpectRestoredAt(Store& source, Store& restored, uint64_t revision) {
  ASSERT_EQ(restored.CurrentRevision(), revision);
  for (const v1::Entity& entity : ListAll(restored)) {
    absl::StatusOr<EntityRead> then = source.Get(entity.name(), revision);
    ASSERT_TRUE(then.ok()) << entity.name() << ": " << then.status();
    EXPECT_TRUE(MessageDifferencer::Equals(then->entity, entity))
        << entity.name();
  }
  absl::StatusOr<ChangeRead> restored_log = restored.ReadChanges(1, 1 << 20);
  ASSERT_TRUE(restored_log.ok()) << restored_log.status();
  ASSERT_EQ(restored_log->sets.size(), revision);
  absl::StatusOr<ChangeRead> source_log = source.ReadChanges(1, revision);
  ASSERT_TRUE(source_log.ok()) << source_log.status();
  for (uint64_t i = 0; i < revision; ++i) {
    ASSERT_EQ(restored_log->sets[i].revision(), i + 1);
    EXPECT_TRUE(
        MessageDifferencer::Equals(restored_log->sets[i], source_log->sets[i]))
        << "revision " << i + 1;
    // Every entity the change log created or updated by `revision` and that
    // still exists then is in the restored store.
    for (const v1::Change& change : restored_log->sets[i].changes()) {
      absl::StatusOr<EntityRead> then =
          source.Get(change.entity().name(), revision);
      absl::StatusOr<EntityRead> now = restored.Get(change.entity().name());
      EXPECT_EQ(then.ok(), now.ok()) << change.entity().name();
    }
  }
}

TEST_F(StoreTest, BackupOpensAsTheStoreAtItsRevision) {
  SeedTopics();
  Put(testing::Agreement("tbt", {"digital-standards"}));
  Put(testing::Agreement("tbt", {"digital-standards", "e-commerce"}));
  ASSERT_TRUE(Try(Mutation::Delete("topics/cybersecurity")).ok());

  absl::StatusOr<BackupResult> backup = store_->Backup(dir_.Sub("backup"));
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->revision, 4u);
  EXPECT_EQ(backup->directory, dir_.Sub("backup"));
  EXPECT_GT(backup->bytes, 0u);

  std::unique_ptr<Store> restored = OpenAt(backup->directory);
  ASSERT_NE(restored, nullptr);
  ExpectRestoredAt(*store_, *restored, 4);
  EXPECT_EQ(restored->Get("topics/cybersecurity").status().code(),
            absl::StatusCode::kNotFound);
  // The restored store writes on from the next revision.
  CommitRequest request;
  request.mutations.push_back(Mutation::Put(testing::Agreement("gats")));
  absl::StatusOr<CommitResult> next = restored->Commit(std::move(request));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->revision, 5u);
}

TEST_F(StoreTest, BackupWhileWritersRunIsConsistent) {
  SeedTopics();
  constexpr int kWriters = 4;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop.load(); ++i) {
        CommitRequest request;
        request.mutations.push_back(Mutation::Put(testing::Document(
            absl::StrCat("w", w, "-", i % 40), absl::StrCat("S/", i),
            {"e-commerce"})));
        if (i % 7 == 3) {
          request.mutations.push_back(Mutation::Delete(
              absl::StrCat("documents/w", w, "-", (i + 13) % 40),
              Expect::kAny));
        }
        if (!store_->Commit(std::move(request)).ok()) failures.fetch_add(1);
      }
    });
  }
  // Backups while the writers run; each must be a consistent cut.
  std::vector<BackupResult> backups;
  while (backups.size() < 3) {
    if (store_->CurrentRevision() < 50 * (backups.size() + 1)) {
      std::this_thread::yield();
      continue;
    }
    absl::StatusOr<BackupResult> backup =
        store_->Backup(dir_.Sub(absl::StrCat("backup-", backups.size())));
    ASSERT_TRUE(backup.ok()) << backup.status();
    backups.push_back(*backup);
  }
  stop.store(true);
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);

  uint64_t previous = 0;
  for (const BackupResult& backup : backups) {
    EXPECT_GT(backup.revision, previous);
    previous = backup.revision;
    std::unique_ptr<Store> restored = OpenAt(backup.directory);
    ASSERT_NE(restored, nullptr);
    ExpectRestoredAt(*store_, *restored, backup.revision);
    CommitRequest request;
    request.mutations.push_back(Mutation::Put(testing::Agreement("after")));
    absl::StatusOr<CommitResult> next = restored->Commit(std::move(request));
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(next->revision, backup.revision + 1);
  }
}

TEST_F(StoreTest, BackupRefusesANonEmptyDirectoryAndChangesNothing) {
  SeedTopics();
  const std::string target = dir_.Sub("taken");
  dir_.Write("taken/keep", "data");
  absl::StatusOr<BackupResult> backup = store_->Backup(target);
  ASSERT_EQ(backup.status().code(), absl::StatusCode::kFailedPrecondition)
      << backup.status();
  EXPECT_THAT(std::string(backup.status().message()), StartsWith("directory: "));
  EXPECT_THAT(std::string(backup.status().message()), HasSubstr("not empty"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(target),
                          std::filesystem::directory_iterator()),
            1);

  const std::string file = dir_.Write("a-file", "data");
  EXPECT_EQ(store_->Backup(file).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Backup("").status().code(),
            absl::StatusCode::kInvalidArgument);
  // The store itself is a non-empty directory: never overwritten.
  EXPECT_EQ(store_->Backup(dir_.Sub("db")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(StoreTest, BackupFillsAnEmptyDirectoryAndResolvesRelativePaths) {
  SeedTopics();
  const std::string empty = dir_.Sub("empty");
  std::filesystem::create_directories(empty);
  absl::StatusOr<BackupResult> backup = store_->Backup(empty);
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->revision, 1u);

  const std::filesystem::path relative = std::filesystem::relative(
      dir_.Sub("nested/relative"), std::filesystem::current_path());
  ASSERT_TRUE(relative.is_relative());
  backup = store_->Backup(relative.string());
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->directory, dir_.Sub("nested/relative"));
  std::unique_ptr<Store> restored = OpenAt(backup->directory);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->CurrentRevision(), 1u);
}

}  // namespace
}  // namespace atlas::storage
