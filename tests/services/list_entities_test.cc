// ListEntities: filters, paging, and every page reflecting the revision of
// the first one while writes land.

#include <functional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/mutex.h"
#include "tests/services/service_test_base.h"

namespace atlas::testing {
namespace {

using grpc::StatusCode;

class ListEntitiesTest : public ServiceTest {
 protected:
  v1::ListEntitiesRequest Query(std::string kind = "", std::string topic = "",
                                std::string link = "", int page_size = 0) {
    v1::ListEntitiesRequest request;
    request.set_kind(std::move(kind));
    request.set_topic(std::move(topic));
    request.set_link(std::move(link));
    request.set_page_size(page_size);
    return request;
  }

  std::vector<std::string> Names(const v1::ListEntitiesResponse& response) {
    std::vector<std::string> names;
    for (const auto& entity : response.entities())
      names.push_back(entity.name());
    return names;
  }

  // Every page of `request`; fails the test if the pages disagree on the
  // revision. Returns the names and the revision.
  std::pair<std::vector<std::string>, uint64_t> ListAll(
      AtlasCalls& calls, v1::ListEntitiesRequest request,
      const std::function<void()>& between_pages = nullptr) {
    std::vector<std::string> names;
    uint64_t revision = 0;
    bool first = true;
    do {
      auto page = calls.List(request);
      EXPECT_TRUE(page.ok()) << page.status.error_message();
      if (!page.ok()) break;
      if (first) revision = page.response.revision();
      EXPECT_EQ(page.response.revision(), revision);
      first = false;
      for (auto& name : Names(page.response)) names.push_back(name);
      request.set_page_token(page.response.next_page_token());
      if (between_pages) between_pages();
    } while (!request.page_token().empty());
    return {names, revision};
  }

