#include "proto/document_codec.h"

#include <string>

#include "atlas/v1/change.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace atlas::documents {
namespace {

using atlas::v1::Entity;
using google::protobuf::util::MessageDifferencer;

std::vector<DecodedEntity> DecodeOk(const std::string& text,
                                    const std::string& file) {
  absl::StatusOr<std::vector<DecodedEntity>> decoded =
      DecodeEntities(text, file);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return decoded.ok() ? *decoded : std::vector<DecodedEntity>{};
}

std::string DecodeError(const std::string& text, const std::string& file) {
  absl::StatusOr<std::vector<DecodedEntity>> decoded =
      DecodeEntities(text, file);
  EXPECT_FALSE(decoded.ok());
  if (decoded.ok()) return "";
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(decoded.status().message());
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  return message;
}

TEST(DecodeEntitiesTest, ReadsMultiDocumentYaml) {
  const std::string text =
      "name: agreements/tbt\n"
      "title: Agreement on Technical Barriers to Trade\n"
      "topics: [standards, e-commerce]\n"
      "agreement:\n"
      "  acronym: TBT Agreement\n"
      "  instrument_type: INSTRUMENT_TYPE_MULTILATERAL_AGREEMENT\n"
      "---\n"
      "# a comment-only document is skipped\n"
      "---\n"
      "name: bodies/tbt-committee\n"
      "links:\n"
      "  - rel: administers\n"
      "    target: agreements/tbt\n"
      "body: {acronym: TBT Committee, body_type: BODY_TYPE_COMMITTEE}\n";
  std::vector<DecodedEntity> decoded = DecodeOk(text, "data/wto.yaml");
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].entity.name(), "agreements/tbt");
  EXPECT_EQ(decoded[0].entity.topics_size(), 2);
  EXPECT_EQ(decoded[0].entity.agreement().instrument_type(),
            atlas::v1::INSTRUMENT_TYPE_MULTILATERAL_AGREEMENT);
  EXPECT_EQ(decoded[0].origin.file, "data/wto.yaml");
  EXPECT_EQ(decoded[0].origin.index, 1);
  EXPECT_EQ(decoded[0].origin.line, 1);
  EXPECT_EQ(decoded[1].entity.name(), "bodies/tbt-committee");
  EXPECT_EQ(decoded[1].entity.links(0).target(), "agreements/tbt");
  EXPECT_EQ(decoded[1].entity.body().body_type(),
            atlas::v1::BODY_TYPE_COMMITTEE);
  EXPECT_EQ(decoded[1].origin.index, 2);
  EXPECT_EQ(decoded[1].origin.line, 10);
  EXPECT_EQ(DescribeOrigin(decoded[1].origin),
            "data/wto.yaml document 2 (line 10)");
}

TEST(DecodeEntitiesTest, ReadsYamlListOfEntities) {
  std::vector<DecodedEntity> decoded = DecodeOk(
      "- name: topics/cybersecurity\n  topic: {basket: baskets/security}\n"
      "- name: topics/e-commerce\n  topic: {basket: baskets/economic}\n",
      "topics.yml");
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[1].entity.topic().basket(), "baskets/economic");
  EXPECT_EQ(decoded[1].origin.index, 2);
  EXPECT_EQ(decoded[1].origin.line, 3);
}

TEST(DecodeEntitiesTest, ReadsJsonObjectAndArray) {
  std::vector<DecodedEntity> one =
      DecodeOk("{\"name\": \"members/japan\", \"member\": {\"code\": \"JPN\"}}",
               "one.json");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].entity.member().code(), "JPN");

  std::vector<DecodedEntity> many = DecodeOk(
      "[\n"
      "  {\"name\": \"members/japan\", \"member\": {\"code\": \"JPN\"}},\n"
      "  {\"name\": \"facts/ita-participants\",\n"
      "   \"fact\": {\"subject\": \"agreements/ita\", \"value\": 82,\n"
      "            \"asOf\": \"2024\"}}\n"
      "]\n",
      "many.json");
  ASSERT_EQ(many.size(), 2u);
  EXPECT_EQ(many[1].entity.fact().value(), 82);
  EXPECT_EQ(many[1].entity.fact().as_of(), "2024");  // JSON name accepted
  EXPECT_EQ(many[1].origin.index, 2);
  EXPECT_EQ(many[1].origin.line, 3);
}

