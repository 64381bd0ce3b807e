#include "clients/output_format.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/text_table.h"
#include "google/protobuf/util/time_util.h"
#include "proto/document_codec.h"

namespace atlas::client {
namespace {

using atlas::v1::Entity;
using atlas::v1::WatchResponse;

constexpr size_t kMaxTitleWidth = 60;

std::string Revision(uint64_t revision) {
  return revision == 0 ? "-" : absl::StrCat(revision);
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "yaml") return OutputFormat::kYaml;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown output format \"", name, "\" (use table, json or yaml)"));
}

std::string EntityKind(const Entity& entity) {
  const auto* oneof = Entity::descriptor()->FindOneofByName("payload");
  const auto* field =
      Entity::GetReflection()->GetOneofFieldDescriptor(entity, oneof);
  return field == nullptr ? "" : field->name();
}

std::string EntityTable(const std::vector<Entity>& entities) {
  TextTable table({"NAME", "KIND", "TITLE", "TOPICS", "REVISION"});
  for (const Entity& entity : entities) {
    table.AddRow({entity.name(), EntityKind(entity),
                  Truncate(entity.title(), kMaxTitleWidth),
                  absl::StrJoin(entity.topics(), ","),
                  Revision(entity.update_revision())});
  }
  return table.Render();
}

std::string HistoryTable(const std::vector<Entity>& versions) {
  TextTable table({"REVISION", "VERSION", "UPDATED", "STATE", "TITLE"});
  for (const Entity& entity : versions) {
    table.AddRow(
        {Revision(entity.update_revision()), absl::StrCat(entity.version()),
         entity.has_update_time()
             ? google::protobuf::util::TimeUtil::ToString(entity.update_time())
             : "-",
         entity.deleted() ? "deleted" : "live",
         Truncate(entity.title(), kMaxTitleWidth)});
  }
  return table.Render();
}

absl::StatusOr<std::string> FormatMessage(
    const google::protobuf::Message& message, OutputFormat format) {
  switch (format) {
    case OutputFormat::kJson:
      return documents::EncodeJson(message, documents::JsonLayout::kPretty);
    case OutputFormat::kYaml:
      return documents::EncodeYaml(message);
    case OutputFormat::kTable:
      break;
  }
  return absl::InternalError("table output has no message form");
}

absl::StatusOr<std::string> FormatMessageList(
    const std::vector<const google::protobuf::Message*>& messages,
    OutputFormat format) {
  std::string out;
  if (format == OutputFormat::kJson) {
    if (messages.empty()) return std::string("[]\n");
    out = "[\n";
    for (size_t i = 0; i < messages.size(); ++i) {
      absl::StatusOr<std::string> json =
          documents::EncodeJson(*messages[i], documents::JsonLayout::kPretty);
      if (!json.ok()) return json.status();
      json->pop_back();  // the newline; the separator follows
      absl::StrAppend(&out, *json, i + 1 < messages.size() ? ",\n" : "\n");
    }
    out += "]\n";
    return out;
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    absl::StatusOr<std::string> text = FormatMessage(*messages[i], format);
    if (!text.ok()) return text.status();
    if (i > 0) out += "---\n";
    out += *text;
  }
  return out;
}

absl::StatusOr<std::string> FormatStreamMessage(
    const google::protobuf::Message& message, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    absl::StatusOr<std::string> json =
        documents::EncodeJson(message, documents::JsonLayout::kSingleLine);
    if (!json.ok()) return json.status();
    return *json + "\n";
  }
  absl::StatusOr<std::string> yaml = FormatMessage(message, format);
  if (!yaml.ok()) return yaml.status();
  return "---\n" + *yaml;
}

std::string ChangeTypeWord(atlas::v1::ChangeType type) {
  switch (type) {
    case atlas::v1::CHANGE_TYPE_CREATED:
      return "CREATED";
    case atlas::v1::CHANGE_TYPE_UPDATED:
      return "UPDATED";
    case atlas::v1::CHANGE_TYPE_DELETED:
      return "DELETED";
    default:
      return "UNKNOWN";
  }
}

std::string WatchLines(const WatchResponse& response, size_t max_lines) {
  std::string out;
  size_t lines = 0;
  auto add = [&](std::string line) {
    if (max_lines > 0 && lines >= max_lines) return;
    ++lines;
    absl::StrAppend(&out, line, "\n");
  };
  switch (response.type()) {
    case WatchResponse::TYPE_EVENTS:
      for (const auto& event : response.events()) {
        std::string line = absl::StrCat(event.change().revision(), " ",
                                        ChangeTypeWord(event.change().type()),
                                        " ", event.change().entity().name());
        if (event.left_filter()) line += " (left filter)";
        if (event.entered_filter()) line += " (entered filter)";
        add(std::move(line));
      }
      break;
    case WatchResponse::TYPE_SNAPSHOT:
      for (const Entity& entity : response.snapshot()) {
        add(absl::StrCat(entity.update_revision(), " SNAPSHOT ",
                         entity.name()));
      }
      break;
    case WatchResponse::TYPE_SYNCED:
      add(absl::StrCat(response.revision(), " SYNCED"));
      break;
    default:
      break;
  }
  return out;
}

}  // namespace atlas::client
