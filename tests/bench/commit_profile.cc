// commit_profile: a fixed amount of commit work on one thread, for counting
// instructions under callgrind (repeatable whatever else the machine runs)
// and page faults / WAL bytes per commit. Not a throughput benchmark: see
// store_bench for that.
//
//   commit_profile MODE [COMMITS] [WARMUP] [ENTITY_BYTES]
//     MODE commit    one new ~1 KiB agreement per Store::Commit
//          batch100  100 new ~1 KiB agreements per Store::Commit
//          update    one changed ~1 KiB agreement per Store::Commit (the same
//                    100 names over and over)
//          apply     services::ApplyEntities with 100 new agreements (the
//                    service's write path without gRPC)
//          apply-basic  the same, asking for APPLY_VIEW_BASIC results
//   ENTITY_BYTES (default 1024) sets the size the ~1 KiB agreements have.
//
// Under valgrind only the measured commits are counted:
//   valgrind --tool=callgrind --instr-atstart=no build/tests/bench/commit_profile commit 2000
// and instructions/commit = the reported total / COMMITS.

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "atlas/v1/atlas_service.pb.h"
#include "services/entity_writes.h"
#include "storage/store.h"
#include "tests/testing/entities.h"
#include "tests/testing/temp_dir.h"

namespace atlas {
namespace {


std::string Id(int64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "t00-%010lld", static_cast<long long>(i));
  return buf;
}

// An agreement of about `entity_bytes` serialized (1024: the one
// store_bench commits).
v1::Entity Template(size_t entity_bytes) {
  v1::Entity e = testing::Agreement(Id(0));
  e.mutable_agreement()->set_summary("");
  const size_t base = e.ByteSizeLong();
  const size_t summary = entity_bytes > base + 2 ? entity_bytes - base - 2 : 1;
  e.mutable_agreement()->set_summary(std::string(summary, 's'));
  return e;
}

long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

uintmax_t WalBytes(const std::string& dir) {
  uintmax_t total = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    if (file.path().extension() == ".log") total += file.file_size();
  }
  return total;
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s commit|batch100|update|apply|apply-basic [COMMITS] "
                 "[WARMUP] [ENTITY_BYTES]\n",
                 argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const int64_t commits = argc > 2 ? std::atoll(argv[2]) : 2000;
  const int64_t warmup = argc > 3 ? std::atoll(argv[3]) : 200;
  const int64_t entity_bytes = argc > 4 ? std::atoll(argv[4]) : 1024;
  if (entity_bytes < 1) {
    std::fprintf(stderr, "ENTITY_BYTES must be positive\n");
    return 2;
  }
  const bool apply = mode == "apply" || mode == "apply-basic";
  const int per_commit = mode == "batch100" || apply ? 100 : 1;
  if (mode != "commit" && mode != "batch100" && mode != "update" && !apply) {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }

  testing::TempDir dir;
  storage::StoreOptions options;
  options.path = dir.Sub("store");
  options.sync_writes = true;
  auto opened = storage::Store::Open(std::move(options));
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  storage::Store& store = **opened;
  v1::Entity entity = Template(static_cast<size_t>(entity_bytes));
  int64_t next = 0;

  auto one = [&]() -> bool {
    if (apply) {
      v1::ApplyEntitiesRequest request;
      if (mode == "apply-basic") request.set_view(v1::APPLY_VIEW_BASIC);
      for (int m = 0; m < per_commit; ++m) {
        v1::Entity* e = request.add_entities();
        *e = entity;
        e->set_name("agreements/" + Id(next++));
      }
      auto response = services::WaitForWrite(services::ApplyEntities, store,
                                             std::move(request));
      if (!response.ok()) {
        std::fprintf(stderr, "%s\n", response.status().ToString().c_str());
        return false;
      }
      return true;
    }
    storage::CommitRequest request;
    request.mutations.reserve(per_commit);
    for (int m = 0; m < per_commit; ++m) {
      if (mode == "update") {
        const int64_t i = next++;
        entity.set_name("agreements/" + Id(i % 100));
        entity.set_title("Agreement " + std::to_string(i));
      } else {
        entity.set_name("agreements/" + Id(next++));
      }
      request.mutations.push_back(storage::Mutation::Put(entity));
    }
    auto result = store.Commit(std::move(request));
    if (!result.ok()) {
      std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
      return false;
    }
    return true;
  };

  for (int64_t i = 0; i < warmup; ++i) {
    if (!one()) return 1;
  }
  const uintmax_t wal_before = WalBytes(dir.Sub("store"));
  const long faults_before = MinorFaults();
  const auto start = std::chrono::steady_clock::now();
  CALLGRIND_START_INSTRUMENTATION;
  for (int64_t i = 0; i < commits; ++i) {
    if (!one()) return 1;
  }
  CALLGRIND_STOP_INSTRUMENTATION;
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const long faults = MinorFaults() - faults_before;
  const uintmax_t wal = WalBytes(dir.Sub("store")) - wal_before;
  const double us =
      std::chrono::duration<double, std::micro>(elapsed).count() / commits;
  std::printf(
      "mode=%s commits=%lld entities/commit=%d us/commit=%.1f "
      "minor_faults/commit=%.2f wal_bytes/commit=%.0f\n",
      mode.c_str(), static_cast<long long>(commits), per_commit, us,
      static_cast<double>(faults) / commits,
      static_cast<double>(wal) / commits);
  return 0;
}

}  // namespace
}  // namespace atlas

int main(int argc, char** argv) { return atlas::Main(argc, argv); }
