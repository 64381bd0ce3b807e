// ApplyEntities: one commit, one revision, all or nothing.

#include "storage/entity_rules.h"
#include "tests/services/service_test_base.h"

namespace atlas::testing {
namespace {

using grpc::StatusCode;

class ApplyEntitiesTest : public ServiceTest {
 protected:
  std::vector<v1::Entity> Dataset() {
    v1::Entity document =
        Document("g-tbt-56", "G/TBT/56", {"digital-standards"});
    AddLink(document, "discussed_in", "agreements/tbt");
    return {Topic("digital-standards"), Agreement("tbt", {"digital-standards"}),
            document};
  }
};

TEST_F(ApplyEntitiesTest, CreatesEverythingAtOneRevision) {
  auto applied = calls_.Apply(Dataset());
  ASSERT_TRUE(applied.ok()) << applied.status.error_message();
  EXPECT_EQ(applied.response.revision(), 1u);
  EXPECT_EQ(Revision(), 1u);
  ASSERT_EQ(applied.response.results_size(), 3);
  const std::vector<v1::Entity> input = Dataset();
  for (int i = 0; i < 3; ++i) {
    const v1::ApplyResult& result = applied.response.results(i);
    EXPECT_EQ(result.name(), input[i].name());
    EXPECT_EQ(result.outcome(), v1::APPLY_OUTCOME_CREATED);
    EXPECT_EQ(result.entity().update_revision(), 1u);
    EXPECT_TRUE(calls_.Get(input[i].name()).ok());
  }
}

TEST_F(ApplyEntitiesTest, ApplyingTheSameContentAgainChangesNothing) {
  ASSERT_TRUE(calls_.Apply(Dataset()).ok());
  auto again = calls_.Apply(Dataset());
  ASSERT_TRUE(again.ok()) << again.status.error_message();
  EXPECT_EQ(again.response.revision(), 1u);
  EXPECT_EQ(Revision(), 1u);
  for (const v1::ApplyResult& result : again.response.results()) {
    EXPECT_EQ(result.outcome(), v1::APPLY_OUTCOME_UNCHANGED) << result.name();
    EXPECT_EQ(result.entity().version(), 1) << result.name();
  }
}

TEST_F(ApplyEntitiesTest, ReportsEachOutcome) {
  ASSERT_TRUE(calls_.Apply(Dataset()).ok());
  std::vector<v1::Entity> next = Dataset();
  next[1].mutable_agreement()->set_summary("changed");
  next.push_back(Agreement("trips"));
  auto applied = calls_.Apply(next);
  ASSERT_TRUE(applied.ok()) << applied.status.error_message();
  EXPECT_EQ(applied.response.revision(), 2u);
  EXPECT_EQ(applied.response.results(0).outcome(), v1::APPLY_OUTCOME_UNCHANGED);
  EXPECT_EQ(applied.response.results(1).outcome(), v1::APPLY_OUTCOME_UPDATED);
  EXPECT_EQ(applied.response.results(1).entity().version(), 2);
  EXPECT_EQ(applied.response.results(2).outcome(), v1::APPLY_OUTCOME_UNCHANGED);
  EXPECT_EQ(applied.response.results(3).outcome(), v1::APPLY_OUTCOME_CREATED);
}

TEST_F(ApplyEntitiesTest, OneBadEntityWritesNothing) {
  std::vector<v1::Entity> entities = Dataset();
  entities.push_back(Agreement("trips", {"no-such-topic"}));
  auto applied = calls_.Apply(entities);
  EXPECT_TRUE(HasStatus(applied.status, StatusCode::INVALID_ARGUMENT,
                        "entities[3].topics[0]: unknown topic"));
  EXPECT_EQ(Revision(), 0u);
  for (const v1::Entity& entity : entities) {
    EXPECT_TRUE(
        HasStatus(calls_.Get(entity.name()).status, StatusCode::NOT_FOUND))
        << entity.name();
  }
}

TEST_F(ApplyEntitiesTest, StaleEtagAbortsTheWholeApply) {
  ASSERT_TRUE(calls_.Apply(Dataset()).ok());
  std::vector<v1::Entity> next = Dataset();
  next[0].set_title("changed");
  next[1].mutable_agreement()->set_summary("changed");
  next[1].set_etag("stale");
  EXPECT_TRUE(
      HasStatus(calls_.Apply(next).status, StatusCode::ABORTED, "entities[1]"));
  EXPECT_EQ(Revision(), 1u);
  EXPECT_EQ(calls_.Get("topics/digital-standards").response.entity().title(),
            "digital-standards");

  // With the current etag it applies.
  next[1].set_etag(calls_.Get("agreements/tbt").response.entity().etag());
  EXPECT_TRUE(calls_.Apply(next).ok());
}

TEST_F(ApplyEntitiesTest, ValidateOnlyChecksButWritesNothing) {
  auto checked = calls_.Apply(Dataset(), /*validate_only=*/true);
  ASSERT_TRUE(checked.ok()) << checked.status.error_message();
  EXPECT_EQ(checked.response.revision(), 0u);
  ASSERT_EQ(checked.response.results_size(), 3);
  EXPECT_EQ(checked.response.results(0).outcome(), v1::APPLY_OUTCOME_CREATED);
  EXPECT_EQ(checked.response.results(1).entity().agreement().summary(),
            "a summary");
  EXPECT_EQ(Revision(), 0u);
  EXPECT_TRUE(
      HasStatus(calls_.Get("agreements/tbt").status, StatusCode::NOT_FOUND));

  std::vector<v1::Entity> bad = Dataset();
  bad[2].clear_topics();
  bad[2].add_topics("no-such-topic");
  EXPECT_TRUE(HasStatus(calls_.Apply(bad, /*validate_only=*/true).status,
                        StatusCode::INVALID_ARGUMENT, "entities[2].topics[0]"));
}

// The basic view: each result's name and output-only fields, the same as
// the full view has, and none of the content.
TEST_F(ApplyEntitiesTest, BasicViewLeavesOutTheContent) {
  ASSERT_TRUE(calls_.Apply(Dataset()).ok());
  std::vector<v1::Entity> next = Dataset();
  next[1].mutable_agreement()->set_summary("changed");
  for (const bool validate_only : {true, false}) {
    auto basic = calls_.Apply(next, validate_only, v1::APPLY_VIEW_BASIC);
    ASSERT_TRUE(basic.ok()) << basic.status.error_message();
    ASSERT_EQ(basic.response.results_size(), 3);
    EXPECT_EQ(basic.response.results(0).outcome(), v1::APPLY_OUTCOME_UNCHANGED);
    EXPECT_EQ(basic.response.results(1).outcome(), v1::APPLY_OUTCOME_UPDATED);
    for (int i = 0; i < 3; ++i) {
      const v1::Entity& entity = basic.response.results(i).entity();
      EXPECT_EQ(entity.name(), next[i].name());
      EXPECT_EQ(entity.payload_case(), v1::Entity::PAYLOAD_NOT_SET) << i;
      EXPECT_EQ(entity.topics_size(), 0) << i;
      EXPECT_EQ(entity.links_size(), 0) << i;
      EXPECT_FALSE(entity.etag().empty()) << i;
      EXPECT_TRUE(entity.has_update_time()) << i;
    }
    EXPECT_EQ(basic.response.results(1).entity().version(), 2);
  }
  // What it leaves out is the content: with it, the view is the whole entity.
  auto read = calls_.Get("agreements/tbt");
  ASSERT_TRUE(read.ok());
  const v1::Entity& stored = read.response.entity();
  auto full = calls_.Apply({stored}, false, v1::APPLY_VIEW_FULL);
  auto basic = calls_.Apply({stored}, false, v1::APPLY_VIEW_BASIC);
  ASSERT_TRUE(full.ok() && basic.ok());
  v1::Entity merged = basic.response.results(0).entity();
  v1::Entity content = stored;
  storage::ClearOutputOnly(content);
  merged.MergeFrom(content);
  EXPECT_EQ(merged.SerializeAsString(),
            full.response.results(0).entity().SerializeAsString());
  EXPECT_EQ(merged.SerializeAsString(), stored.SerializeAsString());
}

TEST_F(ApplyEntitiesTest, UnknownViewIsRefused) {
  auto refused = calls_.Apply(Dataset(), false, static_cast<v1::ApplyView>(7));
  EXPECT_TRUE(HasStatus(refused.status, StatusCode::INVALID_ARGUMENT,
                        "view: unknown ApplyView value 7"));
  EXPECT_EQ(Revision(), 0u);
}

TEST_F(ApplyEntitiesTest, RequestShapeErrors) {
  EXPECT_TRUE(HasStatus(calls_.Apply({}).status, StatusCode::INVALID_ARGUMENT,
                        "entities: at least one"));
  EXPECT_TRUE(HasStatus(
      calls_.Apply({Agreement("tbt"), Agreement("trips"), Agreement("tbt")})
          .status,
      StatusCode::INVALID_ARGUMENT,
      "entities[2].name: \"agreements/tbt\" appears more than once (also "
      "entities[0])"));
  v1::Entity unnamed = Agreement("tbt");
  unnamed.clear_name();
  EXPECT_TRUE(HasStatus(calls_.Apply({Agreement("trips"), unnamed}).status,
                        StatusCode::INVALID_ARGUMENT,
                        "entities[1].name: is required"));
  v1::Entity no_payload;
  no_payload.set_name("agreements/tbt");
  EXPECT_TRUE(HasStatus(calls_.Apply({no_payload}).status,
                        StatusCode::INVALID_ARGUMENT, "entities[0].payload"));
  EXPECT_EQ(Revision(), 0u);
}

}  // namespace
}  // namespace atlas::testing
