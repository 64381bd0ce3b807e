// atlasctl driven through RunAtlasctl against a fake service on a real gRPC
// port: argument handling, paging, batching, error lines, watch resumption.

#include "clients/atlasctl.h"

#include <fstream>
#include <sstream>

#include "clients/checkpoint.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/document_codec.h"
#include "tests/clients/fake_atlas_service.h"
#include "tests/testing/temp_dir.h"

namespace atlas::client {
namespace {

using atlas::testing::FakeAtlasServer;
using atlas::testing::WatchScript;
using atlas::v1::Entity;
using atlas::v1::WatchResponse;

struct Result {
  int code;
  std::string out;
  std::string err;
};

Entity Agreement(const std::string& id, const std::string& title) {
  Entity entity;
  entity.set_name("agreements/" + id);
  entity.set_title(title);
  entity.add_topics("e-commerce");
  entity.mutable_agreement()->set_acronym(id);
  return entity;
}

WatchResponse Events(
    uint64_t revision,
    const std::vector<std::pair<uint64_t, std::string>>& changes) {
  WatchResponse response;
  response.set_type(WatchResponse::TYPE_EVENTS);
  response.set_revision(revision);
  for (const auto& [change_revision, name] : changes) {
    auto* change = response.add_events()->mutable_change();
    change->set_revision(change_revision);
    change->set_type(atlas::v1::CHANGE_TYPE_UPDATED);
    change->mutable_entity()->set_name(name);
  }
  return response;
}

WatchResponse Marker(WatchResponse::Type type, uint64_t revision) {
  WatchResponse response;
  response.set_type(type);
  response.set_revision(revision);
  return response;
}

class AtlasctlTest : public ::testing::Test {
 protected:
  Result Run(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--server", server_.address()});
    std::istringstream in(input);
    std::ostringstream out;
    std::ostringstream err;
    Io io;
    io.in = &in;
    io.out = &out;
    io.err = &err;
    io.sleep = [this](Backoff::Delay delay) {
      sleeps_.push_back(delay.count());
    };
    const int code = RunAtlasctl(args, io);
    return {code, out.str(), err.str()};
  }

  std::string ReadFile(const std::string& path) {
    std::ifstream file(path);
    return std::string((std::istreambuf_iterator<char>(file)),
                       std::istreambuf_iterator<char>());
  }

  FakeAtlasServer server_;
  atlas::testing::TempDir dir_;
  std::vector<int64_t> sleeps_;
};

TEST_F(AtlasctlTest, GetPrintsATable) {
  Entity tbt = Agreement("tbt", "Agreement on Technical Barriers to Trade");
  tbt.set_update_revision(3);
  server_.service().Put(tbt);
  const Result result = Run({"get", "agreements/tbt"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out,
            "NAME             KIND        TITLE                                "
            "      TOPICS       REVISION\n"
            "agreements/tbt   agreement   Agreement on Technical Barriers to "
            "Trade   e-commerce   3\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(AtlasctlTest, GetOfAMissingEntityFailsWithOneLine) {
  const Result result = Run({"get", "agreements/nope"});
  EXPECT_EQ(result.code, kExitFailure);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "atlasctl: not found: entity \"agreements/nope\" does not exist\n");
}

// The server's message is printed on one line, without the control
// characters a server or proxy could send to the terminal (the fake echoes
// the name it was asked for).
TEST_F(AtlasctlTest, ServerMessagesReachTheTerminalWithoutControlCharacters) {
  const Result result =
      Run({"get", "agreements/\x1b[2Jx\r\n\ty\x07\x7f\xc2\x9bz\xc3\xa9"});
  EXPECT_EQ(result.code, kExitFailure);
  EXPECT_EQ(result.err,
            "atlasctl: not found: entity \"agreements/ [2Jx y z\xc3\xa9\" does "
            "not exist\n");
}

TEST_F(AtlasctlTest, GetYamlCanBeAppliedWithItsEtagAsPrecondition) {
  Entity tbt = Agreement("tbt", "1995");
  tbt.set_create_revision(1);
  tbt.set_update_revision(4);
  tbt.set_version(2);
  tbt.set_etag("etag-4");
  tbt.mutable_update_time()->set_seconds(1711411200);
  tbt.mutable_agreement()->set_status(atlas::v1::INSTRUMENT_STATUS_IN_FORCE);
  server_.service().Put(tbt);

  const Result get = Run({"get", "agreements/tbt", "-o", "yaml"});
  ASSERT_EQ(get.code, 0) << get.err;
  const std::string file = dir_.Write("tbt.yaml", get.out);

  const Result apply = Run({"apply", "-f", file});
  EXPECT_EQ(apply.code, 0) << apply.err;
  EXPECT_EQ(apply.out, "agreements/tbt unchanged\n");
  const auto requests = server_.service().apply_requests();
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(requests[0].entities_size(), 1);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      requests[0].entities(0), tbt));

