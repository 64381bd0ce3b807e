#pragma once

// How atlasctl prints results: -o table|json|yaml.
//
// json and yaml print messages in Protobuf's JSON mapping (proto field
// names). A single result is one JSON object or YAML document; a listing is a
// JSON array or YAML documents separated by "---" (both readable by
// `atlasctl apply -f`); a stream is one JSON object per line or one YAML
// document per message.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atlas/v1/atlas_service.pb.h"
#include "atlas/v1/entity.pb.h"
#include "google/protobuf/message.h"

namespace atlas::client {

enum class OutputFormat { kTable, kJson, kYaml };

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name);

// The payload field name, e.g. "agreement"; empty if none is set.
std::string EntityKind(const atlas::v1::Entity& entity);

// Columns NAME, KIND, TITLE, TOPICS, REVISION (the update revision).
std::string EntityTable(const std::vector<atlas::v1::Entity>& entities);

// Versions of one entity: REVISION, VERSION, UPDATED, STATE, TITLE.
std::string HistoryTable(const std::vector<atlas::v1::Entity>& versions);

// One message: a pretty JSON object or one YAML document. kTable is not
// accepted here (callers print tables themselves).
absl::StatusOr<std::string> FormatMessage(
    const google::protobuf::Message& message, OutputFormat format);

// A listing: a pretty JSON array, or YAML documents separated by "---".
absl::StatusOr<std::string> FormatMessageList(
    const std::vector<const google::protobuf::Message*>& messages,
    OutputFormat format);

// One message of a stream: a single-line JSON object with '\n', or a YAML
// document starting with "---".
absl::StatusOr<std::string> FormatStreamMessage(
    const google::protobuf::Message& message, OutputFormat format);

// "CREATED" for CHANGE_TYPE_CREATED, and so on.
std::string ChangeTypeWord(atlas::v1::ChangeType type);

// Table lines for a Watch message: "REVISION TYPE NAME" per event (with
// "(left filter)" / "(entered filter)" when set), "REVISION SNAPSHOT NAME"
// per snapshot entity, "REVISION SYNCED" for SYNCED; nothing for PROGRESS.
// At most `max_lines` lines (0: no limit).
std::string WatchLines(const atlas::v1::WatchResponse& response,
                       size_t max_lines = 0);

}  // namespace atlas::client