// Files saved with Windows line endings read as the same entities, with
// the same document lines.
TEST(DecodeEntitiesTest, ReadsCrLfLineEndings) {
  auto crlf = [](std::string text) {
    std::string out;
    for (char c : text) {
      if (c == '\n') out.push_back('\r');
      out.push_back(c);
    }
    return out;
  };
  const std::string yaml =
      "name: agreements/tbt\n"
      "title: Agreement on Technical Barriers to Trade\n"
      "topics:\n"
      "  - standards\n"
      "---\n"
      "name: bodies/tbt-committee\n"
      "body: {acronym: TBT Committee}\n";
  const std::string json =
      "[\n"
      "  {\"name\": \"members/japan\", \"member\": {\"code\": \"JPN\"}},\n"
      "  {\"name\": \"members/eu\"}\n"
      "]\n";
  for (const auto& [text, file] :
       {std::pair{yaml, "wto.yaml"}, std::pair{json, "wto.json"}}) {
    std::vector<DecodedEntity> lf = DecodeOk(text, file);
    std::vector<DecodedEntity> windows = DecodeOk(crlf(text), file);
    ASSERT_EQ(lf.size(), 2u) << file;
    ASSERT_EQ(windows.size(), lf.size()) << file;
    for (size_t i = 0; i < lf.size(); ++i) {
      EXPECT_EQ(windows[i].entity.SerializeAsString(),
                lf[i].entity.SerializeAsString())
          << file << " document " << i + 1 << ": "
          << windows[i].entity.ShortDebugString();
      EXPECT_EQ(windows[i].origin.line, lf[i].origin.line) << file;
    }
  }
}

TEST(DecodeEntitiesTest, DetectsJsonWithoutExtension) {
  std::vector<DecodedEntity> decoded =
      DecodeOk("  [{\"name\": \"members/eu\", \"member\": {}}]", "<stdin>");
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0].entity.name(), "members/eu");
}

TEST(DecodeEntitiesTest, EmptyTextHasNoEntities) {
  EXPECT_TRUE(DecodeOk("", "empty.yaml").empty());
  EXPECT_TRUE(DecodeOk("# nothing yet\n", "empty.yaml").empty());
  EXPECT_TRUE(DecodeOk("[]", "empty.json").empty());
}

TEST(DecodeEntitiesTest, ScalarsFollowTheFieldType) {
  std::vector<DecodedEntity> decoded = DecodeOk(
      "name: organizations/wto\n"
      "organization: {acronym: WTO, established: 1995}\n"
      "---\n"
      "name: organizations/quoted\n"
      "organization: {established: \"1995\"}\n"
      "---\n"
      "name: facts/exports\n"
      "fact: {value: 2.5e12, as_of: 2024-03-26, unit: true}\n"
      "---\n"
      "name: members/norway\n"
      "member: {code: NO, accession: 1995-01-01}\n"
      "---\n"
      "name: facts/quoted-number\n"
      "fact: {value: \"2.5e12\", note: 0x1F}\n"
      "---\n"
      "name: processes/count\n"
      "process: {participants: [{count: +007}]}\n",
      "types.yaml");
  ASSERT_EQ(decoded.size(), 6u);
  EXPECT_EQ(decoded[0].entity.organization().established(), "1995");
  EXPECT_EQ(decoded[1].entity.organization().established(), "1995");
  EXPECT_EQ(decoded[2].entity.fact().value(), 2.5e12);
  EXPECT_EQ(decoded[2].entity.fact().as_of(), "2024-03-26");
  EXPECT_EQ(decoded[2].entity.fact().unit(), "true");
  EXPECT_EQ(decoded[3].entity.member().code(), "NO");
  EXPECT_EQ(decoded[3].entity.member().accession(), "1995-01-01");
  EXPECT_EQ(decoded[4].entity.fact().value(), 2.5e12);
  EXPECT_EQ(decoded[4].entity.fact().note(), "0x1F");
  EXPECT_EQ(decoded[5].entity.process().participants(0).count(), 7);
}

