#include "storage/field_diff.h"

#include <algorithm>
#include <set>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/wire_format_lite.h>

#include "absl/container/flat_hash_map.h"

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

// The name of each input field of Entity, by field number.
const absl::flat_hash_map<int, std::string>& InputFieldNames() {
  static const auto* names = [] {
    auto* out = new absl::flat_hash_map<int, std::string>;
    const auto* descriptor = v1::Entity::descriptor();
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const auto* field = descriptor->field(i);
      if (!IsOutputOnly(field)) out->emplace(field->number(), field->name());
    }
    return out;
  }();
  return *names;
}

}  // namespace

std::vector<std::string> CreatedPaths(absl::string_view serialized) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(serialized.data()),
      static_cast<int>(serialized.size()));
  const auto& names = InputFieldNames();
  std::vector<std::string> out;
  int previous = 0;
  while (const uint32_t tag = in.ReadTag()) {
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    if (!WireFormatLite::SkipField(&in, tag)) break;  // not the store's own
    if (number == previous) continue;  // the next element of a repeated one
    previous = number;
    if (auto it = names.find(number); it != names.end()) {
      out.push_back(it->second);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

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
