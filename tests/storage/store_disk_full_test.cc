// A full disk: on a small tmpfs, commits fail with RESOURCE_EXHAUSTED naming
// the full disk and consume no revision, reads keep working, and once space
// is freed commits succeed again (without a restart) and the store reopens
// intact. Needs mount(2) (root); skipped with the reason otherwise.

#include <sys/mount.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "storage/store.h"
#include "tests/testing/disk_full_volume.h"
#include "tests/testing/entities.h"
#include "tests/testing/temp_dir.h"

namespace atlas::storage {
namespace {

using ::testing::HasSubstr;

// A document whose payload makes each commit a few KiB.
v1::Entity BigDocument(int i) {
  v1::Entity e = testing::Document(absl::StrCat("d", i), absl::StrCat("S/", i),
                                   {"e-commerce"});
  e.mutable_document()->set_summary(std::string(4000, 'x'));
  return e;
}

absl::StatusOr<CommitResult> PutOne(Store& store, v1::Entity entity) {
  CommitRequest request;
  request.mutations.push_back(Mutation::Put(std::move(entity)));
  return store.Commit(std::move(request));
}

TEST(StoreDiskFullTest, WritesFailCleanlyAndResumeOnceSpaceIsFreed) {
  testing::TempDir dir;
  testing::DiskFullVolume volume(dir.Sub("volume"), "16m");
  if (!volume.mounted()) GTEST_SKIP() << volume.skip_reason();

  StoreOptions options;
  options.path = volume.path() + "/db";
  options.resume_interval = absl::Milliseconds(20);
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<Store> store = std::move(*opened);
  {
    CommitRequest request;
    request.mutations.push_back(Mutation::Put(testing::Topic("e-commerce")));
    ASSERT_TRUE(store->Commit(std::move(request)).ok());
  }
  int next_doc = 0;
  for (; next_doc < 50; ++next_doc) {
    absl::StatusOr<CommitResult> result = PutOne(*store, BigDocument(next_doc));
    ASSERT_TRUE(result.ok()) << result.status();
  }
  const uint64_t before_full = store->CurrentRevision();

  volume.Fill();
  // The first commits may still fit in space RocksDB holds; soon one fails.
  absl::Status failure;
  std::vector<int> acknowledged;
  for (int i = 0; i < 5000 && failure.ok(); ++i, ++next_doc) {
    absl::StatusOr<CommitResult> result = PutOne(*store, BigDocument(next_doc));
    if (result.ok()) {
      acknowledged.push_back(next_doc);
    } else {
      failure = result.status();
    }
  }
  ASSERT_FALSE(failure.ok()) << "the disk never filled up";
  EXPECT_EQ(failure.code(), absl::StatusCode::kResourceExhausted) << failure;
  EXPECT_THAT(std::string(failure.message()), HasSubstr("disk full"));
  const uint64_t last_good = store->CurrentRevision();
  EXPECT_EQ(last_good, before_full + acknowledged.size());

  // Still full: writes keep failing the same way and change nothing.
  absl::StatusOr<CommitResult> again = PutOne(*store, BigDocument(next_doc));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kResourceExhausted)
      << again.status();
  EXPECT_EQ(store->CurrentRevision(), last_good);
  // Reads go on: an entity, a listing, the change log.
  EXPECT_TRUE(store->Get("documents/d0").ok());
  ListQuery query;
  query.kind = "document";
  query.page_size = 1000;
  absl::StatusOr<ListPage> page = store->List(query);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->entities.size(), 50 + acknowledged.size());
  absl::StatusOr<ChangeRead> log = store->ReadChanges(1, 1 << 20);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->sets.size(), last_good);

  volume.Free();
  // The store resumes writes in the background; the next commits succeed
  // once it has (no restart), at the next revision.
  absl::StatusOr<CommitResult> resumed = absl::UnknownError("not tried");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (!resumed.ok() && std::chrono::steady_clock::now() < give_up) {
    resumed = PutOne(*store, testing::Agreement("after-full", {"e-commerce"}));
    if (!resumed.ok()) {
      ASSERT_EQ(resumed.status().code(), absl::StatusCode::kResourceExhausted)
          << resumed.status();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->revision, last_good + 1);

  // Nothing corrupted: the reopened store has every acknowledged write, none
  // of the failed ones, and a gap-free change log.
  store.reset();
  opened = Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  store = std::move(*opened);
  EXPECT_EQ(store->CurrentRevision(), last_good + 1);
  for (int doc : acknowledged) {
    EXPECT_TRUE(store->Get(absl::StrCat("documents/d", doc)).ok()) << doc;
  }
  const int failed_doc = acknowledged.empty() ? 50 : acknowledged.back() + 1;
  EXPECT_EQ(store->Get(absl::StrCat("documents/d", failed_doc)).status().code(),
            absl::StatusCode::kNotFound);
  log = store->ReadChanges(1, 1 << 20);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->sets.size(), last_good + 1);
  for (size_t i = 0; i < log->sets.size(); ++i) {
    EXPECT_EQ(log->sets[i].revision(), i + 1);
  }
  EXPECT_TRUE(store->Get("agreements/after-full").ok());
  store.reset();
}

}  // namespace
}  // namespace atlas::storage