TEST(DecodeEntitiesTest, NullMeansNotSet) {
  std::vector<DecodedEntity> decoded =
      DecodeOk("name: members/eu\ntitle:\ntopics: ~\nmember: {code: null}\n",
               "null.yaml");
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0].entity.title(), "");
  EXPECT_TRUE(decoded[0].entity.has_member());
}

TEST(DecodeEntitiesTest, UnknownYamlFieldNamesFileLineAndDocument) {
  const std::string message = DecodeError(
      "name: members/eu\nmember: {}\n---\nname: agreements/x\ntitel: X\n",
      "data/x.yaml");
  EXPECT_EQ(message,
            "data/x.yaml:5:1: document 2: no such field \"titel\" in "
            "atlas.v1.Entity");
}

TEST(DecodeEntitiesTest, UnknownNestedFieldNamesItsPath) {
  const std::string message = DecodeError(
      "name: organizations/wto\n"
      "organization:\n"
      "  issue_sections:\n"
      "    - topic: e-commerce\n"
      "      sumary: x\n",
      "wto.yaml");
  EXPECT_EQ(message,
            "wto.yaml:5:7: document 1: no such field \"sumary\" in "
            "atlas.v1.IssueSection (at organization.issue_sections[0])");
}

TEST(DecodeEntitiesTest, UnknownJsonFieldNamesLine) {
  const std::string message = DecodeError(
      "[\n  {\"name\": \"members/eu\", \"member\": {}},\n"
      "  {\"name\": \"members/jp\",\n   \"titel\": \"Japan\"}\n]\n",
      "m.json");
  EXPECT_EQ(message,
            "m.json:4:4: document 2: no such field \"titel\" in "
            "atlas.v1.Entity");
}

TEST(DecodeEntitiesTest, WrongTypesAreReported) {
  EXPECT_EQ(DecodeError("name: topics/ai\ntopics: ai\n", "t.yaml"),
            "t.yaml:2:9: document 1: field \"topics\": expected a list, got "
            "a scalar");
  EXPECT_EQ(DecodeError("name: facts/x\nfact:\n  value: lots\n", "f.yaml"),
            "f.yaml:3:10: document 1: field \"fact.value\": expected a "
            "number, got \"lots\"");
  EXPECT_EQ(
      DecodeError("name: agreements/x\nagreement: {status: DONE}\n", "a.yaml"),
      "a.yaml:2:21: document 1: field \"agreement.status\": no value "
      "\"DONE\" in enum atlas.v1.InstrumentStatus");
  EXPECT_EQ(DecodeError("name: agreements/x\nagreement: [1]\n", "a.yaml"),
            "a.yaml:2:12: document 1: field \"agreement\": expected a mapping "
            "(atlas.v1.Agreement), got a list");
  EXPECT_EQ(DecodeError("name: members/x\nmember: {}\nbody: {}\n", "b.yaml"),
            "b.yaml:3:1: document 1: fields \"member\" and \"body\" are both "
            "set; only one of \"payload\" may be");
  // JSON keeps Protobuf's own type rules: a number is not a string.
  const std::string json_error = DecodeError("{\"name\": 5}", "n.json");
  EXPECT_NE(json_error.find("n.json:1:1: document 1: invalid atlas.v1.Entity"),
            std::string::npos)
      << json_error;
}

TEST(DecodeEntitiesTest, BadTimestampIsReportedByTheJsonParser) {
  const std::string message = DecodeError(
      "name: members/eu\ncreate_time: yesterday\nmember: {}\n", "ts.yaml");
  EXPECT_EQ(
      message.rfind("ts.yaml:1:1: document 1: invalid atlas.v1.Entity: ", 0),
      0u)
      << message;
  EXPECT_NE(message.find("yesterday"), std::string::npos) << message;
}

