#pragma once

// E2eTest: a fresh data directory per test, the real atlas-server seeded
// with data/wto on a free 127.0.0.1 port, and the real atlasctl against it.
// Plus parsers for atlasctl's JSON output (Protobuf's own JSON parser, not
// the codec under test).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "atlas/v1/atlas_service.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_process.h"
#include "tests/e2e/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace atlas::e2e {

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // On failure, shows the server's log.
  void TearDown() override;

  // Starts the server on data_dir() (seeded from data/wto when empty); after
  // a StopServer(), on the same port as before.
  void StartServer();
  // SIGTERM; the exit code (nullopt if it did not exit in time).
  std::optional<ExitCode> StopServer();

  // Runs atlasctl --server ADDRESS ARGS... to completion.
  ProcessResult Atlasctl(const std::vector<std::string>& args);
  // Starts atlasctl --server ADDRESS ARGS... in the background.
  std::unique_ptr<Subprocess> StartAtlasctl(
      const std::vector<std::string>& args);

  // Writes `yaml` to a new file and applies it; a test failure unless
  // atlasctl succeeds. Its stdout ("NAME created" ...).
  std::string Apply(const std::string& yaml);

  // The server's current revision (0 and a test failure if unreadable).
  uint64_t Revision();

  // Writes `text` to a file in the test's directory; its path.
  std::string WriteFile(const std::string& name, const std::string& text);
  std::string ReadFile(const std::string& path);

  std::string data_dir() const { return dir_.Sub("data"); }
  const std::string& server_address() const { return address_; }
  // The running server's process id (0 if none).
  int server_pid() const { return server_ ? server_->process().pid() : 0; }
  const atlas::testing::TempDir& dir() const { return dir_; }

  // A derived fixture may change these in its constructor; SetUp() sets
  // the data and seed directories.
  ServerOptions server_options_;

 private:
  atlas::testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string address_;
  int applied_files_ = 0;
};

// A document entity "documents/ID" as YAML, for apply -f.
std::string NoteYaml(const std::string& id, const std::string& title,
                     const std::vector<std::string>& topics,
                     const std::string& summary);

// `yaml` (as `get -o yaml` prints it) with its top-level title replaced.
std::string WithTitle(const std::string& yaml, const std::string& title);

// atlasctl output parsed with Protobuf's JSON parser.
absl::StatusOr<atlas::v1::Entity> ParseEntityJson(const std::string& json);
absl::StatusOr<std::vector<atlas::v1::Entity>> ParseEntityListJson(
    const std::string& json);
// One WatchResponse JSON object per line (watch -o json); their events.
absl::StatusOr<std::vector<atlas::v1::WatchEvent>> ParseWatchLines(
    const std::string& text);
// The revisions of `events`, in order.
std::vector<uint64_t> Revisions(const std::vector<atlas::v1::WatchEvent>& e);
// Number of complete lines.
size_t LineCount(const std::string& text);

// Polls `done` every 20 ms until it holds or `timeout` passes; its last
// value. For state outside the test's reach (files another process writes).
bool PollUntil(const std::function<bool()>& done, absl::Duration timeout);

// For failure messages.
std::string Describe(const ProcessResult& result);

// The entities of data/wto, as the files define them.
std::vector<atlas::v1::Entity> DatasetEntities();

// Expects a failed atlasctl run: exit 1, nothing on stdout, exactly one line
// on stderr starting with "atlasctl: " and containing every one of `words`.
void ExpectOneLineFailure(const ProcessResult& result,
                          const std::vector<std::string>& words);

}  // namespace atlas::e2e
