// atlasctl apply against the real server: outcomes and revisions, etag
// preconditions, dry runs, the get -> edit -> apply round trip, and invalid
// documents.

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"

namespace atlas::e2e {
namespace {

using atlas::v1::Entity;
using ::testing::HasSubstr;

class ApplyTest : public E2eTest {
 protected:
  // The entity as `get -o json` prints it.
  Entity Get(const std::string& name) {
    const ProcessResult result = Atlasctl({"get", name, "-o", "json"});
    EXPECT_EQ(result.exit_code, 0) << Describe(result);
    absl::StatusOr<Entity> entity = ParseEntityJson(result.out);
    EXPECT_TRUE(entity.ok()) << entity.status();
    return entity.ok() ? *entity : Entity();
  }
};

TEST_F(ApplyTest, ReportsCreatedUnchangedUpdatedAndMovesTheRevision) {
  const uint64_t seeded = Revision();
  const std::string file = WriteFile(
      "note.yaml",
      NoteYaml("e2e-apply", "E2E apply", {"cybersecurity"}, "First version."));

  ProcessResult result = Atlasctl({"apply", "-f", file});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_EQ(result.out, "documents/e2e-apply created\n");
  EXPECT_EQ(Revision(), seeded + 1);
  EXPECT_EQ(Get("documents/e2e-apply").update_revision(), seeded + 1);

  result = Atlasctl({"apply", "-f", file});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_EQ(result.out, "documents/e2e-apply unchanged\n");
  EXPECT_EQ(Revision(), seeded + 1);
  EXPECT_EQ(Get("documents/e2e-apply").update_revision(), seeded + 1);

  WriteFile("note.yaml", NoteYaml("e2e-apply", "E2E apply", {"cybersecurity"},
                                  "Second version."));
  result = Atlasctl({"apply", "-f", file});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_EQ(result.out, "documents/e2e-apply updated\n");
  EXPECT_EQ(Revision(), seeded + 2);
  const Entity updated = Get("documents/e2e-apply");
  EXPECT_EQ(updated.document().summary(), "Second version.");
  EXPECT_EQ(updated.version(), 2);
  EXPECT_EQ(updated.update_revision(), seeded + 2);
}

TEST_F(ApplyTest, ReapplyingTheDatasetChangesNothing) {
  const uint64_t seeded = Revision();
  const ProcessResult result = Atlasctl({"apply", "-f", DatasetDir()});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  const std::vector<Entity> dataset = DatasetEntities();
  ASSERT_FALSE(dataset.empty());
  EXPECT_EQ(LineCount(result.out), dataset.size()) << result.out;
  for (absl::string_view line :
       absl::StrSplit(result.out, '\n', absl::SkipEmpty())) {
    EXPECT_TRUE(absl::EndsWith(line, " unchanged")) << line;
  }
  EXPECT_THAT(result.out, HasSubstr("organizations/wto unchanged\n"));
  EXPECT_EQ(Revision(), seeded);
}

TEST_F(ApplyTest, StaleEtagFailsUnlessForced) {
  ProcessResult read =
      Atlasctl({"get", "agreements/tbt-agreement", "-o", "yaml"});
  ASSERT_EQ(read.exit_code, 0) << Describe(read);
  ASSERT_THAT(read.out, HasSubstr("\netag: "));
  const std::string stale = WriteFile("stale.yaml", read.out);

  // Someone else reads and updates it (their etag is current).
  const std::string theirs = WriteFile(
      "theirs.yaml", WithTitle(read.out, "TBT Agreement, edited elsewhere"));
  ProcessResult result = Atlasctl({"apply", "-f", theirs});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  ASSERT_EQ(result.out, "agreements/tbt-agreement updated\n");
  const uint64_t after_theirs = Revision();

  result = Atlasctl({"apply", "-f", stale});
  ExpectOneLineFailure(result, {"precondition failed", "etag"});
  EXPECT_THAT(result.err, HasSubstr("stale.yaml"));
  EXPECT_EQ(Revision(), after_theirs);
  EXPECT_EQ(Get("agreements/tbt-agreement").title(),
            "TBT Agreement, edited elsewhere");

  result = Atlasctl({"apply", "--force", "-f", stale});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_EQ(result.out, "agreements/tbt-agreement updated\n");
  EXPECT_EQ(Revision(), after_theirs + 1);
  EXPECT_EQ(Get("agreements/tbt-agreement").title(),
            "Agreement on Technical Barriers to Trade");
}

TEST_F(ApplyTest, DryRunWritesNothing) {
  const uint64_t seeded = Revision();
  const std::string created = WriteFile(
      "new.yaml",
      NoteYaml("e2e-dry-run", "Dry run", {"cybersecurity"}, "Never stored."));
  ProcessResult result = Atlasctl({"apply", "--dry-run", "-f", created});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_EQ(result.out, "documents/e2e-dry-run created (dry run)\n");
  EXPECT_EQ(Revision(), seeded);
  ExpectOneLineFailure(Atlasctl({"get", "documents/e2e-dry-run"}),
                       {"not found", "documents/e2e-dry-run"});

  const ProcessResult read = Atlasctl({"get", "agreements/ita", "-o", "yaml"});
  ASSERT_EQ(read.exit_code, 0) << Describe(read);
  const std::string edited =
      WriteFile("edited.yaml", WithTitle(read.out, "ITA, dry run"));
  result = Atlasctl({"apply", "--dry-run", "-f", edited});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_EQ(result.out, "agreements/ita updated (dry run)\n");
  EXPECT_EQ(Revision(), seeded);
  const Entity ita = Get("agreements/ita");
  EXPECT_NE(ita.title(), "ITA, dry run");
  EXPECT_EQ(ita.version(), 1);
}

TEST_F(ApplyTest, GetEditApplyRoundTrip) {
  const Entity before = Get("agreements/ita");
  const ProcessResult read = Atlasctl({"get", "agreements/ita", "-o", "yaml"});
  ASSERT_EQ(read.exit_code, 0) << Describe(read);
  const std::string file = WriteFile(
      "ita.yaml", WithTitle(read.out, "Information Technology Agreement"));

  const ProcessResult result = Atlasctl({"apply", "-f", file});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_EQ(result.out, "agreements/ita updated\n");

  const Entity after = Get("agreements/ita");
  EXPECT_EQ(after.title(), "Information Technology Agreement");
  EXPECT_EQ(after.version(), before.version() + 1);
  EXPECT_EQ(after.update_revision(), Revision());
  EXPECT_NE(after.etag(), before.etag());
  // Everything else survived the YAML round trip unchanged.
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      after.agreement(), before.agreement()));
  EXPECT_EQ(absl::StrJoin(after.topics(), ","),
            absl::StrJoin(before.topics(), ","));
  EXPECT_EQ(after.links_size(), before.links_size());
  EXPECT_EQ(after.source_urls_size(), before.source_urls_size());