TEST(DecodeEntitiesTest, MalformedYamlNamesLineAndColumn) {
  const std::string message =
      DecodeError("name: a\nmember:\n  code: [JPN\n", "bad.yaml");
  EXPECT_EQ(message.rfind("bad.yaml:", 0), 0u) << message;
  EXPECT_NE(message.find(": malformed YAML: "), std::string::npos) << message;
  EXPECT_EQ(DecodeError("a: b\n  c: d: e\n", "bad.yaml"),
            "bad.yaml:2:4: malformed YAML: illegal map value");
}

TEST(DecodeEntitiesTest, QuotedStringOpenAtTheEndIsMalformed) {
  // yaml-cpp alone reads these as titles "x " and "x member: {} ".
  const std::string unclosed =
      "bad.yaml: malformed YAML: a quoted string is not closed before the "
      "end of the file";
  EXPECT_EQ(
      DecodeError("name: members/eu\nmember: {}\ntitle: \"x\n", "bad.yaml"),
      unclosed);
  EXPECT_EQ(DecodeError("name: members/eu\ntitle: 'x\nmember: {}", "bad.yaml"),
            unclosed);
  // Other errors at the end keep their own message.
  EXPECT_EQ(DecodeError("name: members/eu\ntopics: [a, b\n", "bad.yaml"),
            "bad.yaml:3:1: malformed YAML: end of sequence flow not found");
  // Closed strings, block scalars and document markers are unaffected.
  absl::StatusOr<std::vector<DecodedEntity>> decoded = DecodeEntities(
      "name: members/eu\ntitle: \"a\n  b\"\nmember: {}\n...\n---\n"
      "name: members/jp\nmember: {}\ntitle: |+\n  keep\n\n",
      "ok.yaml");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].entity.title(), "a b");
  EXPECT_EQ((*decoded)[1].entity.title(), "keep\n\n");
}

TEST(DecodeEntitiesTest, MalformedJsonNamesLine) {
  EXPECT_EQ(DecodeError("[\n {\"name\": \"members/eu\"},\n {\"name\": \n",
                        "bad.json"),
            "bad.json:4:1: malformed JSON: unexpected end of JSON");
  EXPECT_EQ(DecodeError("{\"name\": \"members/eu\"} {}", "bad.json"),
            "bad.json:1:24: malformed JSON: unexpected text after JSON value");
  const std::string message =
      DecodeError("[{\"name\" \"members/eu\"}]", "bad.json");
  EXPECT_EQ(message.rfind("bad.json:1:2: document 1: malformed JSON: ", 0), 0u)
      << message;
  EXPECT_EQ(
      DecodeError("[1]", "n.json"),
      "n.json:1:2: document 1: expected a JSON object (an entity), got 1");
}

Entity RichEntity() {
  Entity entity;
  entity.set_name("organizations/wto");
  entity.set_title("World Trade Organization: \"WTO\" # 1995");
  entity.add_topics("e-commerce");
  entity.add_topics("artificial-intelligence");
  auto* link = entity.add_links();
  link->set_rel("member_of");
  link->set_target("organizations/un");
  entity.add_source_urls("https://www.wto.org/");
  entity.set_create_revision(1);
  entity.set_update_revision(18446744073709551615ull);
  entity.set_version(9007199254740993);  // not representable as a double
  entity.set_etag("1995");
  entity.mutable_create_time()->set_seconds(1711411200);
  entity.mutable_update_time()->set_seconds(1711411200);
  entity.mutable_update_time()->set_nanos(123456789);
  entity.set_deleted(true);
  auto* organization = entity.mutable_organization();
  organization->set_acronym("NO");
  organization->set_established("1995");
  organization->set_address("Rue de Lausanne 154\nCH-1211 Geneva 2\n");
  organization->set_website("true");
  organization->set_stakeholder_group("null");
  organization->set_description(
      "  leading spaces, trailing tab\t, emoji \xF0\x9F\x98\x80, "
      "line separator \xE2\x80\xA8, accents \xC3\xA9");
  organization->set_digital_activities("- looks: like [yaml]");
  organization->set_badge("~");
  auto* section = organization->add_issue_sections();
  section->set_topic("e-commerce");
  section->set_summary("0x1F");
  organization->add_issue_sections()->set_topic("cybersecurity");
  auto* channel = organization->add_social_channels();
  channel->set_platform("YouTube");
  channel->set_handle("@wto");
  return entity;
}

