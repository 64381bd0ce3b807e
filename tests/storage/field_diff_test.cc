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

}  // namespace
}  // namespace atlas::storage