  const ProcessResult history =
      Atlasctl({"history", "agreements/ita", "-o", "json"});
  ASSERT_EQ(history.exit_code, 0) << Describe(history);
  absl::StatusOr<std::vector<Entity>> versions =
      ParseEntityListJson(history.out);
  ASSERT_TRUE(versions.ok()) << versions.status();
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].title(), before.title());
  EXPECT_EQ((*versions)[1].title(), "Information Technology Agreement");
}

struct InvalidDocument {
  std::string test_name;
  std::string yaml;
  // What the one stderr line must say.
  std::vector<std::string> words;
};

// Names the case in test listings (ctest shows parameter values).
void PrintTo(const InvalidDocument& document, std::ostream* out) {
  *out << document.test_name;
}

class InvalidDocumentTest
    : public E2eTest,
      public ::testing::WithParamInterface<InvalidDocument> {};

TEST_P(InvalidDocumentTest, FailsWithOneLineAndWritesNothing) {
  const uint64_t seeded = Revision();
  const std::string file = WriteFile("bad.yaml", GetParam().yaml);
  ProcessResult result = Atlasctl({"apply", "-f", file});
  std::vector<std::string> words = GetParam().words;
  words.push_back("bad.yaml");
  ExpectOneLineFailure(result, words);
  EXPECT_EQ(Revision(), seeded);
  ExpectOneLineFailure(Atlasctl({"get", "documents/e2e-bad"}), {"not found"});
}

INSTANTIATE_TEST_SUITE_P(
    Documents, InvalidDocumentTest,
    ::testing::Values(
        InvalidDocument{"UnknownField",
                        "name: documents/e2e-bad\ntitel: Misspelt\n"
                        "document:\n  summary: s\n",
                        {"invalid document", "no such field \"titel\""}},
        InvalidDocument{
            "ListGivenAScalar",
            "name: documents/e2e-bad\ntopics: cybersecurity\n"
            "document:\n  summary: s\n",
            {"invalid document", "field \"topics\"", "expected a list"}},
        InvalidDocument{"IntegerGivenAWord",
                        "name: documents/e2e-bad\nbasket:\n  position: first\n",
                        {"invalid document", "field \"basket.position\"",
                         "expected an integer"}},
        InvalidDocument{"MissingName",
                        "title: Nameless\ndocument:\n  summary: s\n",
                        {"invalid argument", "name", "required"}},
        InvalidDocument{"UnknownTopic",
                        "name: documents/e2e-bad\ntopics: [no-such-topic]\n"
                        "document:\n  summary: s\n",
                        {"invalid argument", "unknown topic", "no-such-topic"}},
        InvalidDocument{"MalformedYaml",
                        "name: documents/e2e-bad\ntitle: [unclosed\n"
                        "document:\n  summary: s\n",
                        {"invalid document", "malformed YAML"}},
        InvalidDocument{"UnclosedQuote",
                        "name: documents/e2e-bad\ndocument:\n  summary: s\n"
                        "title: \"never closed\n",
                        {"invalid document", "malformed YAML",
                         "quoted string is not closed"}}),
    [](const ::testing::TestParamInfo<InvalidDocument>& info) {
      return info.param.test_name;
    });

}  // namespace
}  // namespace atlas::e2e