  // The stored entity changes: the old etag no longer matches.
  Entity changed = tbt;
  changed.set_etag("etag-5");
  server_.service().Put(changed);
  const Result stale = Run({"apply", "-f", file});
  EXPECT_EQ(stale.code, kExitFailure);
  EXPECT_EQ(stale.err,
            "atlasctl: precondition failed: etag of \"agreements/tbt\" does "
            "not match: it changed since (" +
                file + " document 1 (line 1))\n");

  const Result forced = Run({"apply", "-f", file, "--force"});
  EXPECT_EQ(forced.code, 0) << forced.err;
  EXPECT_EQ(server_.service().apply_requests().back().entities(0).etag(), "");
}

TEST_F(AtlasctlTest, ApplySendsAllDocumentsInOneCall) {
  dir_.Write("data/a.yaml",
             "name: agreements/ita\ntitle: ITA\nagreement: {}\n---\n"
             "name: agreements/gats\ntitle: GATS\nagreement: {}\n");
  dir_.Write("data/sub/b.json",
             "[{\"name\": \"agreements/trips\", \"agreement\": {}}]");
  const std::string single = dir_.Write(
      "one.yml", "name: agreements/tbt\ntitle: TBT\nagreement: {}\n");
  const Result result =
      Run({"apply", "-f", dir_.path() + "/data", "-f", single});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out,
            "agreements/ita created\nagreements/gats created\n"
            "agreements/trips created\nagreements/tbt created\n");
  ASSERT_EQ(server_.service().apply_requests().size(), 1u);
  EXPECT_EQ(server_.service().apply_requests()[0].entities_size(), 4);
  EXPECT_FALSE(server_.service().apply_requests()[0].validate_only());
}

TEST_F(AtlasctlTest, ApplyBatchesLargeInputs) {
  std::string text;
  for (int i = 0; i < 5; ++i) {
    text += "---\nname: members/m" + std::to_string(i) + "\nmember: {}\n";
  }
  const std::string file = dir_.Write("members.yaml", text);
  const Result result = Run({"apply", "-f", file, "--batch-size", "2"});
  EXPECT_EQ(result.code, 0) << result.err;
  const auto requests = server_.service().apply_requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].entities_size(), 2);
  EXPECT_EQ(requests[2].entities_size(), 1);
  EXPECT_EQ(requests[2].entities(0).name(), "members/m4");
  EXPECT_EQ(result.err, "");  // no progress: stderr is not a terminal
}

TEST_F(AtlasctlTest, ApplyShowsProgressOnATerminal) {
  std::string text;
  for (int i = 0; i < 5; ++i) {
    text += "---\nname: members/m" + std::to_string(i) + "\nmember: {}\n";
  }
  const std::string file = dir_.Write("members.yaml", text);
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  Io io{&in, &out, &err, /*err_is_terminal=*/true, nullptr};
  const int code = RunAtlasctl(
      {"--server", server_.address(), "apply", "-f", file, "--batch-size", "2"},
      io);
  EXPECT_EQ(code, 0) << err.str();
  EXPECT_NE(err.str().find("\rapplied 4/5 documents"), std::string::npos);
  EXPECT_NE(err.str().find("applied 5 documents in 3 batches\n"),
            std::string::npos);
  const std::string printed = out.str();
  EXPECT_EQ(printed.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), 5);
}

TEST_F(AtlasctlTest, ApplyBatchFailureSaysWhatWasApplied) {
  std::string text;
  for (int i = 0; i < 3; ++i) {
    text += "---\nname: members/m" + std::to_string(i) + "\nmember: {}\n";
  }
  const std::string file = dir_.Write("members.yaml", text);
  server_.service().FailNextApply(
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                   "entities[1].member.code: must be 2-3 upper-case letters"));
  const Result result = Run({"apply", "-f", file, "--batch-size", "2"});
  EXPECT_EQ(result.code, kExitFailure);
  EXPECT_EQ(result.err,
            "atlasctl: invalid argument: entities[1].member.code: must be 2-3 "
            "upper-case letters (" +
                file +
                " document 2 (line 5)) [batch 1 of 2, documents 1-2, failed; "
                "nothing was applied]\n");
}

