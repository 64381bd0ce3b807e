// atlasctl watch against the real server: filtered delivery, checkpoint
// resume across a server restart and across a client restart, and a
// SIGTERM'd server draining open watches.

#include <signal.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"

namespace atlas::e2e {
namespace {

using atlas::v1::WatchEvent;
using ::testing::ElementsAre;

// The complete lines of `text` (a line still being written is left out).
std::string CompleteLines(const std::string& text) {
  const size_t end = text.rfind('\n');
  return end == std::string::npos ? "" : text.substr(0, end + 1);
}

// Waits until `watcher` has printed at least `count` events; the events it
// has printed by then.
std::vector<WatchEvent> AwaitEvents(Subprocess& watcher, size_t count) {
  watcher.AwaitStdout(
      [count](const std::string& out) {
        absl::StatusOr<std::vector<WatchEvent>> events =
            ParseWatchLines(CompleteLines(out));
        return events.ok() && events->size() >= count;
      },
      kEventTimeout);
  absl::StatusOr<std::vector<WatchEvent>> events =
      ParseWatchLines(CompleteLines(watcher.Stdout()));
  EXPECT_TRUE(events.ok()) << events.status();
  if (!events.ok()) return {};
  EXPECT_GE(events->size(), count) << "watch printed:\n"
                                   << watcher.Stdout() << "\nstderr:\n"
                                   << watcher.Stderr();
  return *events;
}

std::optional<uint64_t> CheckpointValue(const std::string& text) {
  uint64_t revision = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &revision)) {
    return std::nullopt;
  }
  return revision;
}

// "REVISION TYPE NAME" of an event, for readable comparisons.
std::string Summary(const WatchEvent& event) {
  return absl::StrCat(event.change().revision(), " ",
                      atlas::v1::ChangeType_Name(event.change().type()), " ",
                      event.change().entity().name());
}

std::vector<std::string> Summaries(const std::vector<WatchEvent>& events) {
  std::vector<std::string> lines;
  for (const WatchEvent& event : events) lines.push_back(Summary(event));
  return lines;
}

class WatchTest : public E2eTest {
 protected:
  // Waits until the checkpoint file holds `revision`.
  bool AwaitCheckpoint(const std::string& path, uint64_t revision) {
    return PollUntil(
        [&] { return CheckpointValue(ReadFile(path)) == revision; },
        kEventTimeout);
  }

  // Stops a watcher that runs until stopped: atlasctl has no SIGTERM
  // handler, so it dies of the signal.
  void StopWatcher(Subprocess& watcher) {
    watcher.Signal(SIGTERM);
    EXPECT_EQ(watcher.Wait(kCommandTimeout), 128 + SIGTERM) << "stderr:\n"
                                                            << watcher.Stderr();
  }
};

TEST_F(WatchTest, DeliversExactlyTheChangesInTheTopic) {
  const uint64_t start = Revision();
  // --from-revision makes the start independent of when the stream is
  // established; every change below is applied while the watch runs.
  std::unique_ptr<Subprocess> watcher =
      StartAtlasctl({"watch", "-o", "json", "--topic", "cybersecurity",
                     "--from-revision", absl::StrCat(start + 1)});
  ASSERT_NE(watcher, nullptr);

  Apply(NoteYaml("e2e-cyber", "Cyber note", {"cybersecurity"}, "In topic."));
  Apply(NoteYaml("e2e-trade", "Trade note", {"e-commerce"}, "Outside."));
  const ProcessResult read = Atlasctl(
      {"get", "events/tbt-thematic-session-2023-cybersecurity", "-o", "yaml"});
  ASSERT_EQ(read.exit_code, 0) << Describe(read);
  Apply(WithTitle(read.out, "Edited: cybersecurity session"));
  ASSERT_EQ(Revision(), start + 3);

  // Events arrive in revision order, so once the last in-topic change is
  // there the one outside the topic would have been printed before it.
  const std::vector<WatchEvent> events = AwaitEvents(*watcher, 2);
  EXPECT_THAT(
      Summaries(events),
      ElementsAre(
          absl::StrCat(start + 1, " CHANGE_TYPE_CREATED documents/e2e-cyber"),
          absl::StrCat(start + 3,
                       " CHANGE_TYPE_UPDATED "
                       "events/tbt-thematic-session-2023-cybersecurity")));
  // One JSON object per line (AwaitEvents parsed each line); a watch that
  // connects late may get both events in one message.
  const std::string out = watcher->Stdout();
  EXPECT_TRUE(absl::EndsWith(out, "\n")) << out;
  EXPECT_GE(LineCount(out), 1u);
  EXPECT_LE(LineCount(out), 2u) << out;
  if (events.size() == 2) {
    EXPECT_THAT(events[1].change().entity().title(),
                ::testing::StartsWith("Edited: "));
    EXPECT_THAT(events[1].change().changed_paths(), ElementsAre("title"));
  }
  EXPECT_EQ(watcher->Stderr(), "");
  StopWatcher(*watcher);
}

