// UpdateEntity: full replacement, update masks, etags, allow_missing, and
// masked updates racing each other.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/services/service_test_base.h"

namespace atlas::testing {
namespace {

using grpc::StatusCode;

class UpdateEntityTest : public ServiceTest {
 protected:
  // agreements/tbt with title, topics, summary and acronym set (revision 2).
  v1::Entity CreateFull() {
    SeedTopics();
    v1::Entity entity = Agreement("tbt", {"cybersecurity"}, "old summary");
    entity.set_title("Old title");
    entity.mutable_agreement()->set_acronym("TBT");
    return calls_.MustCreate(entity);
  }
};

TEST_F(UpdateEntityTest, WithoutMaskReplacesTheWholeEntity) {
  CreateFull();
  auto updated = calls_.Update(Agreement("tbt", {}, "new summary"));
  ASSERT_TRUE(updated.ok()) << updated.status.error_message();
  EXPECT_EQ(updated.response.revision(), 3u);
  const v1::Entity& entity = updated.response.entity();
  EXPECT_EQ(entity.version(), 2);
  EXPECT_EQ(entity.create_revision(), 2u);
  EXPECT_EQ(entity.update_revision(), 3u);
  EXPECT_EQ(entity.agreement().summary(), "new summary");
  EXPECT_TRUE(entity.agreement().acronym().empty());
  EXPECT_EQ(entity.topics_size(), 0);
}

TEST_F(UpdateEntityTest, UnchangedContentWritesNoRevision) {
  const v1::Entity stored = CreateFull();
  v1::Entity same = stored;
  auto updated = calls_.Update(same);
  ASSERT_TRUE(updated.ok()) << updated.status.error_message();
  EXPECT_EQ(updated.response.revision(), 2u);
  EXPECT_EQ(updated.response.entity().version(), 1);
  EXPECT_EQ(Revision(), 2u);
}

TEST_F(UpdateEntityTest, MissingIsNotFoundUnlessAllowed) {
  EXPECT_TRUE(HasStatus(calls_.Update(Agreement("tbt")).status,
                        StatusCode::NOT_FOUND, "agreements/tbt"));
  EXPECT_TRUE(HasStatus(calls_.Update(Agreement("tbt"), {"title"}).status,
                        StatusCode::NOT_FOUND, "agreements/tbt"));
  EXPECT_EQ(Revision(), 0u);

  auto created = calls_.Update(Agreement("tbt"), {}, /*allow_missing=*/true);
  ASSERT_TRUE(created.ok()) << created.status.error_message();
  EXPECT_EQ(created.response.entity().version(), 1);
  EXPECT_EQ(created.response.entity().create_revision(), 1u);
}

TEST_F(UpdateEntityTest, MaskedUpdateWithAllowMissingCreatesFromMaskedFields) {
  v1::Entity input = Agreement("tbt", {}, "summary");
  input.set_title("Title");
  auto created =
      calls_.Update(input, {"title", "agreement"}, /*allow_missing=*/true);
  ASSERT_TRUE(created.ok()) << created.status.error_message();
  EXPECT_EQ(created.response.entity().title(), "Title");
  EXPECT_EQ(created.response.entity().agreement().summary(), "summary");
  EXPECT_EQ(created.response.entity().version(), 1);
}

TEST_F(UpdateEntityTest, EtagPreconditions) {
  const v1::Entity stored = CreateFull();
  v1::Entity stale = Agreement("tbt", {}, "x");
  stale.set_etag("not-the-etag");
  EXPECT_TRUE(
      HasStatus(calls_.Update(stale).status, StatusCode::ABORTED, "etag"));
  EXPECT_TRUE(HasStatus(calls_.Update(stale, {"agreement.summary"}).status,
                        StatusCode::ABORTED, "etag"));
  EXPECT_EQ(Revision(), 2u);

  v1::Entity fresh = Agreement("tbt", {}, "x");
  fresh.set_etag(stored.etag());
  auto updated = calls_.Update(fresh, {"agreement.summary"});
  ASSERT_TRUE(updated.ok()) << updated.status.error_message();
  EXPECT_EQ(updated.response.entity().agreement().summary(), "x");

  // The etag read before the update is now stale.
  EXPECT_TRUE(HasStatus(calls_.Update(fresh).status, StatusCode::ABORTED));
}

TEST_F(UpdateEntityTest, MaskReplacesOnlyTheNamedFields) {
  CreateFull();
  v1::Entity input;
  input.set_name("agreements/tbt");
  input.set_title("ignored: not in the mask");
  input.mutable_agreement()->set_summary("new summary");
  auto updated = calls_.Update(input, {"agreement.summary"});
  ASSERT_TRUE(updated.ok()) << updated.status.error_message();
  const v1::Entity& entity = updated.response.entity();
  EXPECT_EQ(entity.agreement().summary(), "new summary");
  EXPECT_EQ(entity.agreement().acronym(), "TBT");
  EXPECT_EQ(entity.title(), "Old title");
  ASSERT_EQ(entity.topics_size(), 1);
  EXPECT_EQ(entity.topics(0), "cybersecurity");
  EXPECT_EQ(entity.version(), 2);
}

TEST_F(UpdateEntityTest, MaskedFieldsAbsentFromTheRequestAreCleared) {
  CreateFull();
  v1::Entity input;
  input.set_name("agreements/tbt");
  auto updated = calls_.Update(input, {"topics", "title"});
  ASSERT_TRUE(updated.ok()) << updated.status.error_message();
  EXPECT_EQ(updated.response.entity().topics_size(), 0);
  EXPECT_TRUE(updated.response.entity().title().empty());
  EXPECT_EQ(updated.response.entity().agreement().summary(), "old summary");
}

TEST_F(UpdateEntityTest, MaskNamingAWholeMessageReplacesIt) {
  CreateFull();
  v1::Entity input = Agreement("tbt", {}, "replacement");
  auto updated = calls_.Update(input, {"agreement"});
  ASSERT_TRUE(updated.ok()) << updated.status.error_message();
  EXPECT_EQ(updated.response.entity().agreement().summary(), "replacement");
  EXPECT_TRUE(updated.response.entity().agreement().acronym().empty());
  EXPECT_EQ(updated.response.entity().title(), "Old title");
}

TEST_F(UpdateEntityTest, StarMaskIsAFullReplacement) {
  CreateFull();
  auto updated = calls_.Update(Agreement("tbt", {}, "all new"), {"*"});
  ASSERT_TRUE(updated.ok()) << updated.status.error_message();
  EXPECT_EQ(updated.response.entity().topics_size(), 0);
  EXPECT_EQ(updated.response.entity().agreement().summary(), "all new");
}

TEST_F(UpdateEntityTest, BadMaskPathsAreInvalidArgumentNamingThePath) {
  CreateFull();
  EXPECT_TRUE(
      HasStatus(calls_.Update(Agreement("tbt"), {"title", "titel"}).status,
                StatusCode::INVALID_ARGUMENT, "update_mask.paths[1]"));
  EXPECT_TRUE(HasStatus(calls_.Update(Agreement("tbt"), {"etag"}).status,
                        StatusCode::INVALID_ARGUMENT,
                        "update_mask.paths[0]: \"etag\" is output only"));
  EXPECT_TRUE(
      HasStatus(calls_.Update(Agreement("tbt"), {"update_time.seconds"}).status,
                StatusCode::INVALID_ARGUMENT, "update_mask.paths[0]"));
  EXPECT_TRUE(HasStatus(calls_.Update(Agreement("tbt"), {"*", "title"}).status,
                        StatusCode::INVALID_ARGUMENT, "update_mask.paths[0]"));
  EXPECT_TRUE(HasStatus(
      calls_.Update(Agreement("tbt"), {"organization.issue_sections.summary"})
          .status,
      StatusCode::INVALID_ARGUMENT, "update_mask.paths[0]"));
  EXPECT_EQ(Revision(), 2u);
}

TEST_F(UpdateEntityTest, MaskedResultIsValidatedLikeAnyWrite) {
  CreateFull();
  v1::Entity input;
  input.set_name("agreements/tbt");
  input.add_topics("no-such-topic");
  EXPECT_TRUE(HasStatus(calls_.Update(input, {"topics"}).status,
                        StatusCode::INVALID_ARGUMENT,
                        "entity.topics[0]: unknown topic"));
  // Switching the payload kind clashes with the collection in the name.
  v1::Entity body;
  body.set_name("agreements/tbt");
  body.mutable_body()->set_acronym("X");
  EXPECT_TRUE(HasStatus(calls_.Update(body, {"body"}).status,
                        StatusCode::INVALID_ARGUMENT, "entity.name"));
}

TEST_F(UpdateEntityTest, RequestWithoutEntityIsInvalid) {
  v1::UpdateEntityRequest request;
  v1::WriteEntityResponse response;
  grpc::ClientContext context;
  EXPECT_TRUE(
      HasStatus(server_.stub().UpdateEntity(&context, request, &response),
                StatusCode::INVALID_ARGUMENT, "entity: is required"));
}

// Writers each own one field and update only it, through a mask, at the same
// time. A read-modify-write that overwrote a concurrent change would leave a
// field with an older value than its writer's last one.
TEST_F(UpdateEntityTest, ConcurrentMaskedUpdatesLoseNothing) {
  CreateFull();
  const std::vector<std::string> paths = {"title", "agreement.summary",
                                          "agreement.acronym",
                                          "agreement.concluded_at"};
  constexpr int kUpdatesPerWriter = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (const std::string& path : paths) {
    writers.emplace_back([&, path] {
      auto stub = server_.NewStub();
      AtlasCalls calls(*stub);
      for (int i = 1; i <= kUpdatesPerWriter; ++i) {
        v1::Entity input;
        input.set_name("agreements/tbt");
        const std::string value = absl::StrCat(path, " #", i);
        if (path == "title") input.set_title(value);
        if (path == "agreement.summary")
          input.mutable_agreement()->set_summary(value);
        if (path == "agreement.acronym")
          input.mutable_agreement()->set_acronym(value);
        if (path == "agreement.concluded_at") {
          input.mutable_agreement()->set_concluded_at(value);
        }
        // The server retries a few times; under this much contention the
        // client may still have to.
        grpc::Status status;
        do {
          status = calls.Update(input, {path}).status;
        } while (status.error_code() == grpc::StatusCode::ABORTED);
        if (!status.ok()) ++failures;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(failures.load(), 0);

  auto got = calls_.Get("agreements/tbt");
  ASSERT_TRUE(got.ok());
  const v1::Entity& entity = got.response.entity();
  const std::string last = absl::StrCat(" #", kUpdatesPerWriter);
  EXPECT_EQ(entity.title(), "title" + last);
  EXPECT_EQ(entity.agreement().summary(), "agreement.summary" + last);
  EXPECT_EQ(entity.agreement().acronym(), "agreement.acronym" + last);
  EXPECT_EQ(entity.agreement().concluded_at(), "agreement.concluded_at" + last);
  EXPECT_EQ(entity.version(),
            1 + static_cast<int>(paths.size()) * kUpdatesPerWriter);
}

}  // namespace
}  // namespace atlas::testing