TEST_F(AtlasctlTest, ApplyDryRunValidatesOnly) {
  const std::string file =
      dir_.Write("x.json", "{\"name\": \"agreements/x\", \"agreement\": {}}");
  const Result result = Run({"apply", "-f", file, "--dry-run"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "agreements/x created (dry run)\n");
  EXPECT_TRUE(server_.service().apply_requests()[0].validate_only());
  EXPECT_EQ(Run({"get", "agreements/x"}).code, kExitFailure);
}

TEST_F(AtlasctlTest, ApplyReadsStandardInputAndPrintsJsonResults) {
  const Result result =
      Run({"apply", "-f", "-", "-o", "json"},
          "name: agreements/x\nagreement: {}\n---\nname: agreements/y\n"
          "agreement: {}\n");
  EXPECT_EQ(result.code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.rfind("{\"name\":\"agreements/", 0), 0u) << line;
    EXPECT_NE(line.find("\"outcome\":\"APPLY_OUTCOME_CREATED\""),
              std::string::npos);
    ++count;
  }
  EXPECT_EQ(count, 2);
}

TEST_F(AtlasctlTest, ApplyRejectsBadDocumentsBeforeCalling) {
  const std::string bad = dir_.Write(
      "x.yaml",
      "name: members/a\nmember: {}\n---\nname: agreements/x\ntitel: X\n");
  const Result invalid = Run({"apply", "-f", bad});
  EXPECT_EQ(invalid.code, kExitFailure);
  EXPECT_EQ(invalid.err, "atlasctl: invalid document " + bad +
                             ":5:1: document 2: no such field \"titel\" in "
                             "atlas.v1.Entity\n");

  const std::string a = dir_.Write("a.yaml", "name: members/a\nmember: {}\n");
  const std::string b = dir_.Write("b.yaml", "name: members/a\nmember: {}\n");
  const Result twice = Run({"apply", "-f", a, "-f", b});
  EXPECT_EQ(twice.code, kExitFailure);
  EXPECT_EQ(twice.err, "atlasctl: invalid document " + b +
                           " document 1 (line 1): entity \"members/a\" is "
                           "also defined in " +
                           a + " document 1 (line 1)\n");

  const Result missing = Run({"apply", "-f", dir_.path() + "/nope"});
  EXPECT_EQ(missing.code, kExitFailure);
  EXPECT_NE(missing.err.find("nope: No such file or directory"),
            std::string::npos)
      << missing.err;

  const std::string empty = dir_.Write("empty.yaml", "# nothing\n");
  EXPECT_EQ(Run({"apply", "-f", empty}).err,
            "atlasctl: no documents found in the given files\n");
  EXPECT_TRUE(server_.service().apply_requests().empty());
}

TEST_F(AtlasctlTest, ListFollowsPageTokens) {
  for (const char* id : {"a", "b", "c", "d", "e"}) {
    server_.service().Put(Agreement(id, std::string("Title ") + id));
  }
  const Result result = Run({"list", "--kind", "agreement", "-o", "yaml"});
  EXPECT_EQ(result.code, 0) << result.err;
  const auto requests = server_.service().list_requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].kind(), "agreement");
  EXPECT_EQ(requests[2].kind(), "agreement");
  EXPECT_EQ(requests[2].page_token(), "agreements/d");
  auto decoded = documents::DecodeEntities(result.out, "list.yaml");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->size(), 5u);
  EXPECT_EQ((*decoded)[4].entity.name(), "agreements/e");
}

TEST_F(AtlasctlTest, StopsWhenTheServerRepeatsAPageToken) {
  server_.service().Put(Agreement("a", "Title a"));
  server_.service().RepeatPageTokens();
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"list"},
        std::vector<std::string>{"history", "agreements/a"}}) {
    const Result result = Run(command);
    EXPECT_EQ(result.code, kExitFailure) << command[0];
    EXPECT_EQ(result.err,
              "atlasctl: server returned a page token twice; stopping the "
              "listing\n")
        << command[0];
    EXPECT_EQ(result.out, "") << command[0];
  }
  // The first page and the one that repeated its token.
  EXPECT_EQ(server_.service().list_requests().size(), 2u);
}

