#include "proto/yaml_to_json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/json_text.h"

namespace atlas::documents {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// YAML 1.2 core schema booleans; YAML 1.1's yes/no/on/off stay strings so
// that `code: NO` (Norway) means what it says.
bool ParseBool(absl::string_view text, bool* value) {
  if (text == "true" || text == "True" || text == "TRUE") {
    *value = true;
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    *value = false;
    return true;
  }
  return false;
}

// "[-+]?[0-9]+", returned without '+' and leading zeros; empty if not one.
std::string NormalizeInteger(absl::string_view text) {
  std::string sign;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    if (text[0] == '-') sign = "-";
    text.remove_prefix(1);
  }
  if (text.empty()) return "";
  for (char c : text) {
    if (!IsDigit(c)) return "";
  }
  const size_t first = text.find_first_not_of('0');
  if (first == absl::string_view::npos) return "0";
  return sign + std::string(text.substr(first));
}

// JSON for a YAML float scalar: a JSON number, or one of the strings
// Protobuf's JSON mapping uses for non-finite values. Empty if not a number.
std::string FloatJson(absl::string_view text) {
  if (IsJsonNumber(text)) return std::string(text);
  absl::string_view unsigned_text = text;
  bool negative = false;
  if (!unsigned_text.empty() &&
      (unsigned_text[0] == '-' || unsigned_text[0] == '+')) {
    negative = unsigned_text[0] == '-';
    unsigned_text.remove_prefix(1);
  }
  if (unsigned_text == ".inf" || unsigned_text == ".Inf" ||
      unsigned_text == ".INF" || unsigned_text == "Infinity") {
    return negative ? "\"-Infinity\"" : "\"Infinity\"";
  }
  if (text == ".nan" || text == ".NaN" || text == ".NAN" || text == "NaN") {
    return "\"NaN\"";
  }
  // Other YAML spellings (+1.5, .5, 5., 007) go through strtod; %.17g
  // round-trips every double.
  bool has_digit = false;
  for (char c : unsigned_text) {
    if (IsDigit(c)) {
      has_digit = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-') {
      return "";
    }
  }
  if (!has_digit) return "";
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) return "";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return IsJsonNumber(buffer) ? std::string(buffer) : "";
}

std::string ShapeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "a scalar";
  }
}

class Converter {
 public:
  explicit Converter(const LocationPrefix& where) : where_(where) {}

  std::string TakeJson() { return std::move(json_); }

