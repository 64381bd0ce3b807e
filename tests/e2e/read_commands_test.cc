// atlasctl get / list against the real server seeded with data/wto, and the
// failures a reader meets: a missing entity, an unreachable server.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"

namespace atlas::e2e {
namespace {

using atlas::v1::Entity;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsSupersetOf;

std::vector<std::string> Names(const std::vector<Entity>& entities) {
  std::vector<std::string> names;
  for (const Entity& entity : entities) names.push_back(entity.name());
  return names;
}

bool HasTopic(const Entity& entity, const std::string& topic) {
  return std::find(entity.topics().begin(), entity.topics().end(), topic) !=
         entity.topics().end();
}

// The names `list` should print: the dataset's matching entities, in name
// order.
std::vector<std::string> ExpectedNames(bool (*matches)(const Entity&)) {
  std::set<std::string> names;
  for (const Entity& entity : DatasetEntities()) {
    if (matches(entity)) names.insert(entity.name());
  }
  return {names.begin(), names.end()};
}

using ReadCommandsTest = E2eTest;

TEST_F(ReadCommandsTest, GetPrintsTheWtoProfile) {
  const ProcessResult result =
      Atlasctl({"get", "organizations/wto", "-o", "json"});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_EQ(result.err, "");
  absl::StatusOr<Entity> wto = ParseEntityJson(result.out);
  ASSERT_TRUE(wto.ok()) << wto.status();

  EXPECT_EQ(wto->name(), "organizations/wto");
  EXPECT_EQ(wto->title(), "World Trade Organization");
  ASSERT_TRUE(wto->has_organization());
  const atlas::v1::Organization& profile = wto->organization();
  EXPECT_EQ(profile.acronym(), "WTO");
  EXPECT_EQ(profile.established(), "1995");
  EXPECT_EQ(profile.address(),
            "Centre William Rappard, Rue de Lausanne 154, 1211 Geneva 21, "
            "Switzerland");
  EXPECT_EQ(profile.website(), "https://www.wto.org/");
  EXPECT_EQ(profile.social_channels_size(), 5);
  EXPECT_EQ(profile.issue_sections_size(), 8);
  std::vector<std::string> platforms;
  for (const auto& channel : profile.social_channels()) {
    platforms.push_back(channel.platform());
  }
  EXPECT_THAT(platforms, ElementsAre("Facebook", "Flickr", "Instagram",
                                     "Twitter", "YouTube"));
  // Output-only fields come from the server: the seed is revision 1.
  EXPECT_EQ(wto->create_revision(), 1u);
  EXPECT_EQ(wto->update_revision(), 1u);
  EXPECT_EQ(wto->version(), 1);
  EXPECT_FALSE(wto->etag().empty());
}

TEST_F(ReadCommandsTest, ListByKindPrintsTheAgreements) {
  const ProcessResult result =
      Atlasctl({"list", "--kind", "agreement", "-o", "json"});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  absl::StatusOr<std::vector<Entity>> entities =
      ParseEntityListJson(result.out);
  ASSERT_TRUE(entities.ok()) << entities.status();

  const std::vector<std::string> names = Names(*entities);
  EXPECT_THAT(names,
              IsSupersetOf({"agreements/tbt-agreement", "agreements/ita",
                            "agreements/ita-ii", "agreements/trips-agreement",
                            "agreements/gats"}));
  EXPECT_EQ(names,
            ExpectedNames([](const Entity& e) { return e.has_agreement(); }));
  for (const Entity& entity : *entities) {
    EXPECT_TRUE(entity.has_agreement()) << entity.name();
  }
  // The table names them too.
  const ProcessResult table = Atlasctl({"list", "--kind", "agreement"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out,
              ::testing::HasSubstr("Agreement on Technical Barriers to Trade"));
  EXPECT_EQ(LineCount(table.out), names.size() + 1);  // + header
}

TEST_F(ReadCommandsTest, ListByTopicPrintsTheAiEntities) {
  const ProcessResult result =
      Atlasctl({"list", "--topic", "artificial-intelligence", "-o", "json"});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  absl::StatusOr<std::vector<Entity>> entities =
      ParseEntityListJson(result.out);
  ASSERT_TRUE(entities.ok()) << entities.status();

  const std::vector<std::string> names = Names(*entities);
  EXPECT_THAT(names,
              IsSupersetOf({"documents/trading-with-intelligence",
                            "tradeConcerns/eu-draft-ai-act",
                            "tbtNotifications/china-ai-regulation-2024",
                            "events/ai-report-launch-2024", "organizations/wto",
                            "agreements/tbt-agreement"}));
  EXPECT_EQ(names, ExpectedNames([](const Entity& e) {
              return HasTopic(e, "artificial-intelligence");
            }));
  for (const Entity& entity : *entities) {
    EXPECT_TRUE(HasTopic(entity, "artificial-intelligence")) << entity.name();
  }
  // The report itself, with its content.
  const auto report =
      std::find_if(entities->begin(), entities->end(), [](const Entity& e) {
        return e.name() == "documents/trading-with-intelligence";
      });
  ASSERT_NE(report, entities->end());
  EXPECT_TRUE(report->has_document());
  EXPECT_THAT(report->title(), ::testing::HasSubstr("Trading with"));
}

TEST_F(ReadCommandsTest, GetOfAMissingEntityFailsWithOneLine) {
  const uint64_t before = Revision();
  const ProcessResult result = Atlasctl({"get", "agreements/does-not-exist"});
  ExpectOneLineFailure(result, {"not found", "agreements/does-not-exist"});
  EXPECT_EQ(Revision(), before);
}

TEST_F(ReadCommandsTest, UnreachableServerFailsWithOneLine) {
  const int port = UnusedPort();
  ASSERT_NE(port, 0);
  const std::string address = absl::StrCat("127.0.0.1:", port);
  const ProcessResult result =
      RunProcess({AtlasctlBinary(), "--server", address, "--timeout", "10",
                  "get", "organizations/wto"},
                 kCommandTimeout);
  ExpectOneLineFailure(result, {"unreachable", address});
}

}  // namespace
}  // namespace atlas::e2e
