#include "storage/entity_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/testing/entities.h"

namespace atlas::storage {
namespace {

using ::testing::HasSubstr;

absl::Status Validate(const v1::Entity& e) {
  return ValidateEntity(e, 1 << 20, "entities[0]");
}

TEST(EntityRulesTest, AcceptsValidEntities) {
  EXPECT_TRUE(Validate(testing::Topic("cybersecurity")).ok());
  v1::Entity doc = testing::Document("g-tbt-56", "G/TBT/56", {"digital-standards"});
  doc.mutable_document()->set_date("2024-11");
  testing::AddLink(doc, "adopted_by", "bodies/tbt-committee");
  EXPECT_TRUE(Validate(doc).ok()) << Validate(doc);
}

TEST(EntityRulesTest, KindsAndCollections) {
  EXPECT_EQ(KindOf(testing::Topic("x")), "topic");
  EXPECT_EQ(CollectionOfKind("tbt_notification"), "tbtNotifications");
  EXPECT_EQ(CollectionOfKind("body"), "bodies");
  EXPECT_TRUE(IsKnownKind("fact"));
  EXPECT_FALSE(IsKnownKind("facts"));
  EXPECT_EQ(AllKinds().size(), 12u);
}

TEST(EntityRulesTest, RejectsBadNames) {
  for (const char* name : {"", "agreements", "agreements/", "agreements/TBT",
                           "agreements/-tbt", "nope/tbt", "agreements/a/b"}) {
    v1::Entity e = testing::Agreement("x");
    e.set_name(name);
    absl::Status status = Validate(e);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(std::string(status.message()), HasSubstr("entities[0].name"));
  }
}

TEST(EntityRulesTest, CollectionMustMatchKind) {
  v1::Entity e = testing::Agreement("tbt");
  e.set_name("bodies/tbt");
  absl::Status status = Validate(e);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("holds a agreement, so it must be agreements/{id}"));
}

TEST(EntityRulesTest, PayloadIsRequired) {
  v1::Entity e;
  e.set_name("agreements/tbt");
  absl::Status status = Validate(e);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("entities[0].payload"));
}

TEST(EntityRulesTest, FieldRulesNameTheField) {
  v1::Entity e = testing::Agreement("ita");
  e.mutable_agreement()->set_concluded("December 1996");
  EXPECT_THAT(std::string(Validate(e).message()),
              HasSubstr("entities[0].agreement.concluded: \"December 1996\" is "
                        "not a date"));

  v1::Entity topic = testing::Topic("ai", "agreements/tbt");
  EXPECT_THAT(std::string(Validate(topic).message()),
              HasSubstr("entities[0].topic.basket: \"agreements/tbt\" must name "
                        "one of baskets/"));

  v1::Entity dup = testing::Agreement("x", {"a", "a"});
  EXPECT_THAT(std::string(Validate(dup).message()),
              HasSubstr("entities[0].topics[1]: \"a\" is listed twice"));

  v1::Entity fact;
  fact.set_name("facts/ita-participants");
  fact.mutable_fact()->set_subject("agreements/ita");
  fact.mutable_fact()->set_metric("participants");
  fact.mutable_fact()->set_unit("members");
  EXPECT_THAT(std::string(Validate(fact).message()),
              HasSubstr("entities[0].fact.as_of: is required"));

  v1::Entity link = testing::Agreement("x");
  testing::AddLink(link, "Bad Rel", "bodies/x");
  EXPECT_THAT(std::string(Validate(link).message()),
              HasSubstr("entities[0].links[0].rel"));

  v1::Entity target = testing::Agreement("x");
  testing::AddLink(target, "parent", "bodies/x");
  testing::AddLink(target, "parent", "Bodies/X");
  EXPECT_THAT(std::string(Validate(target).message()),
              HasSubstr("entities[0].links[1].target"));
}

TEST(EntityRulesTest, PartialDates) {
  for (const char* ok : {"1995", "2024-03", "2024-02-29", "2000-12-31"}) {
    EXPECT_TRUE(IsPartialDate(ok)) << ok;
  }
  for (const char* bad : {"95", "2024-13", "2023-02-29", "2024-3", "2024/03",
                          "2024-03-00", "abcd"}) {
    EXPECT_FALSE(IsPartialDate(bad)) << bad;
  }
}

TEST(EntityRulesTest, RejectsOversizeEntity) {
  v1::Entity e = testing::Agreement("big", {}, std::string(2000, 'x'));
  absl::Status status = ValidateEntity(e, 1000, "");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("more than the limit"));
}

