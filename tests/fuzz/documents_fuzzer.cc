// Fuzz target: atlasctl's document parsing (YAML and JSON entity files).
//
// The first byte picks how the text is read (as .yaml, as .json, by content,
// or from a file through LoadEntities); the rest is the text. Decoding must
// end in entities or INVALID_ARGUMENT, never a crash or an escaped
// exception, and every decoded entity must survive the documented round trip:
// encoded as JSON or YAML and decoded again, it is the identical message.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/document_codec.h"
#include "proto/document_files.h"
#include "tests/fuzz/fuzz_check.h"

namespace atlas::fuzz {
namespace {

using documents::DecodedEntity;
using documents::DecodeEntities;
using documents::TextFormat;

void CheckDecodeVerdict(const absl::Status& status, const std::string& what) {
  Check(status.ok() || status.code() == absl::StatusCode::kInvalidArgument,
        what + " returned " + status.ToString());
}

void CheckRoundTrip(const v1::Entity& entity, absl::string_view encoded,
                    absl::string_view file) {
  absl::StatusOr<std::vector<DecodedEntity>> again =
      DecodeEntities(encoded, file);
  Check(again.ok(), "decoding our own " + std::string(file) + " output (" +
                        std::string(encoded) + ") failed: " +
                        again.status().ToString());
  Check(again->size() == 1, "our own " + std::string(file) +
                                " output decoded to a different entity count");
  Check((*again)[0].entity.SerializeAsString() == entity.SerializeAsString(),
        "round trip through " + std::string(file) + " changed the entity: " +
            std::string(encoded));
}

void CheckDecoded(const std::vector<DecodedEntity>& decoded) {
  for (const DecodedEntity& d : decoded) {
    // Whatever is decoded must be storable: its wire form reads back.
    v1::Entity reparsed;
    Check(reparsed.ParseFromString(d.entity.SerializeAsString()),
          "a decoded entity does not survive its own wire encoding");
    absl::StatusOr<std::string> json =
        documents::EncodeJson(d.entity, documents::JsonLayout::kSingleLine);
    Check(json.ok(), "EncodeJson: " + json.status().ToString());
    CheckRoundTrip(d.entity, *json, "roundtrip.json");
    absl::StatusOr<std::string> yaml = documents::EncodeYaml(d.entity);
    Check(yaml.ok(), "EncodeYaml: " + yaml.status().ToString());
    CheckRoundTrip(d.entity, *yaml, "roundtrip.yaml");
  }
}

// A directory for LoadEntities, removed at exit.
const std::filesystem::path& ScratchDir() {
  static const std::filesystem::path* dir = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "atlas-fuzz-docs-XXXXXX")
            .string();
    Check(mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    auto* path = new std::filesystem::path(pattern);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(ScratchDir(), ignored);
    });
    return path;
  }();
  return *dir;
}

void FuzzOne(uint8_t selector, absl::string_view text) {
  absl::StatusOr<std::vector<DecodedEntity>> decoded;
  switch (selector % 4) {
    case 0:
      decoded = DecodeEntities(text, "fuzz.yaml", TextFormat::kYaml);
      break;
    case 1:
      decoded = DecodeEntities(text, "fuzz.json", TextFormat::kJson);
      break;
    case 2:
      decoded = DecodeEntities(text, "<stdin>", TextFormat::kAuto);
      break;
    case 3: {
      const std::filesystem::path file = ScratchDir() / "fuzz.yaml";
      {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
      }
      decoded = documents::LoadEntities(ScratchDir().string());
      absl::StatusOr<std::vector<DecodedEntity>> direct =
          DecodeEntities(text, file.string());
      Check(decoded.status() == direct.status(),
            "LoadEntities and DecodeEntities disagree: " +
                decoded.status().ToString() + " vs " +
                direct.status().ToString());
      break;
    }
  }
  CheckDecodeVerdict(decoded.status(), "DecodeEntities");
  if (decoded.ok()) CheckDecoded(*decoded);
}

}  // namespace
}  // namespace atlas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  atlas::fuzz::SilenceProtobufLogs();
  if (size == 0) return 0;
  atlas::fuzz::FuzzOne(
      data[0],
      absl::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
