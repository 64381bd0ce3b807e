#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store.h"
#include "tests/storage/store_fixture.h"

namespace atlas::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(StoreTest, CreateUpdateDeleteAssignRevisionsAndMetadata) {
  SeedTopics();
  EXPECT_EQ(store_->CurrentRevision(), 1u);

  CommitResult created = Put(testing::Agreement("tbt", {"digital-standards"}));
  EXPECT_EQ(created.revision, 2u);
  ASSERT_EQ(created.results.size(), 1u);
  EXPECT_EQ(created.results[0].outcome, Outcome::kCreated);
  const v1::Entity& e = created.results[0].entity;
  EXPECT_EQ(e.create_revision(), 2u);
  EXPECT_EQ(e.update_revision(), 2u);
  EXPECT_EQ(e.version(), 1);
  EXPECT_FALSE(e.etag().empty());
  EXPECT_EQ(e.create_time().seconds(), 1'700'000'000);

  now_ += absl::Seconds(5);
  CommitResult updated =
      Put(testing::Agreement("tbt", {"digital-standards"}, "changed"));
  EXPECT_EQ(updated.revision, 3u);
  EXPECT_EQ(updated.results[0].outcome, Outcome::kUpdated);
  EXPECT_EQ(updated.results[0].entity.create_revision(), 2u);
  EXPECT_EQ(updated.results[0].entity.version(), 2);
  EXPECT_EQ(updated.results[0].entity.update_time().seconds(), 1'700'000'005);
  EXPECT_NE(updated.results[0].entity.etag(), e.etag());

  auto got = store_->Get("agreements/tbt");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->revision, 3u);
  EXPECT_EQ(got->entity.agreement().summary(), "changed");

  auto deleted = Try(Mutation::Delete("agreements/tbt"));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->revision, 4u);
  EXPECT_EQ(deleted->results[0].outcome, Outcome::kDeleted);
  EXPECT_TRUE(deleted->results[0].entity.deleted());
  EXPECT_EQ(store_->Get("agreements/tbt").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, UnchangedPutCreatesNoRevision) {
  SeedTopics();
  Put(testing::Agreement("tbt"));
  CommitResult again = Put(testing::Agreement("tbt"));
  EXPECT_EQ(again.revision, 2u);
  EXPECT_EQ(again.results[0].outcome, Outcome::kUnchanged);
  EXPECT_EQ(store_->CurrentRevision(), 2u);
}

TEST_F(StoreTest, EveryPreconditionOutcome) {
  SeedTopics();
  const v1::Entity stored = Put(testing::Agreement("tbt")).results[0].entity;
  const uint64_t before = store_->CurrentRevision();

  auto exists = Try(Mutation::Put(testing::Agreement("tbt", {}, "x"),
                                  Expect::kMustNotExist));
  EXPECT_EQ(exists.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(exists.status().message()),
              HasSubstr("mutations[0]: entity \"agreements/tbt\" already exists"));

  auto missing = Try(Mutation::Put(testing::Agreement("gats"), Expect::kMustExist));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);

  Mutation stale = Mutation::Put(testing::Agreement("tbt", {}, "y"));
  stale.expected_etag = "not-the-etag";
  auto stale_result = Try(stale);
  EXPECT_EQ(stale_result.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(stale_result.status().message()),
              HasSubstr("etag \"not-the-etag\" does not match"));

  Mutation stale_revision = Mutation::Put(testing::Agreement("tbt", {}, "y"));
  stale_revision.expected_revision = stored.update_revision() + 100;
  EXPECT_EQ(Try(stale_revision).status().code(), absl::StatusCode::kAborted);

  Mutation etag_on_missing = Mutation::Put(testing::Agreement("trips"));
  etag_on_missing.expected_etag = "1";
  EXPECT_EQ(Try(etag_on_missing).status().code(), absl::StatusCode::kAborted);

  EXPECT_EQ(Try(Mutation::Delete("agreements/gats")).status().code(),
            absl::StatusCode::kNotFound);
  Mutation stale_delete = Mutation::Delete("agreements/tbt");
  stale_delete.expected_etag = "nope";
  EXPECT_EQ(Try(stale_delete).status().code(), absl::StatusCode::kAborted);

  EXPECT_EQ(store_->CurrentRevision(), before);
  EXPECT_EQ(store_->Get("agreements/tbt")->entity.agreement().summary(),
            "a summary");

  Mutation fresh = Mutation::Put(testing::Agreement("tbt", {}, "z"),
                                 Expect::kMustExist);
  fresh.expected_etag = stored.etag();
  fresh.expected_revision = stored.update_revision();
  auto ok = Try(fresh);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->results[0].outcome, Outcome::kUpdated);

  auto allowed = Try(Mutation::Delete("agreements/gats", Expect::kAny));
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->results[0].outcome, Outcome::kUnchanged);
}

