// Kills a child process that commits under load (SIGKILL) and checks, after
// reopening, that every acknowledged commit is there, no partial batch is
// visible and the change log has no gap.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "storage/store.h"
#include "tests/testing/entities.h"
#include "tests/testing/temp_dir.h"

namespace atlas::storage {
namespace {

constexpr int kWriters = 4;
constexpr int kBatch = 3;  // entities per commit

// The child is this test binary run again (a fresh process: RocksDB's and the
// sanitizers' threads do not survive fork), selecting the child test below.
// It commits forever; after each acknowledgement it writes one line
// "revision writer sequence\n" to `fd` (one write(2), atomic on a pipe).
[[noreturn]] void CommitForever(const std::string& path, int fd, int cycle) {
  StoreOptions options;
  options.path = path;
  auto store = Store::Open(options);
  if (!store.ok()) _exit(3);
  if ((*store)->CurrentRevision() == 0) {
    CommitRequest seed;
    seed.mutations.push_back(Mutation::Put(testing::Topic("cybersecurity")));
    if (!(*store)->Commit(std::move(seed)).ok()) _exit(4);
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int seq = 0;; ++seq) {
        CommitRequest request;
        const std::string tag = absl::StrCat(cycle, "-", w, "-", seq);
        for (int k = 0; k < kBatch; ++k) {
          request.mutations.push_back(Mutation::Put(testing::Agreement(
              absl::StrCat("w", w, "-k", k), {"cybersecurity"}, tag)));
        }
        auto result = (*store)->Commit(std::move(request));
        if (!result.ok()) _exit(5);
        const std::string line =
            absl::StrCat(result->revision, " ", w, " ", tag, "\n");
        if (write(fd, line.data(), line.size()) < 0) _exit(6);
      }
    });
  }
  for (auto& t : writers) t.join();
  _exit(0);
}

TEST(StoreCrashTest, AcknowledgedCommitsSurviveSigkill) {
  testing::TempDir dir;
  const std::string path = dir.Sub("db");
  std::mt19937 random(12345);
  for (int cycle = 0; cycle < 4; ++cycle) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, 0), 0);
    const std::string fd_env = absl::StrCat("ATLAS_CRASH_CHILD_FD=", fds[1]);
    const std::string db_env = absl::StrCat("ATLAS_CRASH_CHILD_DB=", path);
    const std::string cycle_env = absl::StrCat("ATLAS_CRASH_CHILD_CYCLE=", cycle);
    std::vector<std::string> env_strings = {fd_env, db_env, cycle_env};
    for (char** e = environ; *e != nullptr; ++e) env_strings.push_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    std::string filter = "--gtest_filter=StoreCrashChild.CommitForever";
    char* argv[] = {exe.data(), filter.data(), nullptr};
    pid_t child = 0;
    ASSERT_EQ(posix_spawn(&child, exe.c_str(), nullptr, nullptr, argv, envp.data()), 0);
    close(fds[1]);
    // Wait for the first acknowledgement (sanitizer builds start slowly),
    // let it run for a random moment more, then kill it mid-flight.
    std::string acks;
    char buffer[4096];
    while (acks.find('\n') == std::string::npos) {
      ssize_t n = read(fds[0], buffer, sizeof buffer);
      ASSERT_GT(n, 0) << "the child died before acknowledging a commit";
      acks.append(buffer, n);
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(100 + random() % 400));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early: " << status;
    for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) {
      acks.append(buffer, n);
    }
    close(fds[0]);

    StoreOptions options;
    options.path = path;
    auto store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    const uint64_t current = (*store)->CurrentRevision();
    int acknowledged = 0;
    for (absl::string_view line : absl::StrSplit(acks, '\n', absl::SkipEmpty())) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      ASSERT_EQ(parts.size(), 3u) << line;
      uint64_t revision = 0;
      ASSERT_TRUE(absl::SimpleAtoi(parts[0], &revision));
      ASSERT_LE(revision, current) << "acknowledged revision lost";
      for (int k = 0; k < kBatch; ++k) {
        auto got = (*store)->Get(absl::StrCat("agreements/w", parts[1], "-k", k),
                                 revision);
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_EQ(got->entity.agreement().summary(), parts[2]);
      }
      ++acknowledged;
    }
    EXPECT_GT(acknowledged, 0) << "cycle " << cycle << " acknowledged nothing";
    // Gap-free log; every batch complete (all its entities, same tag).
    auto log = (*store)->ReadChanges(1, 1'000'000);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_EQ(log->sets.size(), current);
    for (size_t i = 0; i < log->sets.size(); ++i) {
      const v1::ChangeSet& set = log->sets[i];
      ASSERT_EQ(set.revision(), i + 1);
      if (i == 0) continue;  // the topic seed
      ASSERT_EQ(set.changes_size(), kBatch) << "partial batch at " << i + 1;
      for (const auto& change : set.changes()) {
        EXPECT_EQ(change.entity().agreement().summary(),
                  set.changes(0).entity().agreement().summary());
      }
    }
  }
}

// Runs only as the child of the test above.
TEST(StoreCrashChild, CommitForever) {
  const char* db = getenv("ATLAS_CRASH_CHILD_DB");
  const char* fd = getenv("ATLAS_CRASH_CHILD_FD");
  const char* cycle = getenv("ATLAS_CRASH_CHILD_CYCLE");
  if (db == nullptr || fd == nullptr || cycle == nullptr) {
    GTEST_SKIP() << "only runs as the crash test's child process";
  }
  CommitForever(db, atoi(fd), atoi(cycle));
}

}  // namespace
}  // namespace atlas::storage