  absl::Status Message(const YAML::Node& node, const Descriptor& type,
                       const std::string& path) {
    if (!node.IsMap()) {
      return Error(node, path,
                   absl::StrCat("expected a mapping (", type.full_name(),
                                "), got ", ShapeName(node)));
    }
    json_.push_back('{');
    std::set<int> seen;
    std::vector<const FieldDescriptor*> oneof_members(type.oneof_decl_count());
    bool first = true;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      const YAML::Node& value = entry.second;
      if (!key.IsScalar()) {
        return Error(key, path, "field names must be plain strings");
      }
      const FieldDescriptor* field = FindField(type, key.Scalar());
      if (field == nullptr) {
        std::string reason = absl::StrCat("no such field \"", key.Scalar(),
                                          "\" in ", type.full_name());
        if (!path.empty()) absl::StrAppend(&reason, " (at ", path, ")");
        return Error(key, "", reason);
      }
      const std::string field_path =
          path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
      if (!seen.insert(field->number()).second) {
        return Error(key, field_path, "given more than once");
      }
      if (const auto* oneof = field->real_containing_oneof()) {
        const FieldDescriptor*& member = oneof_members[oneof->index()];
        if (member != nullptr) {
          return Error(key, "",
                       absl::StrCat("fields \"", member->name(), "\" and \"",
                                    field->name(), "\" are both set; only one ",
                                    "of \"", oneof->name(), "\" may be"));
        }
        member = field;
      }
      if (value.IsNull()) continue;  // null means "not set"
      if (!first) json_.push_back(',');
      first = false;
      AppendJsonString(field->name(), &json_);
      json_.push_back(':');
      if (absl::Status s = Field(value, *field, field_path); !s.ok()) return s;
    }
    json_.push_back('}');
    return absl::OkStatus();
  }

  // A value without a schema (google.protobuf.Struct and friends): plain
  // scalars that read as JSON literals stay literals, the rest are strings.
  absl::Status Untyped(const YAML::Node& node, const std::string& path) {
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        json_.append("null");
        return absl::OkStatus();
      case YAML::NodeType::Scalar: {
        bool flag = false;
        if (node.Tag() == "?" && ParseBool(node.Scalar(), &flag)) {
          json_.append(flag ? "true" : "false");
        } else if (node.Tag() == "?" && IsJsonNumber(node.Scalar())) {
          json_.append(node.Scalar());
        } else {
          AppendJsonString(node.Scalar(), &json_);
        }
        return absl::OkStatus();
      }
      case YAML::NodeType::Sequence: {
        json_.push_back('[');
        for (size_t i = 0; i < node.size(); ++i) {
          if (i > 0) json_.push_back(',');
          if (absl::Status s =
                  Untyped(node[i], absl::StrCat(path, "[", i, "]"));
              !s.ok()) {
            return s;
          }
        }
        json_.push_back(']');
        return absl::OkStatus();
      }
      case YAML::NodeType::Map: {
        json_.push_back('{');
        bool first = true;
        for (const auto& entry : node) {
          if (!entry.first.IsScalar()) {
            return Error(entry.first, path, "mapping keys must be strings");
          }
          if (!first) json_.push_back(',');
          first = false;
          AppendJsonString(entry.first.Scalar(), &json_);
          json_.push_back(':');
          if (absl::Status s = Untyped(
                  entry.second, absl::StrCat(path, ".", entry.first.Scalar()));
              !s.ok()) {
            return s;
          }
        }
        json_.push_back('}');
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

 private:
  static const FieldDescriptor* FindField(const Descriptor& type,
                                          const std::string& name) {
    // Protobuf's JSON parser accepts the proto name and the lowerCamel JSON
    // name; so do we.
    if (const FieldDescriptor* field = type.FindFieldByName(name)) return field;
    for (int i = 0; i < type.field_count(); ++i) {
      if (type.field(i)->json_name() == name) return type.field(i);
    }
    return nullptr;
  }

  absl::Status Field(const YAML::Node& node, const FieldDescriptor& field,
                     const std::string& path) {
    if (field.is_map()) {
      if (!node.IsMap()) {
        return Error(node, path,
                     absl::StrCat("expected a mapping, got ", ShapeName(node)));
      }
      const FieldDescriptor& value_field = *field.message_type()->map_value();
      json_.push_back('{');
      bool first = true;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return Error(entry.first, path, "map keys must be scalars");
        }
        if (!first) json_.push_back(',');
        first = false;
        AppendJsonString(entry.first.Scalar(), &json_);
        json_.push_back(':');
        if (absl::Status s =
                Single(entry.second, value_field,
                       absl::StrCat(path, "[", entry.first.Scalar(), "]"));
            !s.ok()) {
          return s;
        }
      }
      json_.push_back('}');
      return absl::OkStatus();
    }
    if (field.is_repeated()) {
      if (!node.IsSequence()) {
        return Error(node, path,
                     absl::StrCat("expected a list, got ", ShapeName(node)));
      }
      json_.push_back('[');
      for (size_t i = 0; i < node.size(); ++i) {
        const std::string element_path = absl::StrCat(path, "[", i, "]");
        if (node[i].IsNull()) {
          return Error(node[i], element_path, "null is not allowed in a list");
        }
        if (i > 0) json_.push_back(',');
        if (absl::Status s = Single(node[i], field, element_path); !s.ok()) {
          return s;
        }
      }
      json_.push_back(']');
      return absl::OkStatus();
    }
    return Single(node, field, path);
  }

  // One value of the field's type (an element, for repeated fields).
  absl::Status Single(const YAML::Node& node, const FieldDescriptor& field,
                      const std::string& path) {
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return MessageValue(node, *field.message_type(), path);
    }
    if (node.IsNull()) {
      json_.append("null");
      return absl::OkStatus();
    }
    if (!node.IsScalar()) {
      return Error(
          node, path,
          absl::StrCat("expected a single value, got ", ShapeName(node)));
    }
    const std::string& text = node.Scalar();
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        AppendJsonString(text, &json_);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool flag = false;
        if (!ParseBool(text, &flag)) {
          return Error(
              node, path,
              absl::StrCat("expected true or false, got \"", text, "\""));
        }
        json_.append(flag ? "true" : "false");
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        // Range and sign are checked by the JSON parser.
        std::string integer = NormalizeInteger(text);
        if (integer.empty() && IsJsonNumber(text)) integer = text;  // 1e3
        if (integer.empty()) {
          return Error(node, path,
                       absl::StrCat("expected an integer, got \"", text, "\""));
        }
        json_.append(integer);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        const std::string number = FloatJson(text);
        if (number.empty()) {
          return Error(node, path,
                       absl::StrCat("expected a number, got \"", text, "\""));
        }
        json_.append(number);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const std::string number = NormalizeInteger(text);
        if (!number.empty()) {
          json_.append(number);
        } else if (field.enum_type()->FindValueByName(text) != nullptr) {
          AppendJsonString(text, &json_);
        } else {
          return Error(node, path,
                       absl::StrCat("no value \"", text, "\" in enum ",
                                    field.enum_type()->full_name()));
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
    return absl::OkStatus();
  }

  absl::Status MessageValue(const YAML::Node& node, const Descriptor& type,
                            const std::string& path) {
    const std::string& name = type.full_name();
    if (name == "google.protobuf.Timestamp" ||
        name == "google.protobuf.Duration" ||
        name == "google.protobuf.FieldMask") {
      if (!node.IsScalar()) {
        return Error(node, path,
                     absl::StrCat("expected a string (", name, "), got ",
                                  ShapeName(node)));
      }
      AppendJsonString(node.Scalar(), &json_);
      return absl::OkStatus();
    }
    if (name == "google.protobuf.Struct" || name == "google.protobuf.Value" ||
        name == "google.protobuf.ListValue" || name == "google.protobuf.Any" ||
        name == "google.protobuf.Empty") {
      return Untyped(node, path);
    }
    if (type.file()->name() == "google/protobuf/wrappers.proto") {
      return Single(node, *type.FindFieldByName("value"), path);
    }
    return Message(node, type, path);
  }

  absl::Status Error(const YAML::Node& node, const std::string& path,
                     absl::string_view reason) const {
    std::string message = where_(node.Mark());
    if (!path.empty()) absl::StrAppend(&message, "field \"", path, "\": ");
    absl::StrAppend(&message, reason);
    return absl::InvalidArgumentError(message);
  }

  const LocationPrefix& where_;
  std::string json_;
};

}  // namespace

