#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store.h"
#include "tests/storage/store_fixture.h"

namespace atlas::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ListQuery Q(std::string kind = "", std::string topic = "",
            std::string link = "", int page_size = 0,
            std::string page_token = "") {
  ListQuery q;
  q.kind = std::move(kind);
  q.topic = std::move(topic);
  q.link = std::move(link);
  q.page_size = page_size;
  q.page_token = std::move(page_token);
  return q;
}

std::vector<std::string> Names(const ListPage& page) {
  std::vector<std::string> names;
  for (const auto& e : page.entities) names.push_back(e.name());
  return names;
}

class StoreListTest : public StoreTest {
 protected:
  std::vector<std::string> ListAll(ListQuery query) {
    std::vector<std::string> names;
    do {
      auto page = store_->List(query);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (auto& n : Names(*page)) names.push_back(n);
      query.page_token = page->next_page_token;
    } while (!query.page_token.empty());
    return names;
  }
};

TEST_F(StoreListTest, FiltersByKindTopicAndLink) {
  SeedTopics();
  v1::Entity tbt = testing::Agreement("tbt", {"digital-standards"});
  testing::AddLink(tbt, "administered_by", "bodies/tbt-committee");
  v1::Entity doc = testing::Document("g-tbt-56", "G/TBT/56",
                                     {"digital-standards", "cybersecurity"});
  testing::AddLink(doc, "adopted_by", "bodies/tbt-committee");
  Put({tbt, doc, testing::Agreement("gats", {"e-commerce"})});

  EXPECT_THAT(ListAll(Q("agreement", "", "", 0, "")),
              ElementsAre("agreements/gats", "agreements/tbt"));
  EXPECT_THAT(ListAll(Q("", "digital-standards", "", 0, "")),
              ElementsAre("agreements/tbt", "documents/g-tbt-56"));
  EXPECT_THAT(ListAll(Q("document", "digital-standards", "", 0, "")),
              ElementsAre("documents/g-tbt-56"));
  EXPECT_THAT(ListAll(Q("", "", "bodies/tbt-committee", 0, "")),
              ElementsAre("agreements/tbt", "documents/g-tbt-56"));
  EXPECT_THAT(ListAll(Q("fact", "", "", 0, "")), IsEmpty());
  EXPECT_EQ(ListAll(Q()).size(), 6u);
}

TEST_F(StoreListTest, IndexesFollowTopicAndLinkChangesAndDeletes) {
  SeedTopics();
  v1::Entity tbt = testing::Agreement("tbt", {"digital-standards"});
  testing::AddLink(tbt, "administered_by", "bodies/tbt-committee");
  Put(tbt);
  v1::Entity moved = testing::Agreement("tbt", {"cybersecurity"});
  testing::AddLink(moved, "administered_by", "bodies/general-council");
  Put(moved);
  EXPECT_THAT(ListAll(Q("", "digital-standards", "", 0, "")), IsEmpty());
  EXPECT_THAT(ListAll(Q("", "cybersecurity", "", 0, "")), ElementsAre("agreements/tbt"));
  EXPECT_THAT(ListAll(Q("", "", "bodies/tbt-committee", 0, "")), IsEmpty());
  EXPECT_THAT(ListAll(Q("", "", "bodies/general-council", 0, "")),
              ElementsAre("agreements/tbt"));
  ASSERT_TRUE(Try(Mutation::Delete("agreements/tbt")).ok());
  EXPECT_THAT(ListAll(Q("", "cybersecurity", "", 0, "")), IsEmpty());
  EXPECT_THAT(ListAll(Q("", "", "bodies/general-council", 0, "")), IsEmpty());
  EXPECT_THAT(ListAll(Q("agreement", "", "", 0, "")), IsEmpty());
}

TEST_F(StoreListTest, PagesStayConsistentWhileWritesLand) {
  SeedTopics();
  std::vector<v1::Entity> docs;
  for (int i = 0; i < 25; ++i) {
    docs.push_back(testing::Document("d" + std::to_string(100 + i), "X/" + std::to_string(i),
                                     {"cybersecurity"}));
  }
  Put(docs);
  const uint64_t listing_revision = store_->CurrentRevision();

  ListQuery query = Q("document", "", "", 10);
  auto first = store_->List(query);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->revision, listing_revision);
  std::vector<std::string> names = Names(*first);

  // Writes between pages: a new entity, a deletion, an update.
  Put(testing::Document("d000", "NEW/1", {"cybersecurity"}));
  Put(testing::Document("d199", "NEW/2", {"cybersecurity"}));
  ASSERT_TRUE(Try(Mutation::Delete("documents/d120")).ok());
  Put(testing::Document("d115", "CHANGED", {"cybersecurity"}));

  query.page_token = first->next_page_token;
  while (!query.page_token.empty()) {
    auto page = store_->List(query);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->revision, listing_revision);
    for (const auto& e : page->entities) {
      names.push_back(e.name());
      if (e.name() == "documents/d115") {
        EXPECT_EQ(e.document().symbol(), "X/15");
      }
    }
    query.page_token = page->next_page_token;
  }
  ASSERT_EQ(names.size(), 25u);
  EXPECT_EQ(names.front(), "documents/d100");
  EXPECT_EQ(names.back(), "documents/d124");
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 25u);

  // A new listing sees the new state.
  EXPECT_EQ(ListAll(Q("document", "", "", 0, "")).size(), 26u);
}

TEST_F(StoreListTest, BadQueriesAndTokens) {
  SeedTopics();
  EXPECT_EQ(store_->List(Q("agreements", "", "", 0, "")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List(Q("", "Not A Slug", "", 0, "")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List(Q("", "", "nowhere", 0, "")).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto big = store_->List(Q("", "", "", 5000, ""));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(big.status().message()), HasSubstr("page_size"));
  EXPECT_EQ(store_->List(Q("", "", "", 0, "garbage!")).status().code(),
            absl::StatusCode::kInvalidArgument);

  auto first = store_->List(Q("topic", "", "", 1, ""));
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_page_token.empty());
  auto other_filter = store_->List(
      Q("agreement", "", "", 1, first->next_page_token));
  EXPECT_EQ(other_filter.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(other_filter.status().message()),
              HasSubstr("other filters"));
}

TEST_F(StoreListTest, ExpiredListingIsOutOfRange) {
  SeedTopics();
  auto first = store_->List(Q("topic", "", "", 1, ""));
  ASSERT_TRUE(first.ok());
  now_ += absl::Hours(1);
  auto later = store_->List(
      Q("topic", "", "", 1, first->next_page_token));
  EXPECT_EQ(later.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(later.status().message()), HasSubstr("expired"));
}

}  // namespace
}  // namespace atlas::storage
