#include "proto/document_codec.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/control_characters.h"
#include "google/protobuf/util/json_util.h"
#include "proto/json_text.h"
#include "proto/yaml_to_json.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace atlas::documents {
namespace {

using atlas::v1::Entity;

std::string Prefix(absl::string_view file, int line, int column, int index) {
  std::string prefix = absl::StrCat(file, ":", line, ":", column, ": ");
  if (index > 0) absl::StrAppend(&prefix, "document ", index, ": ");
  return prefix;
}

// Protobuf's parser errors can span lines (with a caret display); the first
// line carries the reason.
std::string FirstLine(absl::string_view message) {
  const size_t end = message.find('\n');
  std::string line(message.substr(0, end));
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

absl::string_view SkipSpaceAndBom(absl::string_view text) {
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  while (!text.empty() && (text[0] == ' ' || text[0] == '\t' ||
                           text[0] == '\n' || text[0] == '\r')) {
    text.remove_prefix(1);
  }
  return text;
}

TextFormat DetectFormat(absl::string_view text, absl::string_view file) {
  if (absl::EndsWithIgnoreCase(file, ".json")) return TextFormat::kJson;
  if (absl::EndsWithIgnoreCase(file, ".yaml") ||
      absl::EndsWithIgnoreCase(file, ".yml")) {
    return TextFormat::kYaml;
  }
  const absl::string_view start = SkipSpaceAndBom(text);
  if (!start.empty() && (start[0] == '{' || start[0] == '[')) {
    return TextFormat::kJson;
  }
  return TextFormat::kYaml;
}

absl::Status ParseJson(absl::string_view json, Entity* entity) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), entity, options);
  if (status.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(FirstLine(
      absl::string_view(status.message().data(), status.message().size())));
}

absl::StatusOr<Entity> DecodeYamlDocument(const YAML::Node& node,
                                          absl::string_view file, int index) {
  const LocationPrefix where = [&](const YAML::Mark& mark) {
    return Prefix(file, mark.line + 1, mark.column + 1, index);
  };
  absl::StatusOr<std::string> json =
      YamlToJson(node, *Entity::descriptor(), where);
  if (!json.ok()) return json.status();
  Entity entity;
  if (absl::Status s = ParseJson(*json, &entity); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where(node.Mark()), "invalid ",
                     Entity::descriptor()->full_name(), ": ", s.message()));
  }
  return entity;
}

// yaml-cpp 0.7 never gets past some stray tokens at the top level (a ','
// after a quoted scalar or a flow collection, as in `"x", y` or `[a],`): it
// reports an empty document at that token again and again, forever. Walking
// the events first and failing when a document starts where the previous one
// did turns that into an error at the offending token.
class DocumentProgressGuard : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (started_ && mark.pos <= last_start_) {
      throw YAML::ParserException(
          mark, "unexpected token at the top level (a ',' belongs inside "
                "[ ] or { })");
    }
    started_ = true;
    last_start_ = mark.pos;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  bool started_ = false;
  int last_start_ = 0;
};

absl::StatusOr<std::vector<DecodedEntity>> DecodeYaml(absl::string_view text,
                                                      absl::string_view file) {
  std::vector<DecodedEntity> decoded;
  // yaml-cpp 0.7 accepts a quoted scalar left open at the end of the input
  // (`title: "x` reads as the title "x "). A document end marker after the
  // text makes it fail as a document indicator inside the scalar; it changes
  // nothing in a well-formed text.
  std::string terminated(text);
  if (!terminated.empty() && terminated.back() != '\n') terminated += '\n';
  const int end_marker_line =
      static_cast<int>(std::count(terminated.begin(), terminated.end(), '\n'));
  terminated += "...\n";
  try {
    {
      std::istringstream stream(terminated);
      YAML::Parser parser(stream);
      DocumentProgressGuard guard;
      while (parser.HandleNextDocument(guard)) {
      }
    }
    const std::vector<YAML::Node> documents = YAML::LoadAll(terminated);
    auto add = [&](const YAML::Node& node) -> absl::Status {
      const int index = static_cast<int>(decoded.size()) + 1;
      absl::StatusOr<Entity> entity = DecodeYamlDocument(node, file, index);
      if (!entity.ok()) return entity.status();
      decoded.push_back(DecodedEntity{
          DocumentOrigin{std::string(file), index, node.Mark().line + 1},
          *std::move(entity)});
      return absl::OkStatus();
    };
    for (const YAML::Node& document : documents) {
      if (document.IsNull()) continue;  // empty or comment-only document
      if (document.IsSequence()) {
        for (const YAML::Node& element : document) {
          if (absl::Status s = add(element); !s.ok()) return s;
        }
      } else if (absl::Status s = add(document); !s.ok()) {
        return s;
      }
    }
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": malformed YAML: ", e.msg));
    }
    if (e.mark.line >= end_marker_line &&
        e.msg == YAML::ErrorMsg::DOC_IN_SCALAR) {
      return absl::InvalidArgumentError(absl::StrCat(
          file,
          ": malformed YAML: a quoted string is not closed before the "
          "end of the file"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(Prefix(file, e.mark.line + 1, e.mark.column + 1, 0),
                     "malformed YAML: ", e.msg));
  }
  return decoded;
}