TEST_F(AtlasctlTest, HistoryAndDelete) {
  server_.service().Put(Agreement("x", "first"));
  server_.service().Put(Agreement("x", "second"));
  const Result deleted = Run({"delete", "agreements/x"});
  EXPECT_EQ(deleted.code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "agreements/x deleted\n");
  const Result history = Run({"history", "agreements/x"});
  EXPECT_EQ(history.code, 0) << history.err;
  EXPECT_NE(history.out.find("live      first"), std::string::npos)
      << history.out;
  EXPECT_NE(history.out.find("deleted   second"), std::string::npos)
      << history.out;
  EXPECT_EQ(Run({"delete", "agreements/x"}).err,
            "atlasctl: not found: entity \"agreements/x\" does not exist\n");
  EXPECT_EQ(Run({"delete", "agreements/x", "--allow-missing"}).code, 0);
}

// A table only says "deleted", so it asks for the basic view; -o json and
// -o yaml print the deleted version whole.
TEST_F(AtlasctlTest, DeleteAsksForTheContentOnlyWhenItPrintsIt) {
  server_.service().Put(Agreement("x", "first"));
  server_.service().Put(Agreement("y", "second"));
  ASSERT_EQ(Run({"delete", "agreements/x"}).code, 0);
  const Result json = Run({"delete", "agreements/y", "-o", "json"});
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_NE(json.out.find("\"second\""), std::string::npos) << json.out;
  const auto requests = server_.service().delete_requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].view(), atlas::v1::WRITE_VIEW_BASIC);
  EXPECT_EQ(requests[1].view(), atlas::v1::WRITE_VIEW_UNSPECIFIED);
}

TEST_F(AtlasctlTest, SendsTheTokenAsBearerMetadata) {
  Run({"--token", "s3cret", "get", "agreements/x"});
  EXPECT_EQ(server_.service().last_authorization(), "Bearer s3cret");
}

TEST_F(AtlasctlTest, UnreachableServerIsOneLine) {
  const std::string address = server_.address();
  server_.Stop();
  std::ostringstream out;
  std::ostringstream err;
  std::istringstream in;
  Io io{&in, &out, &err, false, nullptr};
  const int code =
      RunAtlasctl({"--server", address, "--timeout", "5", "get", "a/b"}, io);
  EXPECT_EQ(code, kExitFailure);
  const std::string line = err.str();
  EXPECT_EQ(line.rfind("atlasctl: server " + address + " unreachable: ", 0), 0u)
      << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
}

TEST_F(AtlasctlTest, UsageErrorsExitWithTwo) {
  Result result = Run({"get"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_EQ(result.err, "atlasctl: NAME is required (see --help)\n");
  result = Run({"list", "-o", "xml"});
  EXPECT_EQ(result.code, kExitUsage);
  result = Run({"watch", "--help"});
  EXPECT_EQ(result.code, 0);
  EXPECT_NE(result.out.find("--checkpoint"), std::string::npos);
}

TEST_F(AtlasctlTest, WatchResumesAfterABrokenStreamWithoutGapsOrRepeats) {
  const std::string checkpoint = dir_.path() + "/watch.checkpoint";
  server_.service().AddWatchScript(
      {{Events(3, {{2, "topics/ai"}, {3, "facts/a"}}),
        Marker(WatchResponse::TYPE_PROGRESS, 5)},
       grpc::Status(grpc::StatusCode::UNAVAILABLE, "server restarting")});
  server_.service().AddWatchScript(
      {{}, grpc::Status(grpc::StatusCode::UNAVAILABLE, "still down")});
  server_.service().AddWatchScript(
      {{Events(6, {{5, "facts/repeat"}, {6, "facts/b"}})}, grpc::Status::OK});
  const Result result =
      Run({"watch", "--topic", "ai", "--topic", "cyber", "--kind", "fact",
           "--checkpoint", checkpoint, "--max-events", "3"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out,
            "2 UPDATED topics/ai\n3 UPDATED facts/a\n6 UPDATED facts/b\n");
  const auto requests = server_.service().watch_requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].start_revision(), 0u);
  EXPECT_EQ(requests[0].filter().topics_size(), 2);
  EXPECT_EQ(requests[0].filter().kinds(0), "fact");
  EXPECT_EQ(requests[1].start_revision(), 6u);  // after PROGRESS 5
  EXPECT_EQ(requests[2].start_revision(), 6u);
  EXPECT_EQ(requests[2].filter().topics(1), "cyber");
  EXPECT_EQ(sleeps_, (std::vector<int64_t>{100, 200}));
  EXPECT_EQ(ReadFile(checkpoint), "6\n");
  EXPECT_NE(result.err.find("atlasctl: watch: "), std::string::npos);
}

// The server sends messages up to its own limits: a Watch message carries a
// whole change set, and one ApplyEntities of up to 16 MiB (the server's
// request limit) makes one. atlasctl takes messages beyond gRPC's default
// 4 MiB receive limit; before, such a set stopped a watch for good (each
// retry failed the same way). Shown with `get`, on the same channel, since a
// watch retries failures instead of exiting.
TEST_F(AtlasctlTest, ReceivesMessagesLargerThanFourMebibytes) {
  Entity big;
  big.set_name("documents/big");
  big.mutable_document()->set_summary(std::string(6 << 20, 'x'));
  server_.service().Put(big);
  const Result result = Run({"get", "documents/big", "-o", "json"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_GT(result.out.size(), size_t{6} << 20);
  EXPECT_EQ(result.err, "");
}

TEST_F(AtlasctlTest, WatchStartsAfterAnExistingCheckpoint) {
  const std::string checkpoint = dir_.path() + "/watch.checkpoint";
  ASSERT_TRUE(WriteCheckpoint(checkpoint, 41).ok());
  server_.service().AddWatchScript(
      {{Events(42, {{42, "topics/ai"}})}, grpc::Status::OK});
  const Result result =
      Run({"watch", "--snapshot", "--from-revision", "7", "--checkpoint",
           checkpoint, "--max-events", "1", "-o", "json"});
  EXPECT_EQ(result.code, 0) << result.err;
  const auto requests = server_.service().watch_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].start_revision(), 42u);
  EXPECT_FALSE(requests[0].snapshot());
  EXPECT_EQ(
      result.out.rfind("{\"type\":\"TYPE_EVENTS\",\"revision\":\"42\"", 0), 0u)
      << result.out;
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 1);
  EXPECT_EQ(ReadFile(checkpoint), "42\n");
}

