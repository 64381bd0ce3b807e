#include "tests/e2e/e2e_fixture.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "proto/document_files.h"

namespace atlas::e2e {
namespace {

using atlas::v1::Entity;

absl::Status ParseJson(const std::string& json,
                       google::protobuf::Message* message) {
  const auto status =
      google::protobuf::util::JsonStringToMessage(json, message);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a ", message->GetDescriptor()->full_name(),
        " JSON object: ", status.ToString(), "\n", json.substr(0, 2000)));
  }
  return absl::OkStatus();
}

}  // namespace

void E2eTest::SetUp() {
  server_options_.data_dir = data_dir();
  server_options_.seed_dir = DatasetDir();
  StartServer();
}

void E2eTest::TearDown() {
  if (HasFailure() && server_ != nullptr) {
    std::cerr << "atlas-server stderr:\n" << server_->process().Stderr();
  }
}

void E2eTest::StartServer() {
  ASSERT_EQ(server_, nullptr) << "server already running";
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(server_options_);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  address_ = server_->address();
  server_options_.port = server_->port();  // a restart reuses it
}

std::optional<ExitCode> E2eTest::StopServer() {
  if (server_ == nullptr) return std::nullopt;
  const std::optional<ExitCode> code = server_->Terminate(kStartTimeout);
  if (!code.has_value()) {
    ADD_FAILURE() << "atlas-server ignored SIGTERM; stderr:\n"
                  << server_->process().Stderr();
  }
  server_.reset();
  return code;
}

ProcessResult E2eTest::Atlasctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {AtlasctlBinary(), "--server", address_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, kCommandTimeout);
}

std::unique_ptr<Subprocess> E2eTest::StartAtlasctl(
    const std::vector<std::string>& args) {
  std::vector<std::string> argv = {AtlasctlBinary(), "--server", address_};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(argv);
  if (!process.ok()) {
    ADD_FAILURE() << process.status();
    return nullptr;
  }
  return *std::move(process);
}

std::string E2eTest::Apply(const std::string& yaml) {
  const std::string file =
      WriteFile(absl::StrCat("apply-", ++applied_files_, ".yaml"), yaml);
  const ProcessResult result = Atlasctl({"apply", "-f", file});
  EXPECT_EQ(result.exit_code, 0) << Describe(result) << "\nfor:\n" << yaml;
  return result.out;
}

uint64_t E2eTest::Revision() {
  if (server_ == nullptr) {
    ADD_FAILURE() << "no server running";
    return 0;
  }
  absl::StatusOr<uint64_t> revision = server_->Revision();
  if (!revision.ok()) {
    ADD_FAILURE() << revision.status();
    return 0;
  }
  return *revision;
}

std::string E2eTest::WriteFile(const std::string& name,
                               const std::string& text) {
  return dir_.Write(name, text);
}

std::string E2eTest::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string NoteYaml(const std::string& id, const std::string& title,
                     const std::vector<std::string>& topics,
                     const std::string& summary) {
  std::string yaml =
      absl::StrCat("name: documents/", id, "\ntitle: \"", title,
                   "\"\ntopics: [", absl::StrJoin(topics, ", "), "]\n");
  absl::StrAppend(&yaml,
                  "document:\n"
                  "  document_type: DOCUMENT_TYPE_REPORT\n"
                  "  date: \"2025-06\"\n"
                  "  authors: Atlas end-to-end tests\n"
                  "  summary: \"",
                  summary, "\"\n");
  return yaml;
}

std::string WithTitle(const std::string& yaml, const std::string& title) {
  std::vector<std::string> lines = absl::StrSplit(yaml, '\n');
  int replaced = 0;
  for (std::string& line : lines) {
    if (absl::StartsWith(line, "title: ")) {
      line = absl::StrCat("title: \"", title, "\"");
      ++replaced;
    }
  }
  EXPECT_EQ(replaced, 1) << "no single title line in:\n" << yaml;
  return absl::StrJoin(lines, "\n");
}

absl::StatusOr<Entity> ParseEntityJson(const std::string& json) {
  Entity entity;
  if (absl::Status s = ParseJson(json, &entity); !s.ok()) return s;
  return entity;
}

absl::StatusOr<std::vector<Entity>> ParseEntityListJson(
    const std::string& json) {
  // A JSON array of entities is the `entities` field of a list response.
  atlas::v1::ListEntitiesResponse response;
  if (absl::Status s =
          ParseJson(absl::StrCat("{\"entities\": ", json, "}"), &response);
      !s.ok()) {
    return s;
  }
  return std::vector<Entity>(response.entities().begin(),
                             response.entities().end());
}

absl::StatusOr<std::vector<atlas::v1::WatchEvent>> ParseWatchLines(
    const std::string& text) {
  std::vector<atlas::v1::WatchEvent> events;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty()) continue;
    atlas::v1::WatchResponse response;
    if (absl::Status s = ParseJson(std::string(line), &response); !s.ok()) {
      return s;
    }
    if (response.type() != atlas::v1::WatchResponse::TYPE_EVENTS) continue;
    for (const auto& event : response.events()) events.push_back(event);
  }
  return events;
}

std::vector<uint64_t> Revisions(
    const std::vector<atlas::v1::WatchEvent>& events) {
  std::vector<uint64_t> revisions;
  for (const auto& event : events) {
    revisions.push_back(event.change().revision());
  }
  return revisions;
}

size_t LineCount(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

bool PollUntil(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return done();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

std::string Describe(const ProcessResult& result) {
  return absl::StrCat(DescribeExit(result.exit_code), "\n--- stdout:\n",
                      result.out.substr(0, 4000), "\n--- stderr:\n",
                      result.err.substr(0, 4000));
}

std::vector<Entity> DatasetEntities() {
  absl::StatusOr<std::vector<documents::DecodedEntity>> decoded =
      documents::LoadEntities(DatasetDir());
  if (!decoded.ok()) {
    ADD_FAILURE() << decoded.status();
    return {};
  }
  std::vector<Entity> entities;
  for (auto& document : *decoded) {
    entities.push_back(std::move(document.entity));
  }
  return entities;
}

void ExpectOneLineFailure(const ProcessResult& result,
                          const std::vector<std::string>& words) {
  EXPECT_EQ(result.exit_code, 1) << Describe(result);
  EXPECT_EQ(result.out, "") << Describe(result);
  EXPECT_EQ(LineCount(result.err), 1u) << Describe(result);
  EXPECT_TRUE(absl::EndsWith(result.err, "\n")) << Describe(result);
  EXPECT_TRUE(absl::StartsWith(result.err, "atlasctl: ")) << Describe(result);
  for (const std::string& word : words) {
    EXPECT_TRUE(absl::StrContains(result.err, word))
        << "stderr lacks \"" << word << "\"\n"
        << Describe(result);
  }
}

}  // namespace atlas::e2e
