// The tokens file format: what parses, what does not, and that no error
// message repeats a token.

#include "services/token_table.h"

#include <gtest/gtest.h>

#include <string>

namespace atlas::services {
namespace {

TEST(TokenTableTest, ParsesTokensRolesAndNames) {
  auto table = TokenTable::Parse(
      "# comment\n"
      "\n"
      "aaaaaaaaaaaaaaaa1 reader alice\n"
      "  bbbbbbbbbbbbbbbb2\twriter   \n"
      "cccccccccccccccc3 admin ops@example.org\r\n",
      "tokens.txt");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 3u);

  auto alice = table->Find("aaaaaaaaaaaaaaaa1");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, Role::kReader);

  auto unnamed = table->Find("bbbbbbbbbbbbbbbb2");
  ASSERT_TRUE(unnamed.has_value());
  EXPECT_EQ(unnamed->name, "token-4");  // its line
  EXPECT_EQ(unnamed->role, Role::kWriter);

  auto admin = table->Find("cccccccccccccccc3");
  ASSERT_TRUE(admin.has_value());
  EXPECT_EQ(admin->name, "ops@example.org");
  EXPECT_EQ(admin->role, Role::kAdmin);

  EXPECT_FALSE(table->Find("aaaaaaaaaaaaaaaa").has_value());  // a prefix
  EXPECT_FALSE(table->Find("").has_value());
}

TEST(TokenTableTest, AnEmptyFileAdmitsNobody) {
  auto table = TokenTable::Parse("# nobody yet\n", "tokens.txt");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 0u);
  EXPECT_FALSE(table->Find("aaaaaaaaaaaaaaaa1").has_value());
}

TEST(TokenTableTest, ErrorsNameTheLineAndRuleButNeverTheToken) {
  const std::string token = "secret-secret-secret-1";
  struct Case {
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
      {token + "\n", "line 1: has 1 fields"},
      {"# ok\n" + token + " reader alice extra\n", "line 2: has 4 fields"},
      {"secret-1 reader\n", "shorter than 16"},
      {token + " owner\n", "line 1: the role (second field)"},
      // Fields swapped: the role is taken for a (too short) token.
      {"writer " + token + "\n", "line 1: the token is shorter"},
      {"writer-writer-writer " + token + "\n", "the role (second field)"},
      {token + " reader al!ce\n", "the name (third field)"},
      {token + " reader a\n" + token + " admin b\n",
       "line 2: the token appears on an earlier line"},
  };
  for (const Case& c : cases) {
    auto table = TokenTable::Parse(c.text, "tokens.txt");
    ASSERT_FALSE(table.ok()) << c.expected;
    const std::string message(table.status().message());
    EXPECT_TRUE(absl::IsInvalidArgument(table.status()));
    EXPECT_NE(message.find("tokens file tokens.txt"), std::string::npos)
        << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
    EXPECT_EQ(message.find("secret"), std::string::npos) << message;
  }
}

TEST(TokenTableTest, LoadNamesAMissingFile) {
  auto table = TokenTable::Load("/nonexistent/atlas-tokens");
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.status().message().find("/nonexistent/atlas-tokens"),
            absl::string_view::npos)
      << table.status();
}

}  // namespace
}  // namespace atlas::services