// Protobuf's JSON errors carry no position. On failure the document is read
// again as YAML (JSON is YAML) to name the offending field and its line.
absl::Status DiagnoseJson(const JsonSlice& slice, absl::string_view file,
                          int index, absl::string_view parser_error) {
  const std::string prefix = Prefix(file, slice.line, slice.column, index);
  const LocationPrefix where = [&](const YAML::Mark& mark) {
    const int line = slice.line + mark.line;
    const int column =
        mark.line == 0 ? slice.column + mark.column : mark.column + 1;
    return Prefix(file, line, column, index);
  };
  try {
    const YAML::Node node = YAML::Load(std::string(slice.text));
    absl::StatusOr<std::string> json =
        YamlToJson(node, *Entity::descriptor(), where);
    if (!json.ok()) return json.status();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "malformed JSON: ", parser_error));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(prefix, "invalid ", Entity::descriptor()->full_name(), ": ",
                   parser_error));
}

absl::StatusOr<std::vector<DecodedEntity>> DecodeJson(absl::string_view text,
                                                      absl::string_view file) {
  absl::StatusOr<std::vector<JsonSlice>> slices = SplitJsonDocuments(text);
  if (!slices.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ":", slices.status().message()));
  }
  std::vector<DecodedEntity> decoded;
  for (const JsonSlice& slice : *slices) {
    const int index = static_cast<int>(decoded.size()) + 1;
    if (slice.text.empty() || slice.text[0] != '{') {
      return absl::InvalidArgumentError(
          absl::StrCat(Prefix(file, slice.line, slice.column, index),
                       "expected a JSON object (an entity), got ",
                       slice.text.substr(0, 20)));
    }
    Entity entity;
    if (absl::Status s = ParseJson(slice.text, &entity); !s.ok()) {
      return DiagnoseJson(slice, file, index, s.message());
    }
    decoded.push_back(
        DecodedEntity{DocumentOrigin{std::string(file), index, slice.line},
                      std::move(entity)});
  }
  return decoded;
}

// yaml-cpp 0.7 writes a carriage return (and other control characters)
// into a plain scalar as is, where a reader takes it for a line break; in
// double quotes it is escaped.
bool HasControlCharacter(absl::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\t' &&
        ControlCharacterAt(text, i) == 1) {
      return true;
    }
  }
  return false;
}

void EmitYaml(const YAML::Node& node, YAML::Emitter* out) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      if (node.size() == 0) *out << YAML::Flow;
      *out << YAML::BeginMap;
      for (const auto& entry : node) {
        *out << YAML::Key;
        EmitYaml(entry.first, out);
        *out << YAML::Value;
        EmitYaml(entry.second, out);
      }
      *out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      if (node.size() == 0) *out << YAML::Flow;
      *out << YAML::BeginSeq;
      for (const YAML::Node& element : node) EmitYaml(element, out);
      *out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      // In JSON, strings are quoted ("!" tag); numbers and booleans are not.
      if ((node.Tag() == "!" && PlainScalarIsNotString(node.Scalar())) ||
          HasControlCharacter(node.Scalar())) {
        *out << YAML::DoubleQuoted;
      }
      *out << node.Scalar();
      break;
    default:
      *out << YAML::Null;
  }
}

}  // namespace

std::string DescribeOrigin(const DocumentOrigin& origin) {
  std::string text = absl::StrCat(origin.file, " document ", origin.index);
  if (origin.line > 0) absl::StrAppend(&text, " (line ", origin.line, ")");
  return text;
}

absl::StatusOr<std::vector<DecodedEntity>> DecodeEntities(
    absl::string_view text, absl::string_view file, TextFormat format) {
  if (format == TextFormat::kAuto) format = DetectFormat(text, file);
  if (format == TextFormat::kJson) return DecodeJson(text, file);
  return DecodeYaml(text, file);
}

absl::StatusOr<std::string> EncodeJson(const google::protobuf::Message& message,
                                       JsonLayout layout) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = layout == JsonLayout::kPretty;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat(
        "cannot encode ", message.GetDescriptor()->full_name(), " as JSON: ",
        absl::string_view(status.message().data(), status.message().size())));
  }
  while (!json.empty() && json.back() == '\n') json.pop_back();
  if (layout == JsonLayout::kPretty) json.push_back('\n');
  return json;
}

absl::StatusOr<std::string> EncodeYaml(
    const google::protobuf::Message& message) {
  absl::StatusOr<std::string> json =
      EncodeJson(message, JsonLayout::kSingleLine);
  if (!json.ok()) return json.status();
  try {
    YAML::Emitter out;
    out.SetIndent(2);
    EmitYaml(YAML::Load(*json), &out);
    if (!out.good()) {
      return absl::InternalError(
          absl::StrCat("cannot encode YAML: ", out.GetLastError()));
    }
    return absl::StrCat(out.c_str(), "\n");
  } catch (const YAML::Exception& e) {
    return absl::InternalError(absl::StrCat("cannot encode YAML: ", e.what()));
  }
}

}  // namespace atlas::documents