TEST_F(StoreTest, MultiEntityCommitIsAllOrNothing) {
  SeedTopics();
  const uint64_t before = store_->CurrentRevision();
  CommitRequest request;
  request.mutations.push_back(Mutation::Put(testing::Agreement("tbt")));
  request.mutations.push_back(Mutation::Put(testing::Agreement("gats")));
  request.mutations.push_back(
      Mutation::Put(testing::Agreement("trips", {"no-such-topic"})));
  auto result = store_->Commit(std::move(request));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("mutations[2].topics[0]: unknown topic \"no-such-topic\""));
  EXPECT_EQ(store_->CurrentRevision(), before);
  EXPECT_EQ(store_->Get("agreements/tbt").status().code(),
            absl::StatusCode::kNotFound);

  CommitResult ok = Put({testing::Agreement("tbt"), testing::Agreement("gats"),
                         testing::Topic("new-topic"),
                         testing::Agreement("trips", {"new-topic"})});
  EXPECT_EQ(ok.revision, before + 1);
  for (const auto& r : ok.results) EXPECT_EQ(r.entity.update_revision(), before + 1);
  auto changes = store_->ReadChanges(before + 1, 10);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->sets.size(), 1u);
  EXPECT_EQ(changes->sets[0].changes_size(), 4);
}

TEST_F(StoreTest, DuplicateNameInOneCommitIsInvalid) {
  SeedTopics();
  CommitRequest request;
  request.mutations.push_back(Mutation::Put(testing::Agreement("tbt")));
  request.mutations.push_back(Mutation::Delete("agreements/tbt"));
  auto result = store_->Commit(std::move(request));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("mutations[1].name: \"agreements/tbt\" appears twice"));
}

