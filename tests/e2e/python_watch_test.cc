// clients/python/atlas_watch.py (Debian's /usr/bin/python3 with
// python3-grpcio and python3-grpc-tools) against the real server.
// tests/clients/atlas_watch_test.py covers it against a fake service.

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"

namespace atlas::e2e {
namespace {

using PythonWatchTest = E2eTest;

TEST_F(PythonWatchTest, ReceivesAChangeAppliedAfterItStarts) {
  const std::string python = ATLAS_PYTHON;
  if (python.empty() || ::access(python.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "no system python3";
  }
  const uint64_t start = Revision();
  // --from-revision makes the start independent of how long the script
  // takes to generate its stubs and connect.
  absl::StatusOr<std::unique_ptr<Subprocess>> watcher = Subprocess::Start(
      {python, SourceDir() + "/clients/python/atlas_watch.py", "--server",
       server_address(), "--topic", "cybersecurity", "--max-events", "1",
       "--from-revision", absl::StrCat(start + 1)});
  ASSERT_TRUE(watcher.ok()) << watcher.status();

  Apply(NoteYaml("e2e-py-trade", "Trade note", {"e-commerce"}, "Outside."));
  Apply(NoteYaml("e2e-py-cyber", "Cyber note", {"cybersecurity"}, "Inside."));

  const std::optional<ExitCode> code = (*watcher)->Wait(absl::Seconds(60));
  EXPECT_EQ(code, 0) << DescribeExit(code) << "\nstderr:\n"
                     << (*watcher)->Stderr();
  EXPECT_EQ((*watcher)->Stdout(),
            absl::StrCat(start + 2, " CREATED documents/e2e-py-cyber\n"));
  EXPECT_EQ((*watcher)->Stderr(), "");
}

}  // namespace
}  // namespace atlas::e2e
