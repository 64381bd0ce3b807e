#include "services/subscription_filter.h"

#include <gtest/gtest.h>

#include "tests/testing/entities.h"

namespace atlas::services {
namespace {

v1::Change Updated(const v1::Entity& before, const v1::Entity& after) {
  v1::Change change;
  change.set_type(v1::CHANGE_TYPE_UPDATED);
  *change.mutable_before() = before;
  *change.mutable_entity() = after;
  return change;
}

SubscriptionFilter Make(const v1::WatchFilter& proto) {
  auto filter = SubscriptionFilter::Create(proto);
  EXPECT_TRUE(filter.ok()) << filter.status();
  return *filter;
}

TEST(SubscriptionFilterTest, EmptyFilterMatchesEverything) {
  auto verdict = Make({}).Evaluate(
      Updated(testing::Agreement("a"), testing::Agreement("a", {}, "x")));
  EXPECT_TRUE(verdict.deliver);
  EXPECT_FALSE(verdict.left || verdict.entered);
}

TEST(SubscriptionFilterTest, OrWithinAFieldAndAcrossFields) {
  v1::WatchFilter proto;
  proto.add_topics("a");
  proto.add_topics("b");
  proto.add_kinds("document");
  SubscriptionFilter filter = Make(proto);
  EXPECT_TRUE(filter.MatchesEntity(testing::Document("d", "S", {"b"})));
  EXPECT_TRUE(filter.MatchesEntity(testing::Document("d", "S", {"c", "a"})));
  EXPECT_FALSE(filter.MatchesEntity(testing::Document("d", "S", {"c"})));
  EXPECT_FALSE(filter.MatchesEntity(testing::Agreement("d", {"a"})));
}

TEST(SubscriptionFilterTest, TopicEnterAndLeave) {
  v1::WatchFilter proto;
  proto.add_topics("a");
  SubscriptionFilter filter = Make(proto);
  auto enter = filter.Evaluate(
      Updated(testing::Agreement("x", {"b"}), testing::Agreement("x", {"a"})));
  EXPECT_TRUE(enter.deliver && enter.entered && !enter.left);
  auto leave = filter.Evaluate(
      Updated(testing::Agreement("x", {"a"}), testing::Agreement("x", {"b"})));
  EXPECT_TRUE(leave.deliver && leave.left && !leave.entered);
  auto outside = filter.Evaluate(
      Updated(testing::Agreement("x", {"b"}), testing::Agreement("x", {"c"})));
  EXPECT_FALSE(outside.deliver);
}

TEST(SubscriptionFilterTest, ChangeTypesAndPrefixes) {
  v1::WatchFilter proto;
  proto.add_change_types(v1::CHANGE_TYPE_DELETED);
  proto.add_name_prefixes("agreements/t");
  SubscriptionFilter filter = Make(proto);
  v1::Change deleted;
  deleted.set_type(v1::CHANGE_TYPE_DELETED);
  *deleted.mutable_entity() = testing::Agreement("tbt");
  EXPECT_TRUE(filter.Evaluate(deleted).deliver);
  *deleted.mutable_entity() = testing::Agreement("gats");
  EXPECT_FALSE(filter.Evaluate(deleted).deliver);
  EXPECT_FALSE(filter
                   .Evaluate(Updated(testing::Agreement("tbt"),
                                     testing::Agreement("tbt", {}, "x")))
                   .deliver);
}

TEST(SubscriptionFilterTest, RejectsMalformedFilters) {
  v1::WatchFilter bad;
  bad.add_linked("not a name");
  auto status = SubscriptionFilter::Create(bad).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("filter.linked[0]"), absl::string_view::npos);
  v1::WatchFilter empty_prefix;
  empty_prefix.add_name_prefixes("");
  EXPECT_EQ(SubscriptionFilter::Create(empty_prefix).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace atlas::services
