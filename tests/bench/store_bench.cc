// store_bench: durable commits per second through Store::Commit (group
// commit) with 1, 8 and 64 concurrent committers, next to raw RocksDB doing
// the same durable (WriteOptions::sync) puts. Entities are ~1 KiB agreements.
//
// Every run (Google Benchmark runs each benchmark several times to settle the
// iteration count, then once per repetition) gets a fresh database in a fresh
// temporary directory. Thread 0 creates it in SetUp and destroys it in
// TearDown; the other threads of the run only use it inside the timed loop,
// which Google Benchmark starts and ends with a barrier across the run's
// threads, so every thread sees the database and none uses it after TearDown.
//
// items_per_second is the total over all threads: commits/s for
// BM_StoreCommit and BM_RawRocksDbPut, entities/s for BM_StoreCommitBatch100.
//
// See docs/benchmarks.md for the build and run commands and the figures.

#include <cstdio>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "atlas/v1/entity.pb.h"
#include "storage/store.h"
#include "tests/testing/entities.h"
#include "tests/testing/temp_dir.h"

namespace atlas {
namespace {

constexpr size_t kEntityBytes = 1024;

// Unique, valid slug for thread `thread`, sequence `i`.
std::string Id(int thread, int64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "t%02d-%010lld", thread,
                static_cast<long long>(i));
  return buf;
}

// An agreement whose serialized input is ~kEntityBytes (the name is the same
// length for every id).
v1::Entity Template(int thread) {
  v1::Entity e = testing::Agreement(Id(thread, 0));
  e.mutable_agreement()->set_summary("");
  const size_t base = e.ByteSizeLong();
  // The summary's length prefix takes 2 bytes at this size.
  const size_t summary = kEntityBytes > base + 2 ? kEntityBytes - base - 2 : 1;
  e.mutable_agreement()->set_summary(std::string(summary, 's'));
  return e;
}

class StoreFixture : public benchmark::Fixture {
 public:
  void SetUp(benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    dir_ = std::make_unique<testing::TempDir>();
    storage::StoreOptions options;
    options.path = dir_->Sub("store");
    options.sync_writes = true;  // durable: WAL synced before the ack
    auto store = storage::Store::Open(std::move(options));
    if (!store.ok()) {
      state.SkipWithError(std::string(store.status().message()).c_str());
      return;
    }
    store_ = std::move(*store);
  }

  void TearDown(benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    store_.reset();
    dir_.reset();
  }

 protected:
  // Commits `per_commit` new entities per iteration, one commit each.
  void Run(benchmark::State& state, int per_commit) {
    const int thread = state.thread_index();
    v1::Entity entity = Template(thread);
    int64_t next = 0;
    for (auto _ : state) {
      if (store_ == nullptr) {
        state.SkipWithError("store did not open");
        break;
      }
      storage::CommitRequest request;
      request.mutations.reserve(per_commit);
      for (int m = 0; m < per_commit; ++m) {
        entity.set_name("agreements/" + Id(thread, next++));
        request.mutations.push_back(storage::Mutation::Put(entity));
      }
      auto result = store_->Commit(std::move(request));
      if (!result.ok()) {
        state.SkipWithError(std::string(result.status().message()).c_str());
        break;
      }
      benchmark::DoNotOptimize(result->revision);
    }
    state.SetItemsProcessed(state.iterations() * per_commit);
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<storage::Store> store_;
};

// One single-entity durable commit per iteration.
BENCHMARK_DEFINE_F(StoreFixture, BM_StoreCommit)(benchmark::State& state) {
  Run(state, 1);
}
BENCHMARK_REGISTER_F(StoreFixture, BM_StoreCommit)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime();

// One durable commit of 100 entities per iteration; items are entities.
BENCHMARK_DEFINE_F(StoreFixture, BM_StoreCommitBatch100)
(benchmark::State& state) { Run(state, 100); }
BENCHMARK_REGISTER_F(StoreFixture, BM_StoreCommitBatch100)
    ->Threads(1)
    ->Threads(8)
    ->UseRealTime();

class RawRocksDbFixture : public benchmark::Fixture {
 public:
  void SetUp(benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    dir_ = std::make_unique<testing::TempDir>();
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    rocksdb::Status status = rocksdb::DB::Open(options, dir_->Sub("raw"), &db);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
    db_.reset(db);
  }

  void TearDown(benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    if (db_ != nullptr) db_->Close();
    db_.reset();
    dir_.reset();
  }

 protected:
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

// One synced rocksdb::DB::Put of a 1 KiB value under a unique key.
BENCHMARK_DEFINE_F(RawRocksDbFixture, BM_RawRocksDbPut)
(benchmark::State& state) {
  const int thread = state.thread_index();
  const std::string value(kEntityBytes, 'v');
  rocksdb::WriteOptions write;
  write.sync = true;
  int64_t next = 0;
  for (auto _ : state) {
    if (db_ == nullptr) {
      state.SkipWithError("database did not open");
      break;
    }
    rocksdb::Status status = db_->Put(write, Id(thread, next++), value);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_REGISTER_F(RawRocksDbFixture, BM_RawRocksDbPut)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime();

}  // namespace
}  // namespace atlas

BENCHMARK_MAIN();
