// Small pieces of services/ without a server: update masks and error field
// renaming.

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "services/store_errors.h"
#include "services/update_mask.h"

namespace atlas::services {
namespace {

google::protobuf::FieldMask Mask(std::initializer_list<const char*> paths) {
  google::protobuf::FieldMask mask;
  for (const char* path : paths) mask.add_paths(path);
  return mask;
}

TEST(UpdateMaskTest, FullReplacement) {
  EXPECT_TRUE(IsFullReplacement(Mask({})));
  EXPECT_TRUE(IsFullReplacement(Mask({"*"})));
  EXPECT_FALSE(IsFullReplacement(Mask({"title"})));
}

TEST(UpdateMaskTest, Validation) {
  EXPECT_TRUE(
      ValidateUpdateMask(Mask({"title", "topics", "links", "agreement.summary",
                               "fact.value", "organization"}))
          .ok());
  EXPECT_TRUE(ValidateUpdateMask(Mask({"*"})).ok());
  for (const char* bad : {"nope", "agreement.nope", "etag", "version",
                          "create_time", "deleted", "links.rel", ""}) {
    absl::Status status = ValidateUpdateMask(Mask({"title", bad}));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StartsWith(status.message(), "update_mask.paths[1]: "))
        << status;
  }
}

TEST(UpdateMaskTest, ApplyReplacesNamedFieldsOnly) {
  v1::Entity target;
  target.set_name("agreements/tbt");
  target.set_title("old");
  target.add_topics("a");
  target.add_topics("b");
  target.mutable_agreement()->set_summary("old summary");
  target.mutable_agreement()->add_principles("p1");
  v1::Entity source;
  source.set_name("agreements/tbt");
  source.add_topics("c");
  source.mutable_agreement()->set_summary("new summary");
  ApplyUpdateMask(Mask({"topics", "agreement.summary", "title"}), source,
                  target);
  EXPECT_EQ(target.title(), "");
  ASSERT_EQ(target.topics_size(), 1);
  EXPECT_EQ(target.topics(0), "c");
  EXPECT_EQ(target.agreement().summary(), "new summary");
  ASSERT_EQ(target.agreement().principles_size(), 1);
}

TEST(StoreErrorsTest, RenamesOnlyALeadingFieldPath) {
  const absl::Status status =
      absl::InvalidArgumentError("mutations[0].topics[1]: unknown topic");
  EXPECT_EQ(RenameErrorField(status, "mutations[0]", "entity").message(),
            "entity.topics[1]: unknown topic");
  EXPECT_EQ(RenameErrorField(status, "mutations[0]", "entity").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RenameErrorField(status, "mutations[1]", "entity"), status);
  EXPECT_EQ(RenameErrorField(absl::OkStatus(), "mutations[0]", "x"),
            absl::OkStatus());
  EXPECT_EQ(AsApplyError(absl::AbortedError("mutations[12]: stale")).message(),
            "entities[12]: stale");
  EXPECT_EQ(
      AsApplyError(absl::InvalidArgumentError("mutations: none")).message(),
      "entities: none");
  EXPECT_EQ(AsApplyError(absl::InvalidArgumentError("mutationsfoo")).message(),
            "mutationsfoo");
}

}  // namespace
}  // namespace atlas::services