  static std::string DocId(int i) { return absl::StrFormat("doc-%03d", i); }
};

TEST_F(ListEntitiesTest, FiltersByKindTopicAndLink) {
  SeedTopics();
  v1::Entity linked = Document("a", "G/1", {"cybersecurity"});
  AddLink(linked, "discussed_in", "bodies/tbt-committee");
  ASSERT_TRUE(calls_
                  .Apply({linked, Document("b", "G/2", {"e-commerce"}),
                          Agreement("tbt", {"cybersecurity"})})
                  .ok());

  auto documents = calls_.List(Query("document"));
  ASSERT_TRUE(documents.ok()) << documents.status.error_message();
  EXPECT_EQ(Names(documents.response),
            (std::vector<std::string>{"documents/a", "documents/b"}));
  EXPECT_EQ(documents.response.revision(), 2u);

  auto cyber = calls_.List(Query("", "cybersecurity"));
  ASSERT_TRUE(cyber.ok());
  EXPECT_EQ(Names(cyber.response),
            (std::vector<std::string>{"agreements/tbt", "documents/a"}));

  auto cyber_documents = calls_.List(Query("document", "cybersecurity"));
  ASSERT_TRUE(cyber_documents.ok());
  EXPECT_EQ(Names(cyber_documents.response),
            std::vector<std::string>{"documents/a"});

  auto by_link = calls_.List(Query("", "", "bodies/tbt-committee"));
  ASSERT_TRUE(by_link.ok());
  EXPECT_EQ(Names(by_link.response), std::vector<std::string>{"documents/a"});

  auto all = calls_.List(Query());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all.response.entities_size(), 6);
  EXPECT_TRUE(all.response.next_page_token().empty());
}

TEST_F(ListEntitiesTest, InvalidArgumentsNameTheField) {
  EXPECT_TRUE(HasStatus(calls_.List(Query("widget")).status,
                        StatusCode::INVALID_ARGUMENT, "kind:"));
  EXPECT_TRUE(HasStatus(calls_.List(Query("", "Not A Slug")).status,
                        StatusCode::INVALID_ARGUMENT, "topic:"));
  EXPECT_TRUE(HasStatus(calls_.List(Query("", "", "nowhere")).status,
                        StatusCode::INVALID_ARGUMENT, "link:"));
  EXPECT_TRUE(HasStatus(calls_.List(Query("", "", "", -1)).status,
                        StatusCode::INVALID_ARGUMENT, "page_size"));
  EXPECT_TRUE(HasStatus(calls_.List(Query("", "", "", 1001)).status,
                        StatusCode::INVALID_ARGUMENT, "page_size"));
  EXPECT_TRUE(calls_.List(Query("", "", "", 1000)).ok());

  v1::ListEntitiesRequest garbage = Query();
  garbage.set_page_token("not a token");
  EXPECT_TRUE(HasStatus(calls_.List(garbage).status,
                        StatusCode::INVALID_ARGUMENT, "page_token"));
}

TEST_F(ListEntitiesTest, PageTokenIsBoundToItsFilters) {
  for (int i = 0; i < 3; ++i) calls_.MustCreate(Document(DocId(i), "G/1"));
  auto first = calls_.List(Query("document", "", "", 1));
  ASSERT_TRUE(first.ok());
  v1::ListEntitiesRequest other = Query("agreement", "", "", 1);
  other.set_page_token(first.response.next_page_token());
  EXPECT_TRUE(HasStatus(calls_.List(other).status, StatusCode::INVALID_ARGUMENT,
                        "page_token"));
}

TEST_F(ListEntitiesTest, LaterPagesIgnoreWritesMadeAfterTheFirst) {
  for (int i = 0; i < 6; i += 2) calls_.MustCreate(Document(DocId(i), "G/1"));
  const uint64_t before = Revision();
  int step = 0;
  auto [names, revision] = ListAll(calls_, Query("document", "", "", 1), [&] {
    // Between pages: create names that sort into every later page, and
    // delete one that has not been listed yet.
    ++step;
    calls_.MustCreate(Document(DocId(2 * step + 1), "G/2"));
    if (step == 1) {
      ASSERT_TRUE(calls_.Delete("documents/" + DocId(4)).ok());
    }
  });
  EXPECT_EQ(revision, before);
  EXPECT_EQ(names,
            (std::vector<std::string>{"documents/doc-000", "documents/doc-002",
                                      "documents/doc-004"}));
  EXPECT_GT(Revision(), before);
}

// A writer creates entities while a reader pages through everything. Each
// listing must hold exactly the entities created at or before its revision.
TEST_F(ListEntitiesTest, ListingsAreConsistentUnderConcurrentWrites) {
  for (int i = 0; i < 20; ++i) calls_.MustCreate(Document(DocId(i), "G/1"));
  atlas::Mutex mu;
  std::vector<std::pair<std::string, uint64_t>> created;  // guarded by mu
  for (int i = 0; i < 20; ++i)
    created.emplace_back("documents/" + DocId(i), i + 1);
  atlas::Notification stop;
  std::thread writer([&] {
    auto stub = server_.NewStub();
    AtlasCalls calls(*stub);
    for (int i = 20; i < 500 && !stop.HasBeenNotified(); ++i) {
      auto reply = calls.Create(Document(DocId(i), "G/1"));
      ASSERT_TRUE(reply.ok()) << reply.status.error_message();
      atlas::MutexLock lock(&mu);
      created.emplace_back(reply.response.entity().name(),
                           reply.response.revision());
    }
  });
  std::vector<std::pair<std::vector<std::string>, uint64_t>> listings;
  for (int round = 0; round < 5; ++round) {
    listings.push_back(ListAll(calls_, Query("document", "", "", 7)));
  }
  stop.Notify();
  writer.join();

  for (const auto& [names, revision] : listings) {
    std::set<std::string> expected;
    for (const auto& [name, created_at] : created) {
      if (created_at <= revision) expected.insert(name);
    }
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), expected)
        << "at revision " << revision;
    EXPECT_EQ(names.size(), expected.size()) << "duplicates at " << revision;
  }
}

}  // namespace
}  // namespace atlas::testing
