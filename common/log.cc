#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace atlas::log {
namespace {

struct Settings {
  atlas::Mutex mu;
  Format format ABSL_GUARDED_BY(mu) = Format::kJson;
  std::function<void(absl::string_view)> sink ABSL_GUARDED_BY(mu);
  // Read without the lock on every Enabled() call.
  std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
};

Settings& GetSettings() {
  static Settings* settings = new Settings;  // never destroyed: logs may
  return *settings;                          // come from exiting threads
}

void WriteToStderr(absl::string_view line) {
  while (!line.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // nowhere to report it
    line.remove_prefix(static_cast<size_t>(written));
  }
}

std::string Timestamp() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                          absl::UTCTimeZone());
}

std::string JsonLine(Level level, absl::string_view component,
                     absl::string_view message,
                     std::initializer_list<Field> fields) {
  nlohmann::ordered_json record;
  record["time"] = Timestamp();
  record["level"] = std::string(LevelName(level));
  record["component"] = std::string(component);
  record["message"] = std::string(message);
  for (const Field& field : fields) {
    auto& slot = record[std::string(field.key)];
    std::visit([&slot](const auto& value) { slot = value; }, field.value);
  }
  // Invalid UTF-8 (e.g. a client-chosen name echoed in an error) becomes
  // U+FFFD instead of an exception.
  std::string line =
      record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  return line;
}

// A value as text: bare when it is one plain word, else quoted and escaped.
std::string TextValue(const Field::Value& value) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    const bool plain =
        !text->empty() && text->find_first_of(" \"=\\") == std::string::npos &&
        absl::CEscape(*text) == *text;
    return plain ? *text : absl::StrCat("\"", absl::CEscape(*text), "\"");
  }
  if (const auto* flag = std::get_if<bool>(&value)) {
    return *flag ? "true" : "false";
  }
  return std::visit(
      [](const auto& number) -> std::string {
        using T = std::decay_t<decltype(number)>;
        if constexpr (std::is_arithmetic_v<T>) {
          return absl::StrCat(number);
        } else {
          return "";
        }
      },
      value);
}

std::string TextLine(Level level, absl::string_view component,
                     absl::string_view message,
                     std::initializer_list<Field> fields) {
  std::string level_name(LevelName(level));
  for (char& c : level_name) c = static_cast<char>(c - 'a' + 'A');
  std::string line =
      absl::StrCat(Timestamp(), " ", level_name, " ", component, ": ", message);
  for (const Field& field : fields) {
    absl::StrAppend(&line, " ", field.key, "=", TextValue(field.value));
  }
  line += '\n';
  return line;
}

}  // namespace

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

std::optional<Level> ParseLevel(absl::string_view name) {
  for (Level level :
       {Level::kDebug, Level::kInfo, Level::kWarning, Level::kError}) {
    if (name == LevelName(level)) return level;
  }
  return std::nullopt;
}

std::optional<Format> ParseFormat(absl::string_view name) {
  if (name == "json") return Format::kJson;
  if (name == "text") return Format::kText;
  return std::nullopt;
}

void Configure(Options options) {
  Settings& settings = GetSettings();
  atlas::MutexLock lock(&settings.mu);
  settings.format = options.format;
  settings.sink = std::move(options.sink);
  settings.min_level.store(static_cast<int>(options.min_level),
                           std::memory_order_relaxed);
}

bool Enabled(Level level) {
  return static_cast<int>(level) >=
         GetSettings().min_level.load(std::memory_order_relaxed);
}

void Write(Level level, absl::string_view component, absl::string_view message,
           std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  Settings& settings = GetSettings();
  Format format;
  {
    atlas::MutexLock lock(&settings.mu);
    format = settings.format;
  }
  const std::string line = format == Format::kJson
                               ? JsonLine(level, component, message, fields)
                               : TextLine(level, component, message, fields);
  atlas::MutexLock lock(&settings.mu);
  if (settings.sink) {
    settings.sink(line);
  } else {
    WriteToStderr(line);
  }
}

}  // namespace atlas::log