TEST_F(WatchTest, CheckpointResumesAcrossRestartsWithoutLossOrRepeat) {
  const uint64_t seeded = Revision();
  const std::string checkpoint = dir().Sub("watch.checkpoint");
  std::unique_ptr<Subprocess> watcher =
      StartAtlasctl({"watch", "--checkpoint", checkpoint, "-o", "json"});
  ASSERT_NE(watcher, nullptr);
  // The first PROGRESS message writes the checkpoint: from then on the
  // stream is established and every later change reaches it.
  ASSERT_TRUE(AwaitCheckpoint(checkpoint, seeded)) << watcher->Stderr();

  Apply(NoteYaml("e2e-a", "Note A", {"cybersecurity"}, "A, version 1."));
  Apply(NoteYaml("e2e-a", "Note A", {"cybersecurity"}, "A, version 2."));
  AwaitEvents(*watcher, 2);
  ASSERT_TRUE(AwaitCheckpoint(checkpoint, seeded + 2));

  ASSERT_EQ(StopServer(), 0);
  const std::string while_down = WriteFile(
      "down.yaml", NoteYaml("e2e-down", "Lost", {"e-commerce"}, "Never."));
  ExpectOneLineFailure(Atlasctl({"apply", "-f", while_down}), {"unreachable"});
  EXPECT_TRUE(watcher->AwaitStderr(
      [](const std::string& err) {
        return absl::StrContains(err, "reconnecting");
      },
      kEventTimeout))
      << watcher->Stderr();

  StartServer();                      // same data directory and port
  ASSERT_EQ(Revision(), seeded + 2);  // nothing lost, nothing re-seeded
  Apply(NoteYaml("e2e-b", "Note B", {"e-commerce"}, "B, version 1."));
  Apply(NoteYaml("e2e-a", "Note A", {"cybersecurity"}, "A, version 3."));
  const uint64_t last = Revision();
  ASSERT_EQ(last, seeded + 4);

  // Every change exactly once, in revision order, no gaps: the watcher's
  // revisions are exactly those of the change log since it started.
  const std::vector<WatchEvent> events = AwaitEvents(*watcher, 4);
  EXPECT_THAT(
      Summaries(events),
      ElementsAre(
          absl::StrCat(seeded + 1, " CHANGE_TYPE_CREATED documents/e2e-a"),
          absl::StrCat(seeded + 2, " CHANGE_TYPE_UPDATED documents/e2e-a"),
          absl::StrCat(seeded + 3, " CHANGE_TYPE_CREATED documents/e2e-b"),
          absl::StrCat(seeded + 4, " CHANGE_TYPE_UPDATED documents/e2e-a")));
  // The same revisions as the entities' histories record.
  std::vector<uint64_t> logged;
  for (const std::string name : {"documents/e2e-a", "documents/e2e-b"}) {
    const ProcessResult history = Atlasctl({"history", name, "-o", "json"});
    ASSERT_EQ(history.exit_code, 0) << Describe(history);
    absl::StatusOr<std::vector<atlas::v1::Entity>> versions =
        ParseEntityListJson(history.out);
    ASSERT_TRUE(versions.ok()) << versions.status();
    for (const auto& version : *versions) {
      logged.push_back(version.update_revision());
    }
  }
  std::sort(logged.begin(), logged.end());
  EXPECT_EQ(Revisions(events), logged);
  ASSERT_TRUE(AwaitCheckpoint(checkpoint, last));

  // The client stops; a change happens; the client comes back with the same
  // checkpoint and prints exactly the change it missed.
  StopWatcher(*watcher);
  Apply(NoteYaml("e2e-b", "Note B", {"e-commerce"}, "B, version 2."));
  std::unique_ptr<Subprocess> resumed =
      StartAtlasctl({"watch", "--checkpoint", checkpoint, "-o", "json"});
  ASSERT_NE(resumed, nullptr);
  AwaitEvents(*resumed, 1);
  // A later change as a barrier: anything printed besides the missed change
  // would come before it.
  Apply(NoteYaml("e2e-a", "Note A", {"cybersecurity"}, "A, version 4."));
  const std::vector<WatchEvent> after = AwaitEvents(*resumed, 2);
  EXPECT_THAT(
      Summaries(after),
      ElementsAre(
          absl::StrCat(last + 1, " CHANGE_TYPE_UPDATED documents/e2e-b"),
          absl::StrCat(last + 2, " CHANGE_TYPE_UPDATED documents/e2e-a")));
  EXPECT_TRUE(AwaitCheckpoint(checkpoint, last + 2));
  StopWatcher(*resumed);
}

class DrainTest : public WatchTest {
 protected:
  static constexpr int64_t kGraceMs = 8000;
  DrainTest() { server_options_.shutdown_grace_ms = kGraceMs; }
};

TEST_F(DrainTest, SigtermEndsOpenWatchesAndExitsWithinTheGrace) {
  std::unique_ptr<Subprocess> watcher = StartAtlasctl(
      {"watch", "-o", "json", "--snapshot", "--prefix", "organizations/"});
  ASSERT_NE(watcher, nullptr);
  ASSERT_TRUE(watcher->AwaitStdout(
      [](const std::string& out) {
        return absl::StrContains(out, "\"TYPE_SYNCED\"");
      },
      kEventTimeout))
      << watcher->Stdout() << watcher->Stderr();

  const absl::Time start = absl::Now();
  const std::optional<ExitCode> code = StopServer();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(code, 0);
  // Open watches are ended at once (UNAVAILABLE), not waited for: the exit
  // comes well before the grace period would cancel them.
  EXPECT_LT(took, absl::Milliseconds(kGraceMs)) << took;

  // The client is told (UNAVAILABLE with the server's reason; atlasctl
  // words it "unavailable" or, if its channel has already seen the GOAWAY,
  // "unreachable") and keeps trying: it has no --max-events.
  EXPECT_TRUE(watcher->AwaitStderr(
      [](const std::string& err) {
        return absl::StrContains(err, "server is shutting down") &&
               absl::StrContains(err, "reconnecting");
      },
      kEventTimeout))
      << watcher->Stderr();
  EXPECT_THAT(watcher->Stderr(), ::testing::StartsWith("atlasctl: watch: "));
  EXPECT_EQ(watcher->exit_code(), std::nullopt) << watcher->Stderr();
  StopWatcher(*watcher);
}

}  // namespace
}  // namespace atlas::e2e
