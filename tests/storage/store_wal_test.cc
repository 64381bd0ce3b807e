// The store bounds its write-ahead log: once the live WAL files pass
// StoreOptions::max_wal_bytes, the column families that still have data in
// the oldest file are flushed, so that it can be deleted. Without a bound,
// RocksDB keeps every WAL file that a rarely written column family (meta,
// history, index) still needs, gigabytes of them under steady writes.

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/storage/store_fixture.h"

namespace atlas::storage {
namespace {

// Bytes of the live WAL files (RocksDB's *.log) in `path`.
uint64_t LiveWalBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".log") total += entry.file_size();
  }
  return total;
}

class StoreWalTest : public StoreTest {
 protected:
  // Commits 1,000 documents of 8 KiB, 10 a commit (the log holds each
  // twice: as the entity and in the change log).
  void WriteThousandDocuments() {
    int next = 0;
    for (int commit = 0; commit < 100; ++commit) {
      std::vector<v1::Entity> batch;
      for (int i = 0; i < 10; ++i) {
        v1::Entity document = testing::Document(
            "wal-" + std::to_string(next), "WT/WAL/" + std::to_string(next));
        ++next;
        document.mutable_document()->set_summary(std::string(8 << 10, 's'));
        batch.push_back(std::move(document));
      }
      Put(std::move(batch));
    }
  }

  // The live WAL's size, waiting at most 10 s for it to reach `bound`
  // (flushes and the deletion of obsolete files run in the background).
  uint64_t SettledWalBytes(uint64_t bound) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    uint64_t bytes = LiveWalBytes(Options().path);
    while (bytes > bound && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      bytes = LiveWalBytes(Options().path);
    }
    return bytes;
  }
};

TEST_F(StoreWalTest, LiveWalStaysNearItsBound) {
  StoreOptions options = Options();
  options.max_wal_bytes = 1 << 20;
  Reopen(options);
  WriteThousandDocuments();
  // The bound is checked before each write, and a file is deleted once the
  // flushes it waits for are done, so the writes made meanwhile (about 1.5
  // MiB seen here) pass it: a few MiB, against the 16 MB kept below.
  EXPECT_LE(SettledWalBytes(4 << 20), uint64_t{4} << 20);
  // Nothing was lost on the way.
  auto last = store_->Get("documents/wal-999");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->entity.document().summary().size(), size_t{8} << 10);
}

// What the bound is for: left to RocksDB (0), the WAL keeps it all.
TEST_F(StoreWalTest, WithoutABoundTheWalKeepsEverything) {
  StoreOptions options = Options();
  options.max_wal_bytes = 0;
  Reopen(options);
  WriteThousandDocuments();
  EXPECT_GE(LiveWalBytes(options.path), uint64_t{1000} * 2 * (8 << 10));
}

}  // namespace
}  // namespace atlas::storage