absl::StatusOr<std::string> YamlToJson(const YAML::Node& node,
                                       const Descriptor& type,
                                       const LocationPrefix& where) {
  try {
    Converter converter(where);
    if (absl::Status s = converter.Message(node, type, ""); !s.ok()) return s;
    return converter.TakeJson();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(where(e.mark), "malformed YAML: ", e.msg));
  }
}

bool PlainScalarIsNotString(absl::string_view text) {
  static const std::set<absl::string_view>* const kReserved =
      new std::set<absl::string_view>{
          "",     "~",     "null",  "Null",  "NULL", "true", "True",
          "TRUE", "false", "False", "FALSE", "y",    "Y",    "yes",
          "Yes",  "YES",   "n",     "N",     "no",   "No",   "NO",
          "on",   "On",    "ON",    "off",   "Off",  "OFF",  ".inf",
          ".Inf", ".INF",  ".nan",  ".NaN",  ".NAN", "<<",   "="};
  if (kReserved->count(text) > 0) return true;
  absl::string_view rest = text;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    rest.remove_prefix(1);
    if (kReserved->count(rest) > 0) return true;
  }
  // Anything that starts like a number (YAML 1.1 also has 0x.., 1_000,
  // 1:30 and dates) is quoted; over-quoting is harmless.
  if (!rest.empty() && IsDigit(rest[0])) return true;
  if (rest.size() >= 2 && rest[0] == '.' && IsDigit(rest[1])) return true;
  return false;
}

}  // namespace atlas::documents
