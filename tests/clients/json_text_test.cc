#include "proto/json_text.h"

#include <string>

#include "gtest/gtest.h"

namespace atlas::documents {
namespace {

TEST(JsonTextTest, QuotesStrings) {
  std::string out;
  AppendJsonString("a\"b\\c\nd\x01\xC3\xA9", &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\u0001\xC3\xA9\"");
}

TEST(JsonTextTest, RecognisesJsonNumbers) {
  for (const char* number : {"0", "-0", "12", "2.5e12", "1E-3", "-0.5"}) {
    EXPECT_TRUE(IsJsonNumber(number)) << number;
  }
  for (const char* text : {"", "-", "+1", "01", ".5", "5.", "1e", "0x1F",
                           "1_000", "NaN", "1995-01-01"}) {
    EXPECT_FALSE(IsJsonNumber(text)) << text;
  }
}

TEST(JsonTextTest, SplitsArraysKeepingPositions) {
  absl::StatusOr<std::vector<JsonSlice>> slices = SplitJsonDocuments(
      "[ {\"a\": \"]}\\\"\"},\n  {\"b\": [1, {\"c\": 2}]} , 3 ]");
  ASSERT_TRUE(slices.ok()) << slices.status();
  ASSERT_EQ(slices->size(), 3u);
  EXPECT_EQ((*slices)[0].text, "{\"a\": \"]}\\\"\"}");
  EXPECT_EQ((*slices)[1].text, "{\"b\": [1, {\"c\": 2}]}");
  EXPECT_EQ((*slices)[1].line, 2);
  EXPECT_EQ((*slices)[1].column, 3);
  EXPECT_EQ((*slices)[2].text, "3");
}

TEST(JsonTextTest, RejectsStructuralErrors) {
  EXPECT_EQ(SplitJsonDocuments("[{]").status().message(),
            "1:3: malformed JSON: unexpected ']'");
  EXPECT_EQ(SplitJsonDocuments("\"x\"").status().message(),
            "1:1: malformed JSON: expected a JSON object or an array of "
            "objects");
  EXPECT_EQ(SplitJsonDocuments("[{} {}]").status().message(),
            "1:5: malformed JSON: expected ',' or ']' in JSON array");
  EXPECT_EQ(SplitJsonDocuments("{\"a\": \"open").status().message(),
            "1:12: malformed JSON: unterminated JSON string");
}

}  // namespace
}  // namespace atlas::documents
