// AtlasService through the generated stub: Get, Create, Delete, history and
// their errors. (Update, Apply and List have their own files.)

#include "tests/services/service_test_base.h"

namespace atlas::testing {
namespace {

using grpc::StatusCode;

class AtlasServiceTest : public ServiceTest {};

TEST_F(AtlasServiceTest, CreateThenGetReturnsStoredEntityAtItsRevision) {
  auto created = calls_.Create(Agreement("tbt"));
  ASSERT_TRUE(created.ok()) << created.status.error_message();
  EXPECT_EQ(created.response.revision(), 1u);
  const v1::Entity& stored = created.response.entity();
  EXPECT_EQ(stored.name(), "agreements/tbt");
  EXPECT_EQ(stored.create_revision(), 1u);
  EXPECT_EQ(stored.update_revision(), 1u);
  EXPECT_EQ(stored.version(), 1);
  EXPECT_FALSE(stored.etag().empty());
  EXPECT_TRUE(stored.has_create_time());

  auto got = calls_.Get("agreements/tbt");
  ASSERT_TRUE(got.ok()) << got.status.error_message();
  EXPECT_EQ(got.response.revision(), 1u);
  EXPECT_EQ(got.response.entity().SerializeAsString(),
            stored.SerializeAsString());
}

TEST_F(AtlasServiceTest, CreateIgnoresOutputOnlyFields) {
  v1::Entity input = Agreement("tbt");
  input.set_version(42);
  input.set_etag("made-up");
  input.set_create_revision(99);
  auto created = calls_.Create(input);
  ASSERT_TRUE(created.ok()) << created.status.error_message();
  EXPECT_EQ(created.response.entity().version(), 1);
  EXPECT_EQ(created.response.entity().create_revision(), 1u);
  EXPECT_NE(created.response.entity().etag(), "made-up");
}

TEST_F(AtlasServiceTest, CreateExistingIsAlreadyExistsAndWritesNothing) {
  calls_.MustCreate(Agreement("tbt"));
  auto again = calls_.Create(Agreement("tbt", {}, "another summary"));
  EXPECT_TRUE(HasStatus(again.status, StatusCode::ALREADY_EXISTS,
                        "\"agreements/tbt\" already exists"));
  EXPECT_EQ(Revision(), 1u);
  EXPECT_EQ(
      calls_.Get("agreements/tbt").response.entity().agreement().summary(),
      "a summary");
}

TEST_F(AtlasServiceTest, CreateRejectsBadInputNamingTheField) {
  v1::CreateEntityRequest empty;
  v1::WriteEntityResponse response;
  grpc::ClientContext context;
  EXPECT_TRUE(HasStatus(server_.stub().CreateEntity(&context, empty, &response),
                        StatusCode::INVALID_ARGUMENT, "entity: is required"));

  v1::Entity bad_name = Agreement("tbt");
  bad_name.set_name("agreements/Not A Slug");
  EXPECT_TRUE(HasStatus(calls_.Create(bad_name).status,
                        StatusCode::INVALID_ARGUMENT, "entity.name:"));

  v1::Entity wrong_collection = Agreement("tbt");
  wrong_collection.set_name("bodies/tbt");
  EXPECT_TRUE(HasStatus(calls_.Create(wrong_collection).status,
                        StatusCode::INVALID_ARGUMENT, "entity.name:"));

  v1::Entity no_payload;
  no_payload.set_name("agreements/tbt");
  EXPECT_TRUE(HasStatus(calls_.Create(no_payload).status,
                        StatusCode::INVALID_ARGUMENT, "entity.payload:"));

  EXPECT_TRUE(HasStatus(
      calls_.Create(Agreement("tbt", {"no-such-topic"})).status,
      StatusCode::INVALID_ARGUMENT, "entity.topics[0]: unknown topic"));

  v1::Entity bad_date = Agreement("tbt");
  bad_date.mutable_agreement()->set_concluded("1994-13");
  EXPECT_TRUE(HasStatus(calls_.Create(bad_date).status,
                        StatusCode::INVALID_ARGUMENT,
                        "entity.agreement.concluded"));
  EXPECT_EQ(Revision(), 0u);
}

TEST_F(AtlasServiceTest, GetErrors) {
  EXPECT_TRUE(HasStatus(calls_.Get("").status, StatusCode::INVALID_ARGUMENT,
                        "name: is required"));
  EXPECT_TRUE(HasStatus(calls_.Get("nonsense").status,
                        StatusCode::INVALID_ARGUMENT, "name:"));
  EXPECT_TRUE(HasStatus(calls_.Get("widgets/x").status,
                        StatusCode::INVALID_ARGUMENT, "unknown collection"));
  EXPECT_TRUE(HasStatus(calls_.Get("agreements/tbt").status,
                        StatusCode::NOT_FOUND, "agreements/tbt"));
}

TEST_F(AtlasServiceTest, GetAtPastRevisionReturnsThatVersion) {
  calls_.MustCreate(Agreement("tbt", {}, "first"));
  ASSERT_TRUE(calls_.Update(Agreement("tbt", {}, "second")).ok());
  ASSERT_EQ(Revision(), 2u);

  auto old = calls_.Get("agreements/tbt", 1);
  ASSERT_TRUE(old.ok()) << old.status.error_message();
  EXPECT_EQ(old.response.revision(), 1u);
  EXPECT_EQ(old.response.entity().agreement().summary(), "first");

  auto now = calls_.Get("agreements/tbt", 2);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now.response.entity().agreement().summary(), "second");
}

TEST_F(AtlasServiceTest, GetBeyondCurrentRevisionIsOutOfRange) {
  calls_.MustCreate(Agreement("tbt"));
  EXPECT_TRUE(HasStatus(calls_.Get("agreements/tbt", 2).status,
                        StatusCode::OUT_OF_RANGE, "revision"));
}

TEST_F(AtlasServiceTest, GetBeforeCreationOrAfterDeletionIsNotFound) {
  SeedTopics();                                       // revision 1
  calls_.MustCreate(Agreement("tbt"));                // 2
  ASSERT_TRUE(calls_.Delete("agreements/tbt").ok());  // 3
  EXPECT_TRUE(
      HasStatus(calls_.Get("agreements/tbt", 1).status, StatusCode::NOT_FOUND));
  EXPECT_TRUE(calls_.Get("agreements/tbt", 2).ok());
  EXPECT_TRUE(
      HasStatus(calls_.Get("agreements/tbt", 3).status, StatusCode::NOT_FOUND));
  EXPECT_TRUE(
      HasStatus(calls_.Get("agreements/tbt").status, StatusCode::NOT_FOUND));
}

TEST_F(AtlasServiceTest, DeleteReturnsTheTombstoneAtANewRevision) {
  calls_.MustCreate(Agreement("tbt"));
  auto deleted = calls_.Delete("agreements/tbt");
  ASSERT_TRUE(deleted.ok()) << deleted.status.error_message();
  EXPECT_EQ(deleted.response.revision(), 2u);
  EXPECT_TRUE(deleted.response.entity().deleted());
  EXPECT_EQ(deleted.response.entity().update_revision(), 2u);
  EXPECT_EQ(deleted.response.entity().name(), "agreements/tbt");
}

TEST_F(AtlasServiceTest, DeleteMissing) {
  EXPECT_TRUE(HasStatus(calls_.Delete("agreements/tbt").status,
                        StatusCode::NOT_FOUND, "agreements/tbt"));
  auto allowed = calls_.Delete("agreements/tbt", "", /*allow_missing=*/true);
  ASSERT_TRUE(allowed.ok()) << allowed.status.error_message();
  EXPECT_EQ(allowed.response.revision(), 0u);
  EXPECT_FALSE(allowed.response.has_entity());
  EXPECT_TRUE(HasStatus(calls_.Delete("bad name").status,
                        StatusCode::INVALID_ARGUMENT, "name:"));
}

TEST_F(AtlasServiceTest, DeleteWithEtag) {
  const v1::Entity created = calls_.MustCreate(Agreement("tbt"));
  EXPECT_TRUE(HasStatus(calls_.Delete("agreements/tbt", "stale").status,
                        StatusCode::ABORTED, "etag"));
  EXPECT_TRUE(calls_.Get("agreements/tbt").ok());
  EXPECT_EQ(Revision(), 1u);
  EXPECT_TRUE(calls_.Delete("agreements/tbt", created.etag()).ok());
  EXPECT_EQ(Revision(), 2u);
}

TEST_F(AtlasServiceTest, HistoryListsEveryVersionOldestFirst) {
  calls_.MustCreate(Agreement("tbt", {}, "v1"));
  ASSERT_TRUE(calls_.Update(Agreement("tbt", {}, "v2")).ok());
  ASSERT_TRUE(calls_.Delete("agreements/tbt").ok());

  auto all = calls_.History("agreements/tbt");
  ASSERT_TRUE(all.ok()) << all.status.error_message();
  EXPECT_EQ(all.response.revision(), 3u);
  ASSERT_EQ(all.response.versions_size(), 3);
  EXPECT_EQ(all.response.versions(0).agreement().summary(), "v1");
  EXPECT_EQ(all.response.versions(1).agreement().summary(), "v2");
  EXPECT_TRUE(all.response.versions(2).deleted());
  EXPECT_TRUE(all.response.next_page_token().empty());

  auto first = calls_.History("agreements/tbt", 2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first.response.versions_size(), 2);
  ASSERT_FALSE(first.response.next_page_token().empty());
  auto second =
      calls_.History("agreements/tbt", 2, first.response.next_page_token());
  ASSERT_TRUE(second.ok()) << second.status.error_message();
  ASSERT_EQ(second.response.versions_size(), 1);
  EXPECT_TRUE(second.response.versions(0).deleted());
  EXPECT_TRUE(second.response.next_page_token().empty());
}

TEST_F(AtlasServiceTest, HistoryErrors) {
  EXPECT_TRUE(HasStatus(calls_.History("agreements/tbt").status,
                        StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasStatus(calls_.History("").status, StatusCode::INVALID_ARGUMENT,
                        "name:"));
  EXPECT_TRUE(HasStatus(calls_.History("agreements/tbt", 1001).status,
                        StatusCode::INVALID_ARGUMENT, "page_size"));
  EXPECT_TRUE(HasStatus(calls_.History("agreements/tbt", -1).status,
                        StatusCode::INVALID_ARGUMENT, "page_size"));
  calls_.MustCreate(Agreement("tbt"));
  EXPECT_TRUE(HasStatus(calls_.History("agreements/tbt", 1, "%%garbage").status,
                        StatusCode::INVALID_ARGUMENT, "page_token"));
}

}  // namespace
}  // namespace atlas::testing