TEST_F(AtlasctlTest, WatchCheckpointStopsBeforeAnUndeliveredChange) {
  const std::string checkpoint = dir_.path() + "/watch.checkpoint";
  server_.service().AddWatchScript(
      {{Events(5, {{4, "a/x"}, {5, "a/y"}, {5, "a/z"}})}, grpc::Status::OK});
  const Result result = Run({"watch", "--from-revision", "4", "--checkpoint",
                             checkpoint, "--max-events", "2"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "4 UPDATED a/x\n5 UPDATED a/y\n");
  // a/z of revision 5 was not printed: resume from 5 (checkpoint 4).
  EXPECT_EQ(ReadFile(checkpoint), "4\n");
  EXPECT_EQ(server_.service().watch_requests()[0].start_revision(), 4u);
}

TEST_F(AtlasctlTest, WatchSnapshotThenResumesAfterSynced) {
  WatchResponse snapshot;
  snapshot.set_type(WatchResponse::TYPE_SNAPSHOT);
  snapshot.set_revision(10);
  Entity tbt = Agreement("tbt", "TBT");
  tbt.set_update_revision(9);
  *snapshot.add_snapshot() = tbt;
  server_.service().AddWatchScript(
      {{snapshot, Marker(WatchResponse::TYPE_SYNCED, 10)},
       grpc::Status(grpc::StatusCode::INTERNAL, "RST_STREAM")});
  server_.service().AddWatchScript(
      {{Events(11, {{11, "agreements/tbt"}})}, grpc::Status::OK});
  const Result result =
      Run({"watch", "--snapshot", "--include-before", "--max-events", "2"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(
      result.out,
      "9 SNAPSHOT agreements/tbt\n10 SYNCED\n11 UPDATED agreements/tbt\n");
  const auto requests = server_.service().watch_requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].snapshot());
  EXPECT_TRUE(requests[0].include_before());
  EXPECT_FALSE(requests[1].snapshot());
  EXPECT_EQ(requests[1].start_revision(), 11u);
}

TEST_F(AtlasctlTest, WatchExitsOnOutOfRange) {
  server_.service().AddWatchScript(
      {{},
       grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                    "revision 1 is older than the oldest kept revision 50")});
  const Result result = Run({"watch", "--from-revision", "1"});
  EXPECT_EQ(result.code, kExitFailure);
  EXPECT_EQ(result.err,
            "atlasctl: out of range: revision 1 is older than the oldest kept "
            "revision 50\n");
}

}  // namespace
}  // namespace atlas::client