// Text is checked as RFC 3629 UTF-8, with ASCII taken eight bytes at a time:
// each case sits at the start, right after a run of ASCII (so inside or just
// past an eight-byte word) and at the very end.
TEST(EntityRulesTest, TextMustBeUtf8) {
  const std::vector<std::string> valid = {
      "Gen\xC3\xA8ve",      // è, two bytes
      "\xE2\x82\xAC 1",     // €, three bytes
      "\xF0\x9F\x8C\x90",   // U+1F310, four bytes
      "\xF4\x8F\xBF\xBF",   // U+10FFFF, the last code point
  };
  const std::vector<std::string> invalid = {
      "\xC3\x28",           // a continuation byte missing
      "\xC0\xAF",           // overlong '/'
      "\xE0\x80\xAF",       // overlong, three bytes
      "\xED\xA0\x80",       // a UTF-16 surrogate
      "\xF4\x90\x80\x80",   // past U+10FFFF
      "\x80",               // a lone continuation byte
      "\xFF",               // never in UTF-8
      "\xE2\x82",           // cut short
  };
  for (const std::string& prefix : {std::string(), std::string(7, 'a'),
                                    std::string(8, 'a'), std::string(13, 'a')}) {
    for (const std::string& text : valid) {
      v1::Entity e = testing::Agreement("x", {}, prefix + text + prefix);
      EXPECT_TRUE(Validate(e).ok()) << prefix.size() << " " << Validate(e);
    }
    for (const std::string& text : invalid) {
      for (const std::string& suffix : {std::string(), std::string(9, 'z')}) {
        v1::Entity e = testing::Agreement("x", {}, prefix + text + suffix);
        absl::Status status = Validate(e);
        EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
            << prefix.size() << " " << suffix.size();
        EXPECT_THAT(std::string(status.message()),
                    HasSubstr("entities[0].agreement.summary: is not valid "
                              "UTF-8"));
      }
    }
  }
}

TEST(EntityRulesTest, TextMustNotHoldControlCharacters) {
  // Tab, line feed and what is not a control character pass.
  for (const std::string& text :
       {std::string("line\none\ttab"), std::string("\x20~"),
        std::string("\xC2\xA0nbsp"), std::string("\xC3\x85\xC2\xBF")}) {
    v1::Entity e = testing::Agreement("x", {}, text + std::string(9, 'a'));
    EXPECT_TRUE(Validate(e).ok()) << Validate(e);
  }
  std::vector<std::pair<std::string, std::string>> controls;  // text, U+
  for (int c = 0; c < 0x20; ++c) {
    if (c == '\t' || c == '\n') continue;
    controls.push_back(
        {std::string(1, static_cast<char>(c)), absl::StrFormat("U+%04X", c)});
  }
  controls.push_back({"\x7F", "U+007F"});
  controls.push_back({"\xC2\x80", "U+0080"});
  controls.push_back({"\xC2\x9B", "U+009B"});  // CSI
  controls.push_back({"\xC2\x9F", "U+009F"});
  // At each offset of the eight-byte steps, and with text after it.
  for (size_t offset : {0, 1, 7, 8, 13}) {
    const std::string prefix(offset, 'a');
    for (const auto& [control, code] : controls) {
      for (const std::string& suffix : {std::string(), std::string(9, 'z')}) {
        v1::Entity e = testing::Agreement("x", {}, prefix + control + suffix);
        absl::Status status = Validate(e);
        EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
            << code << " at " << offset;
        EXPECT_THAT(std::string(status.message()),
                    HasSubstr(absl::StrCat(
                        "entities[0].agreement.summary: holds the control "
                        "character ",
                        code, " at byte ", offset)));
      }
    }
  }
  v1::Entity titled = testing::Agreement("x");
  titled.set_title("Safe\rEvil");
  EXPECT_THAT(std::string(Validate(titled).message()),
              HasSubstr("entities[0].title: holds the control character "
                        "U+000D at byte 4"));
  v1::Entity linked = testing::Agreement("x");
  linked.add_source_urls("https://www.wto.org/\x1b[2J");
  EXPECT_THAT(std::string(Validate(linked).message()),
              HasSubstr("entities[0].source_urls[0]: holds the control "
                        "character U+001B at byte 20"));
}

TEST(EntityRulesTest, ErrorsQuoteValuesEscaped) {
  EXPECT_EQ(Quoted("agreements/tbt"), "\"agreements/tbt\"");
  EXPECT_EQ(Quoted("a\"b\\c\nd\te\rf\x1b\x7f"),
            R"("a\"b\\c\nd\te\rf\x1b\x7f")");
  EXPECT_EQ(Quoted("\xC2\x9B"
                   "x\xC3\xA9"),
            "\"\\u009bx\xC3\xA9\"");
  v1::Entity e = testing::Agreement("x");
  e.set_name("agreements/a\nb\x1b[2J");
  const std::string message(Validate(e).message());
  EXPECT_THAT(message,
              HasSubstr(R"("agreements/a\nb\x1b[2J" has an invalid id)"));
  EXPECT_EQ(message.find_first_of("\n\x1b"), std::string::npos) << message;
}

TEST(EntityRulesTest, RejectsUnknownEnumValue) {
  v1::Entity e = testing::Agreement("x");
  e.mutable_agreement()->set_status(static_cast<v1::InstrumentStatus>(99));
  EXPECT_THAT(std::string(Validate(e).message()),
              HasSubstr("entities[0].agreement.status: unknown"));
}

}  // namespace
}  // namespace atlas::storage
