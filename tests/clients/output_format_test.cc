#include "clients/output_format.h"

#include "clients/backoff.h"
#include "clients/rpc_error.h"
#include "clients/text_table.h"
#include "gtest/gtest.h"
#include "proto/document_codec.h"

namespace atlas::client {
namespace {

using atlas::v1::Entity;
using atlas::v1::WatchResponse;

Entity MakeEntity(const std::string& name, const std::string& title) {
  Entity entity;
  entity.set_name(name);
  entity.set_title(title);
  entity.add_topics("e-commerce");
  entity.add_topics("standards");
  entity.set_update_revision(12);
  entity.set_etag("etag-12");
  entity.mutable_agreement()->set_acronym("TBT");
  return entity;
}

TEST(TextTableTest, AlignsColumnsByCharacters) {
  TextTable table({"A", "B", "C"});
  table.AddRow({"\xC3\xA9t\xC3\xA9", "x"});
  table.AddRow({"long cell", "y", "z"});
  EXPECT_EQ(table.Render(),
            "A           B   C\n"
            "\xC3\xA9t\xC3\xA9         x\n"
            "long cell   y   z\n");
}

TEST(TextTableTest, ShowsControlCharactersAsSpaces) {
  TextTable table({"A", "B"});
  table.AddRow({"two\nlines\ttab",
                "\x1B[2Jclear\rback\x7F\xC2\x9B"
                "csi"});
  EXPECT_EQ(table.Render(),
            "A               B\n"
            "two lines tab    [2Jclear back  csi\n");
}

TEST(TextTableTest, TruncatesLongText) {
  EXPECT_EQ(Truncate("abcdef", 6), "abcdef");
  EXPECT_EQ(Truncate("abcdefg", 6), "abc...");
  EXPECT_EQ(Truncate("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 4),
            "\xC3\xA9...");
}

TEST(OutputFormatTest, ParsesNames) {
  EXPECT_EQ(*ParseOutputFormat("yaml"), OutputFormat::kYaml);
  EXPECT_EQ(*ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(*ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_FALSE(ParseOutputFormat("xml").ok());
}

TEST(OutputFormatTest, EntityTableHasTheDocumentedColumns) {
  Entity unset;
  unset.set_name("members/eu");
  EXPECT_EQ(EntityTable({MakeEntity("agreements/tbt", "TBT Agreement"), unset}),
            "NAME             KIND        TITLE           TOPICS               "
            "  REVISION\n"
            "agreements/tbt   agreement   TBT Agreement   e-commerce,standards "
            "  12\n"
            "members/eu                                                        "
            "  -\n");
  EXPECT_EQ(EntityKind(unset), "");
}

TEST(OutputFormatTest, ListingsCanBeAppliedAgain) {
  const Entity a = MakeEntity("agreements/tbt", "TBT Agreement");
  const Entity b = MakeEntity("agreements/ita", "1995");
  for (OutputFormat format : {OutputFormat::kJson, OutputFormat::kYaml}) {
    absl::StatusOr<std::string> text = FormatMessageList({&a, &b}, format);
    ASSERT_TRUE(text.ok()) << text.status();
    auto decoded = documents::DecodeEntities(
        *text, format == OutputFormat::kJson ? "list.json" : "list.yaml");
    ASSERT_TRUE(decoded.ok()) << decoded.status() << "\n" << *text;
    ASSERT_EQ(decoded->size(), 2u);
    EXPECT_EQ((*decoded)[1].entity.SerializeAsString(), b.SerializeAsString());
  }
  EXPECT_EQ(*FormatMessageList({}, OutputFormat::kJson), "[]\n");
}

TEST(OutputFormatTest, StreamMessagesAreOneJsonObjectPerLine) {
  WatchResponse response;
  response.set_type(WatchResponse::TYPE_EVENTS);
  response.set_revision(7);
  auto* change = response.add_events()->mutable_change();
  change->set_revision(7);
  change->set_type(atlas::v1::CHANGE_TYPE_CREATED);
  *change->mutable_entity() = MakeEntity("agreements/tbt", "TBT");
  absl::StatusOr<std::string> line =
      FormatStreamMessage(response, OutputFormat::kJson);
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->find('\n'), line->size() - 1);
  EXPECT_EQ(line->rfind("{\"type\":\"TYPE_EVENTS\",\"revision\":\"7\"", 0), 0u)
      << *line;
  absl::StatusOr<std::string> yaml =
      FormatStreamMessage(response, OutputFormat::kYaml);
  ASSERT_TRUE(yaml.ok());
  EXPECT_EQ(yaml->rfind("---\ntype: TYPE_EVENTS\n", 0), 0u) << *yaml;
}

TEST(OutputFormatTest, WatchLinesShowRevisionTypeAndName) {
  WatchResponse events;
  events.set_type(WatchResponse::TYPE_EVENTS);
  events.set_revision(9);
  auto* first = events.add_events();
  first->mutable_change()->set_revision(8);
  first->mutable_change()->set_type(atlas::v1::CHANGE_TYPE_UPDATED);
  first->mutable_change()->mutable_entity()->set_name("topics/ai");
  first->set_left_filter(true);
  auto* second = events.add_events();
  second->mutable_change()->set_revision(9);
  second->mutable_change()->set_type(atlas::v1::CHANGE_TYPE_DELETED);
  second->mutable_change()->mutable_entity()->set_name("facts/x");
  EXPECT_EQ(WatchLines(events),
            "8 UPDATED topics/ai (left filter)\n9 DELETED facts/x\n");
  EXPECT_EQ(WatchLines(events, 1), "8 UPDATED topics/ai (left filter)\n");

  WatchResponse snapshot;
  snapshot.set_type(WatchResponse::TYPE_SNAPSHOT);
  *snapshot.add_snapshot() = MakeEntity("agreements/tbt", "TBT");
  EXPECT_EQ(WatchLines(snapshot), "12 SNAPSHOT agreements/tbt\n");

  WatchResponse synced;
  synced.set_type(WatchResponse::TYPE_SYNCED);
  synced.set_revision(12);
  EXPECT_EQ(WatchLines(synced), "12 SYNCED\n");

  WatchResponse progress;
  progress.set_type(WatchResponse::TYPE_PROGRESS);
  progress.set_revision(20);
  EXPECT_EQ(WatchLines(progress), "");
}

TEST(RpcErrorTest, NamesTheCodeInWords) {
  const absl::Status not_found =
      RpcError(grpc::Status(grpc::StatusCode::NOT_FOUND,
                            "entity \"agreements/nope\" does not exist"),
               "127.0.0.1:50051", true);
  EXPECT_EQ(not_found.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(not_found.message(),
            "not found: entity \"agreements/nope\" does not exist");
  EXPECT_EQ(RpcError(grpc::Status(grpc::StatusCode::ABORTED, "etag\nchanged"),
                     "s:1", true)
                .message(),
            "precondition failed: etag changed");
  EXPECT_EQ(RpcError(grpc::Status(grpc::StatusCode::UNAVAILABLE, "refused"),
                     "127.0.0.1:50051", false)
                .message(),
            "server 127.0.0.1:50051 unreachable: refused");
  EXPECT_EQ(RpcError(grpc::Status(grpc::StatusCode::UNAVAILABLE, "disk"),
                     "127.0.0.1:50051", true)
                .message(),
            "unavailable: disk");
}

TEST(BackoffTest, DoublesFrom100MsTo5s) {
  Backoff backoff;
  std::vector<int64_t> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(backoff.Next().count());
  EXPECT_EQ(delays,
            (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 5000, 5000}));
  backoff.Reset();
  EXPECT_EQ(backoff.Next().count(), 100);
}

}  // namespace
}  // namespace atlas::client
