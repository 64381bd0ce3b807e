#include "storage/field_diff.h"

#include <algorithm>
#include <set>

#include <google/protobuf/util/message_differencer.h>

namespace atlas::storage {
namespace {

using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

class PathCollector : public MessageDifferencer::Reporter {
 public:
  explicit PathCollector(std::set<std::string>& paths) : paths_(paths) {}

  void ReportAdded(const Message&, const Message&,
                   const std::vector<MessageDifferencer::SpecificField>& path)
      override {
    Record(path);
  }
  void ReportDeleted(const Message&, const Message&,
                     const std::vector<MessageDifferencer::SpecificField>& path)
      override {
    Record(path);
  }
  void ReportModified(
      const Message&, const Message&,
      const std::vector<MessageDifferencer::SpecificField>& path) override {
    Record(path);
  }

 private:
  void Record(const std::vector<MessageDifferencer::SpecificField>& path) {
    std::string joined;
    for (const auto& step : path) {
      if (step.field == nullptr) break;  // unknown fields: not part of paths
      if (!joined.empty()) joined.push_back('.');
      joined += step.field->name();
      if (step.field->is_repeated()) break;
    }
    if (!joined.empty()) paths_.insert(joined);
  }

  std::set<std::string>& paths_;
};

bool IsOutputOnly(const google::protobuf::FieldDescriptor* field) {
  switch (field->number()) {
    case v1::Entity::kCreateRevisionFieldNumber:
    case v1::Entity::kUpdateRevisionFieldNumber:
    case v1::Entity::kVersionFieldNumber:
    case v1::Entity::kEtagFieldNumber:
    case v1::Entity::kCreateTimeFieldNumber:
    case v1::Entity::kUpdateTimeFieldNumber:
    case v1::Entity::kDeletedFieldNumber:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<std::string> ChangedPaths(const v1::Entity& before,
                                      const v1::Entity& after) {
  if (before.ByteSizeLong() == 0) {
    // Nothing set before (a creation): every set input field changed, and
    // each is reported whole, as the differencer reports an added field.
    std::vector<const google::protobuf::FieldDescriptor*> fields;
    after.GetReflection()->ListFields(after, &fields);
    std::vector<std::string> out;
    out.reserve(fields.size());
    for (const auto* field : fields) {
      if (!IsOutputOnly(field)) out.push_back(field->name());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::set<std::string> paths;
  PathCollector collector(paths);
  MessageDifferencer differencer;
  const auto* descriptor = v1::Entity::descriptor();
  for (const char* output_only :
       {"create_revision", "update_revision", "version", "etag", "create_time",
        "update_time", "deleted"}) {
    differencer.IgnoreField(descriptor->FindFieldByName(output_only));
  }
  differencer.ReportDifferencesTo(&collector);
  differencer.Compare(before, after);
  // The differencer also reports the parents of changed fields: keep the
  // most specific paths.
  std::vector<std::string> out;
  for (auto it = paths.begin(); it != paths.end(); ++it) {
    auto next = std::next(it);
    if (next != paths.end() && next->size() > it->size() &&
        next->compare(0, it->size(), *it) == 0 && (*next)[it->size()] == '.') {
      continue;
    }
    out.push_back(*it);
  }
  return out;
}

}  // namespace atlas::storage
