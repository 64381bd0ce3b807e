// The `view` of CreateEntity, UpdateEntity and DeleteEntity: WRITE_VIEW_BASIC
// answers with the entity's name and output-only fields, WRITE_VIEW_FULL (or
// no view) with the whole entity; what is stored is the same either way.

#include "storage/entity_rules.h"
#include "tests/services/service_test_base.h"

namespace atlas::testing {
namespace {

using grpc::StatusCode;

class WriteViewTest : public ServiceTest {
 protected:
  // A basic answer is the output-only half of what is stored: with the
  // stored content merged in, it is the stored entity, byte for byte.
  void ExpectBasicViewOf(const v1::Entity& basic, const std::string& name) {
    EXPECT_EQ(basic.name(), name);
    EXPECT_EQ(basic.payload_case(), v1::Entity::PAYLOAD_NOT_SET);
    EXPECT_TRUE(basic.title().empty());
    EXPECT_EQ(basic.topics_size(), 0);
    EXPECT_FALSE(basic.etag().empty());
    EXPECT_TRUE(basic.has_update_time());

    auto read = calls_.Get(name);
    ASSERT_TRUE(read.ok()) << read.status.error_message();
    v1::Entity content = read.response.entity();
    storage::ClearOutputOnly(content);
    v1::Entity merged = basic;
    merged.MergeFrom(content);
    EXPECT_EQ(merged.SerializeAsString(),
              read.response.entity().SerializeAsString());
  }
};

TEST_F(WriteViewTest, CreateWithBasicViewLeavesOutTheContent) {
  auto created = calls_.Create(Agreement("tbt"), v1::WRITE_VIEW_BASIC);
  ASSERT_TRUE(created.ok()) << created.status.error_message();
  EXPECT_EQ(created.response.revision(), 1u);
  EXPECT_EQ(created.response.entity().version(), 1);
  EXPECT_EQ(created.response.entity().create_revision(), 1u);
  ExpectBasicViewOf(created.response.entity(), "agreements/tbt");
}

TEST_F(WriteViewTest, UpdatesWithBasicViewLeaveOutTheContent) {
  calls_.MustCreate(Agreement("tbt"));
  // A full replacement, then a masked update (read, merge, write).
  auto replaced = calls_.Update(Agreement("tbt", {}, "replaced"), {}, false,
                                v1::WRITE_VIEW_BASIC);
  ASSERT_TRUE(replaced.ok()) << replaced.status.error_message();
  EXPECT_EQ(replaced.response.entity().version(), 2);
  ExpectBasicViewOf(replaced.response.entity(), "agreements/tbt");

  v1::Entity title_only;
  title_only.set_name("agreements/tbt");
  title_only.set_title("Technical Barriers to Trade");
  auto masked =
      calls_.Update(title_only, {"title"}, false, v1::WRITE_VIEW_BASIC);
  ASSERT_TRUE(masked.ok()) << masked.status.error_message();
  EXPECT_EQ(masked.response.revision(), 3u);
  EXPECT_EQ(masked.response.entity().update_revision(), 3u);
  ExpectBasicViewOf(masked.response.entity(), "agreements/tbt");
  EXPECT_EQ(calls_.Get("agreements/tbt").response.entity().title(),
            "Technical Barriers to Trade");
}

TEST_F(WriteViewTest, DeleteWithBasicViewAnswersWithTheTombstoneFields) {
  calls_.MustCreate(Agreement("tbt"));
  auto deleted =
      calls_.Delete("agreements/tbt", "", false, v1::WRITE_VIEW_BASIC);
  ASSERT_TRUE(deleted.ok()) << deleted.status.error_message();
  const v1::Entity& tombstone = deleted.response.entity();
  EXPECT_EQ(tombstone.name(), "agreements/tbt");
  EXPECT_TRUE(tombstone.deleted());
  EXPECT_EQ(tombstone.update_revision(), 2u);
  EXPECT_EQ(tombstone.payload_case(), v1::Entity::PAYLOAD_NOT_SET);
  EXPECT_TRUE(tombstone.title().empty());

  // Nothing to delete: no entity in the answer, whatever the view.
  auto missing =
      calls_.Delete("agreements/tbt", "", true, v1::WRITE_VIEW_BASIC);
  ASSERT_TRUE(missing.ok()) << missing.status.error_message();
  EXPECT_FALSE(missing.response.has_entity());
}

TEST_F(WriteViewTest, FullViewIsTheDefault) {
  auto unset = calls_.Create(Agreement("tbt"));
  auto full = calls_.Create(Agreement("ita"), v1::WRITE_VIEW_FULL);
  ASSERT_TRUE(unset.ok() && full.ok());
  EXPECT_EQ(unset.response.entity().agreement().summary(), "a summary");
  EXPECT_EQ(full.response.entity().agreement().summary(), "a summary");
  EXPECT_EQ(full.response.entity().SerializeAsString(),
            calls_.Get("agreements/ita").response.entity().SerializeAsString());
}

TEST_F(WriteViewTest, UnknownViewIsRefusedAndWritesNothing) {
  const auto unknown = static_cast<v1::WriteView>(7);
  constexpr char kMessage[] = "view: unknown WriteView value 7";
  EXPECT_TRUE(HasStatus(calls_.Create(Agreement("tbt"), unknown).status,
                        StatusCode::INVALID_ARGUMENT, kMessage));
  EXPECT_EQ(Revision(), 0u);

  calls_.MustCreate(Agreement("tbt"));
  // A full replacement and a masked update.
  const v1::Entity changed = Agreement("tbt", {}, "changed");
  for (const std::vector<std::string>& mask :
       {std::vector<std::string>{}, std::vector<std::string>{"agreement"}}) {
    EXPECT_TRUE(HasStatus(calls_.Update(changed, mask, false, unknown).status,
                          StatusCode::INVALID_ARGUMENT, kMessage));
  }
  EXPECT_TRUE(
      HasStatus(calls_.Delete("agreements/tbt", "", false, unknown).status,
                StatusCode::INVALID_ARGUMENT, kMessage));
  EXPECT_EQ(Revision(), 1u);
  EXPECT_EQ(
      calls_.Get("agreements/tbt").response.entity().agreement().summary(),
      "a summary");
}

}  // namespace
}  // namespace atlas::testing
