#include "storage/field_diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/entities.h"

namespace atlas::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(FieldDiffTest, EqualContentHasNoPaths) {
  v1::Entity a = testing::Agreement("tbt", {"digital-standards"});
  v1::Entity b = a;
  b.set_update_revision(9);
  b.set_etag("9");
  b.set_version(3);
  EXPECT_THAT(ChangedPaths(a, b), IsEmpty());
}

TEST(FieldDiffTest, ReportsTopLevelAndNestedPaths) {
  v1::Entity a = testing::Agreement("tbt", {"digital-standards"});
  v1::Entity b = a;
  b.add_topics("cybersecurity");
  b.mutable_agreement()->set_summary("new");
  b.set_title("TBT");
  EXPECT_THAT(ChangedPaths(a, b),
              ElementsAre("agreement.summary", "title", "topics"));
}

TEST(FieldDiffTest, StopsAtRepeatedFields) {
  v1::Entity a;
  a.set_name("organizations/wto");
  auto* section = a.mutable_organization()->add_issue_sections();
  section->set_topic("cybersecurity");
  section->set_summary("one");
  v1::Entity b = a;
  b.mutable_organization()->mutable_issue_sections(0)->set_summary("two");
  EXPECT_THAT(ChangedPaths(a, b), ElementsAre("organization.issue_sections"));
}

TEST(FieldDiffTest, CreationListsEverySetField) {
  EXPECT_THAT(ChangedPaths(v1::Entity(), testing::Topic("ai")),
              ElementsAre("name", "title", "topic"));
}

TEST(FieldDiffTest, CreationIgnoresOutputOnlyFieldsAndKeepsEmptyMessages) {
  v1::Entity entity = testing::Agreement("tbt", {"ai"});
  testing::AddLink(entity, "parent", "bodies/tbt-committee");
  entity.set_etag("3");
  entity.set_version(2);
  entity.mutable_update_time()->set_seconds(1);
  entity.mutable_agreement()->Clear();  // present but empty
  EXPECT_THAT(ChangedPaths(v1::Entity(), entity),
              ElementsAre("agreement", "links", "name", "title", "topics"));
  // The same as the differencer's answer: output-only fields are ignored,
  // so this `before` is empty to it (but not to the shortcut).
  v1::Entity output_only;
  output_only.set_etag("1");
  EXPECT_EQ(ChangedPaths(output_only, entity),
            ChangedPaths(v1::Entity(), entity));
  EXPECT_EQ(ChangedPaths(output_only, testing::Topic("ai")),
            ChangedPaths(v1::Entity(), testing::Topic("ai")));
}

TEST(FieldDiffTest, CreatedPathsReadTheWireFormLikeTheDifferencer) {
  v1::Entity linked = testing::Agreement("tbt", {"ai", "cybersecurity"});
  testing::AddLink(linked, "parent", "bodies/tbt-committee");
  testing::AddLink(linked, "related", "agreements/gats");
  linked.add_source_urls("https://www.wto.org/");
  v1::Entity with_output = testing::Topic("ai");
  with_output.set_etag("3");
  with_output.set_version(2);
  with_output.set_deleted(true);
  with_output.mutable_update_time()->set_seconds(1);
  v1::Entity empty_payload = testing::Agreement("gatt", {});
  empty_payload.mutable_agreement()->Clear();  // present but empty
  v1::Entity sections;
  sections.set_name("organizations/wto");
  for (const char* topic : {"ai", "cybersecurity", "data-governance"}) {
    sections.mutable_organization()->add_issue_sections()->set_topic(topic);
  }
  for (const v1::Entity& entity :
       {linked, with_output, empty_payload, sections, v1::Entity()}) {
    SCOPED_TRACE(entity.ShortDebugString());
    EXPECT_EQ(CreatedPaths(entity.SerializeAsString()),
              ChangedPaths(v1::Entity(), entity));
  }
  EXPECT_THAT(CreatedPaths(linked.SerializeAsString()),
              ElementsAre("agreement", "links", "name", "source_urls",
                          "title", "topics"));
  EXPECT_THAT(CreatedPaths(with_output.SerializeAsString()),
              ElementsAre("name", "title", "topic"));
  // A field this build does not know (a newer client's) has no path.
  std::string unknown = testing::Topic("ai").SerializeAsString();
  unknown += std::string("\xa8\x1f\x01", 3);  // field 501, varint 1
  EXPECT_THAT(CreatedPaths(unknown), ElementsAre("name", "title", "topic"));
}

}  // namespace
}  // namespace atlas::storage