TEST_F(StoreTest, BadInputIsInvalidArgumentAndChangesNothing) {
  SeedTopics();
  const uint64_t before = store_->CurrentRevision();
  v1::Entity empty_name = testing::Agreement("x");
  empty_name.set_name("");
  v1::Entity malformed = testing::Agreement("x");
  malformed.set_name("agreements/Not A Slug");
  v1::Entity no_kind;
  no_kind.set_name("agreements/x");
  v1::Entity oversize = testing::Agreement("x", {}, std::string(60000, 'x'));
  for (int i = 0; i < 30; ++i) oversize.add_source_urls("https://x/" + std::string(60000, 'y'));
  for (const v1::Entity& bad : {empty_name, malformed, no_kind, oversize}) {
    auto result = Try(Mutation::Put(bad));
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << bad.name();
    EXPECT_THAT(std::string(result.status().message()), HasSubstr("mutations[0]"));
  }
  EXPECT_EQ(Try(Mutation::Delete("bad name")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Commit(CommitRequest{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CurrentRevision(), before);
}

TEST_F(StoreTest, ValidateOnlyWritesNothing) {
  SeedTopics();
  CommitRequest request;
  request.validate_only = true;
  request.mutations.push_back(Mutation::Put(testing::Agreement("tbt")));
  auto result = store_->Commit(std::move(request));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->results[0].outcome, Outcome::kCreated);
  EXPECT_EQ(result->revision, 1u);
  EXPECT_EQ(store_->CurrentRevision(), 1u);
  EXPECT_EQ(store_->Get("agreements/tbt").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, ChangeLogRecordsBeforeAfterAndPaths) {
  SeedTopics();
  Put(testing::Agreement("tbt", {"digital-standards"}));
  Put(testing::Agreement("tbt", {"cybersecurity"}, "new summary"));
  ASSERT_TRUE(Try(Mutation::Delete("agreements/tbt")).ok());
  auto read = store_->ReadChanges(2, 100);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->sets.size(), 3u);
  EXPECT_EQ(read->revision, 4u);
  const v1::Change& created = read->sets[0].changes(0);
  EXPECT_EQ(created.type(), v1::CHANGE_TYPE_CREATED);
  EXPECT_FALSE(created.has_before());
  const v1::Change& updated = read->sets[1].changes(0);
  EXPECT_EQ(updated.type(), v1::CHANGE_TYPE_UPDATED);
  EXPECT_EQ(updated.before().topics(0), "digital-standards");
  EXPECT_EQ(updated.entity().topics(0), "cybersecurity");
  EXPECT_THAT(updated.changed_paths(), ElementsAre("agreement.summary", "topics"));
  const v1::Change& deleted = read->sets[2].changes(0);
  EXPECT_EQ(deleted.type(), v1::CHANGE_TYPE_DELETED);
  EXPECT_TRUE(deleted.entity().deleted());
  EXPECT_EQ(deleted.before().topics(0), "cybersecurity");
}

TEST_F(StoreTest, HistoryAndReadAtRevision) {
  SeedTopics();
  Put(testing::Agreement("tbt", {}, "v1"));            // 2
  Put(testing::Agreement("tbt", {}, "v2"));            // 3
  ASSERT_TRUE(Try(Mutation::Delete("agreements/tbt")).ok());  // 4
  Put(testing::Agreement("tbt", {}, "reborn"));        // 5

  EXPECT_EQ(store_->Get("agreements/tbt", 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("agreements/tbt", 2)->entity.agreement().summary(), "v1");
  EXPECT_EQ(store_->Get("agreements/tbt", 3)->entity.agreement().summary(), "v2");
  auto at_delete = store_->Get("agreements/tbt", 4);
  EXPECT_EQ(at_delete.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(at_delete.status().message()),
              HasSubstr("deleted at revision 4"));
  auto now = store_->Get("agreements/tbt", 5);
  EXPECT_EQ(now->entity.agreement().summary(), "reborn");
  EXPECT_EQ(now->entity.version(), 1);
  EXPECT_EQ(now->revision, 5u);
  EXPECT_EQ(store_->Get("agreements/tbt", 6).status().code(),
            absl::StatusCode::kOutOfRange);

  auto history = store_->History("agreements/tbt", 2, "");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->versions.size(), 2u);
  EXPECT_FALSE(history->next_page_token.empty());
  auto rest = store_->History("agreements/tbt", 2, history->next_page_token);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->versions.size(), 2u);
  EXPECT_TRUE(rest->next_page_token.empty());
  EXPECT_TRUE(rest->versions[0].deleted());
  EXPECT_EQ(rest->versions[1].agreement().summary(), "reborn");
  EXPECT_EQ(store_->History("agreements/none", 0, "").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, RetentionAndOutOfRange) {
  SeedTopics();
  for (int i = 0; i < 10; ++i) {
    Put(testing::Agreement("tbt", {}, "v" + std::to_string(i)));
  }
  ASSERT_EQ(store_->CurrentRevision(), 11u);
  ASSERT_TRUE(store_->CompactChangeLog(8).ok());
  EXPECT_EQ(store_->OldestRevision(), 8u);
  // History spans the compacted part (versions copied out of the change
  // log) and the retained part (read through it).
  auto history = store_->History("agreements/tbt", 0, "");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->versions.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(history->versions[i].agreement().summary(),
              "v" + std::to_string(i));
    EXPECT_EQ(history->versions[i].update_revision(), i + 2u);
  }
  auto below = store_->ReadChanges(7, 100);
  EXPECT_EQ(below.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(below.status().message()),
              HasSubstr("oldest retained revision is 8"));
  auto at = store_->ReadChanges(8, 100);
  ASSERT_TRUE(at.ok()) << at.status();
  ASSERT_EQ(at->sets.size(), 4u);
  EXPECT_EQ(at->sets[0].revision(), 8u);
  // Compaction never passes the current revision and never goes back.
  ASSERT_TRUE(store_->CompactChangeLog(1000).ok());
  EXPECT_EQ(store_->OldestRevision(), 12u);
  ASSERT_TRUE(store_->CompactChangeLog(3).ok());
  EXPECT_EQ(store_->OldestRevision(), 12u);
  EXPECT_TRUE(store_->ReadChanges(12, 10)->sets.empty());
  // History outlives the change log.
  EXPECT_EQ(store_->Get("agreements/tbt", 3)->entity.agreement().summary(), "v1");
}

TEST_F(StoreTest, ReopenKeepsEverything) {
  SeedTopics();
  Put(testing::Agreement("tbt", {"cybersecurity"}));
  Put(testing::Agreement("gats", {"e-commerce"}));
  ASSERT_TRUE(store_->CompactChangeLog(2).ok());
  Reopen();
  EXPECT_EQ(store_->CurrentRevision(), 3u);
  EXPECT_EQ(store_->OldestRevision(), 2u);
  EXPECT_EQ(store_->Get("agreements/tbt")->entity.topics(0), "cybersecurity");
  EXPECT_EQ(store_->ReadChanges(2, 10)->sets.size(), 2u);
  EXPECT_EQ(Put(testing::Agreement("trips")).revision, 4u);
}

class RecordingObserver : public CommitObserver {
 public:
  void OnCommit(const v1::ChangeSet& set) override {
    revisions.push_back(set.revision());
  }
  std::vector<uint64_t> revisions;
};

TEST_F(StoreTest, ObserverSeesEachDurableCommitInOrder) {
  RecordingObserver observer;
  store_->SetCommitObserver(&observer);
  SeedTopics();
  Put(testing::Agreement("tbt"));
  Put(testing::Agreement("tbt"));  // unchanged: no commit
  EXPECT_EQ(Try(Mutation::Delete("agreements/none")).status().code(),
            absl::StatusCode::kNotFound);
  Put(testing::Agreement("gats"));
  EXPECT_THAT(observer.revisions, ElementsAre(1, 2, 3));
}

}  // namespace
}  // namespace atlas::storage

namespace atlas::storage {
namespace {

TEST_F(StoreTest, TopicMayComeLaterInTheSameCommit) {
  CommitResult result = Put({testing::Agreement("tbt", {"late-topic"}),
                             testing::Topic("late-topic")});
  EXPECT_EQ(result.results[0].outcome, Outcome::kCreated);
  CommitRequest request;
  request.mutations.push_back(Mutation::Put(testing::Agreement("gats", {"late-topic"})));
  request.mutations.push_back(Mutation::Delete("topics/late-topic"));
  auto deleted = store_->Commit(std::move(request));
  EXPECT_EQ(deleted.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace atlas::storage