void ExpectRoundTrip(const Entity& entity, const std::string& text,
                     const std::string& file) {
  std::vector<DecodedEntity> decoded = DecodeOk(text, file);
  ASSERT_EQ(decoded.size(), 1u) << text;
  std::string difference;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  EXPECT_TRUE(differencer.Compare(entity, decoded[0].entity))
      << difference << "\n"
      << text;
}

TEST(EncodeTest, YamlRoundTripsARichEntity) {
  const Entity entity = RichEntity();
  absl::StatusOr<std::string> yaml = EncodeYaml(entity);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ExpectRoundTrip(entity, *yaml, "out.yaml");
  EXPECT_NE(yaml->find("established: \"1995\""), std::string::npos) << *yaml;
  EXPECT_NE(yaml->find("acronym: \"NO\""), std::string::npos) << *yaml;
  EXPECT_EQ(yaml->back(), '\n');
}

TEST(EncodeTest, YamlRoundTripsNumbersAndEnums) {
  Entity fact;
  fact.set_name("facts/exports");
  fact.mutable_fact()->set_value(2.5e12);
  Entity small = fact;
  small.mutable_fact()->set_value(-1.0 / 3.0);
  Entity tiny = fact;
  tiny.mutable_fact()->set_value(4.9e-324);
  Entity agreement;
  agreement.set_name("agreements/ita");
  agreement.mutable_agreement()->set_instrument_type(
      atlas::v1::INSTRUMENT_TYPE_PLURILATERAL_AGREEMENT);
  agreement.mutable_agreement()->set_status(
      atlas::v1::INSTRUMENT_STATUS_IN_FORCE);
  Entity process;
  process.set_name("processes/jsi");
  auto* count = process.mutable_process()->add_participants();
  count->set_as_of("2024-07");
  count->set_count(91);
  process.mutable_process()->add_participants()->set_count(-1);
  for (const Entity& entity : {fact, small, tiny, agreement, process}) {
    absl::StatusOr<std::string> yaml = EncodeYaml(entity);
    ASSERT_TRUE(yaml.ok()) << yaml.status();
    ExpectRoundTrip(entity, *yaml, "out.yaml");
  }
}

TEST(EncodeTest, YamlRoundTripsTrickyStrings) {
  const std::vector<std::string> strings = {"foo:",
                                            "a #b",
                                            "#a",
                                            "- a",
                                            "? a",
                                            ": a",
                                            "[a]",
                                            "{a}",
                                            "a, b",
                                            "'q'",
                                            "\"dq\"",
                                            "*alias",
                                            "&anchor",
                                            "!tag",
                                            "|",
                                            ">",
                                            "%",
                                            "@",
                                            "`",
                                            " ",
                                            "\t",
                                            "a\n",
                                            "\n",
                                            "a\r\nb",
                                            "\x7f",
                                            "---",
                                            "...",
                                            "- ",
                                            "null",
                                            "Null",
                                            "~",
                                            "yes",
                                            "off",
                                            "y",
                                            "0",
                                            "-1",
                                            "1e3",
                                            ".5",
                                            "0x10",
                                            "0o7",
                                            "+1",
                                            "1_000",
                                            "1:30",
                                            "2024-01-01",
                                            "true",
                                            "NaN",
                                            ".nan",
                                            "-.inf",
                                            "=",
                                            "<<",
                                            "\xC3\xA9",
                                            "\xE6\x97\xA5\xE6\x9C\xAC",
                                            "\xE2\x80\xA8",
                                            "\xEF\xBB\xBF"
                                            "bom",
                                            "trailing space ",
                                            "a: b: c",
                                            "key: value\nnext: line",
                                            "\\",
                                            "tab\tinside",
                                            "a\rb",
                                            "\r",
                                            "a\r",
                                            "\x0c",
                                            "\x0b",
                                            "\x1b",
                                            std::string("a\0"
                                                        "b",
                                                        3),
                                            "\xC2\x85",
                                            "a\xC2\x85"
                                            "b",
                                            "\xE2\x80\xA9",
                                            "a\xE2\x80\xA8"
                                            "b",
                                            "\xC2\xA0",
                                            "a \n b",
                                            "a\n\n\nb",
                                            "\n\n",
                                            " a\n",
                                            "G/TBT/N/EU/850/Add.1",
                                            "para. 3.7(b)(i), pp. 14-15"};
  for (const std::string& text : strings) {
    Entity entity;
    entity.set_name("documents/x");
    entity.set_title(text);
    entity.add_topics(text);
    entity.mutable_document()->add_references(text);
    absl::StatusOr<std::string> yaml = EncodeYaml(entity);
    ASSERT_TRUE(yaml.ok()) << yaml.status();
    ExpectRoundTrip(entity, *yaml, "out.yaml");
  }
}

