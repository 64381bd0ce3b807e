#pragma once

// Structured logs: one record per line, by default a JSON object on stderr
// (for log collectors), or text for people.
//
//   {"time":"2026-11-27T22:19:06.123Z","level":"info","component":"server",
//    "message":"listening on 127.0.0.1:50051, ...","address":"..."}
//   2026-11-27T22:19:06.123Z INFO server: listening on ... address=...
//
// Every record has time (UTC, RFC 3339, milliseconds), level, component and
// message, then its own fields in the order given. Each line is written with
// one write(2), so lines from different threads never interleave.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <variant>

#include "absl/strings/string_view.h"

namespace atlas::log {

enum class Level { kDebug, kInfo, kWarning, kError };
enum class Format { kJson, kText };

// "debug", "info", "warning", "error" (as in the JSON "level" field).
absl::string_view LevelName(Level level);
std::optional<Level> ParseLevel(absl::string_view name);
// "json", "text".
std::optional<Format> ParseFormat(absl::string_view name);

struct Options {
  Format format = Format::kJson;
  // Records below this level are dropped.
  Level min_level = Level::kInfo;
  // Receives each finished line, newline included; empty: stderr.
  std::function<void(absl::string_view line)> sink;
};

// Replaces the process-wide settings (main() at startup; tests).
void Configure(Options options);

// Whether a record at `level` would be written (check before building
// expensive fields).
bool Enabled(Level level);

// One field of a record: a string, an integer, a number or a flag.
struct Field {
  using Value = std::variant<std::string, int64_t, uint64_t, double, bool>;
  Field(absl::string_view key, absl::string_view value)
      : key(key), value(std::string(value)) {}
  Field(absl::string_view key, const std::string& value)
      : key(key), value(value) {}
  Field(absl::string_view key, const char* value)
      : key(key), value(std::string(value)) {}
  Field(absl::string_view key, int value)
      : key(key), value(static_cast<int64_t>(value)) {}
  Field(absl::string_view key, int64_t value) : key(key), value(value) {}
  Field(absl::string_view key, uint64_t value) : key(key), value(value) {}
  Field(absl::string_view key, double value) : key(key), value(value) {}
  Field(absl::string_view key, bool value) : key(key), value(value) {}

  absl::string_view key;
  Value value;
};

// Writes one record if `level` is enabled. `component` names the part of
// the server speaking ("server", "request", "retention", ...).
void Write(Level level, absl::string_view component, absl::string_view message,
           std::initializer_list<Field> fields = {});

inline void Debug(absl::string_view component, absl::string_view message,
                  std::initializer_list<Field> fields = {}) {
  Write(Level::kDebug, component, message, fields);
}
inline void Info(absl::string_view component, absl::string_view message,
                 std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, component, message, fields);
}
inline void Warning(absl::string_view component, absl::string_view message,
                    std::initializer_list<Field> fields = {}) {
  Write(Level::kWarning, component, message, fields);
}
inline void Error(absl::string_view component, absl::string_view message,
                  std::initializer_list<Field> fields = {}) {
  Write(Level::kError, component, message, fields);
}

}  // namespace atlas::log
