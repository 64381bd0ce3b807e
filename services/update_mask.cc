#include "services/update_mask.h"

#include <google/protobuf/util/field_mask_util.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace atlas::services {
namespace {

using google::protobuf::FieldMask;
using google::protobuf::util::FieldMaskUtil;

constexpr absl::string_view kAllFields = "*";

bool IsOutputOnly(absl::string_view top_level_field) {
  static constexpr absl::string_view kOutputOnly[] = {
      "create_revision", "update_revision", "version", "etag",
      "create_time",     "update_time",     "deleted"};
  for (absl::string_view field : kOutputOnly) {
    if (field == top_level_field) return true;
  }
  return false;
}

}  // namespace

bool IsFullReplacement(const FieldMask& mask) {
  return mask.paths().empty() ||
         (mask.paths_size() == 1 && mask.paths(0) == kAllFields);
}

absl::Status ValidateUpdateMask(const FieldMask& mask) {
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& path = mask.paths(i);
    const std::string field = absl::StrCat("update_mask.paths[", i, "]");
    if (path == kAllFields) {
      if (mask.paths_size() == 1) continue;
      return absl::InvalidArgumentError(absl::StrCat(
          field,
          ": \"*\" (replace everything) cannot be combined with other "
          "paths"));
    }
    if (path.empty() || !FieldMaskUtil::IsValidPath<v1::Entity>(path)) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": \"", path,
          "\" is not a field path of atlas.v1.Entity (e.g. \"topics\", "
          "\"title\", \"agreement.summary\"; repeated fields only as a "
          "whole)"));
    }
    const absl::string_view top =
        absl::string_view(path).substr(0, path.find('.'));
    if (IsOutputOnly(top)) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": \"", path, "\" is output only and set by the server"));
    }
  }
  return absl::OkStatus();
}

void ApplyUpdateMask(const FieldMask& mask, const v1::Entity& source,
                     v1::Entity& target) {
  FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(source, mask, options, &target);
}

}  // namespace atlas::services