// Every ASCII character, and the Unicode ones YAML gives a meaning (line
// and paragraph separators, NEL, BOM, NBSP), alone and at the start, middle
// and end of a string, in a scalar field and a list.
TEST(EncodeTest, YamlRoundTripsEveryCharacterAnywhere) {
  std::vector<std::string> characters;
  for (int c = 1; c < 0x80; ++c)
    characters.emplace_back(1, static_cast<char>(c));
  for (const char* unicode : {"\xC2\x85", "\xC2\xA0", "\xE2\x80\xA8",
                              "\xE2\x80\xA9", "\xEF\xBB\xBF"}) {
    characters.emplace_back(unicode);
  }
  for (const std::string& c : characters) {
    for (const std::string& text :
         {c, c + "ab", "a" + c + "b", "ab" + c, c + c}) {
      Entity entity;
      entity.set_name("documents/x");
      entity.set_title(text);
      entity.add_topics(text);
      absl::StatusOr<std::string> yaml = EncodeYaml(entity);
      ASSERT_TRUE(yaml.ok()) << yaml.status();
      ExpectRoundTrip(entity, *yaml, "out.yaml");
    }
  }
}

TEST(EncodeTest, JsonRoundTripsARichEntity) {
  const Entity entity = RichEntity();
  absl::StatusOr<std::string> line =
      EncodeJson(entity, JsonLayout::kSingleLine);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->find('\n'), std::string::npos);
  EXPECT_NE(line->find("\"create_revision\":\"1\""), std::string::npos)
      << *line;
  ExpectRoundTrip(entity, *line, "out.json");

  absl::StatusOr<std::string> pretty = EncodeJson(entity, JsonLayout::kPretty);
  ASSERT_TRUE(pretty.ok()) << pretty.status();
  EXPECT_GT(std::count(pretty->begin(), pretty->end(), '\n'), 10);
  EXPECT_EQ(pretty->back(), '\n');
  ExpectRoundTrip(entity, *pretty, "out.json");
  // JSON is YAML: a .yaml file holding the JSON output reads the same.
  ExpectRoundTrip(entity, *pretty, "out.yaml");
}

TEST(EncodeTest, EncodesOtherMessages) {
  atlas::v1::Change change;
  change.set_revision(7);
  change.set_type(atlas::v1::CHANGE_TYPE_UPDATED);
  change.mutable_entity()->set_name("members/eu");
  absl::StatusOr<std::string> json =
      EncodeJson(change, JsonLayout::kSingleLine);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json,
            "{\"revision\":\"7\",\"type\":\"CHANGE_TYPE_UPDATED\","
            "\"entity\":{\"name\":\"members/eu\"}}");
  absl::StatusOr<std::string> yaml = EncodeYaml(change);
  ASSERT_TRUE(yaml.ok());
  EXPECT_EQ(*yaml,
            "revision: \"7\"\ntype: CHANGE_TYPE_UPDATED\nentity:\n"
            "  name: members/eu\n");
  EXPECT_EQ(*EncodeYaml(Entity()), "{}\n");
}

}  // namespace
}  // namespace atlas::documents
