#include "proto/document_files.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace atlas::documents {
namespace {

namespace fs = std::filesystem;

bool IsDocumentFile(const fs::path& path) {
  const std::string name = path.filename().string();
  return absl::EndsWithIgnoreCase(name, ".yaml") ||
         absl::EndsWithIgnoreCase(name, ".yml") ||
         absl::EndsWithIgnoreCase(name, ".json");
}

bool IsHidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

absl::Status FileError(const std::string& path, const std::error_code& error) {
  const std::string message = absl::StrCat(path, ": ", error.message());
  if (error == std::errc::no_such_file_or_directory) {
    return absl::NotFoundError(message);
  }
  if (error == std::errc::permission_denied) {
    return absl::PermissionDeniedError(message);
  }
  return absl::UnavailableError(message);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListDocumentFiles(
    const std::string& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error) return FileError(path, error);
  if (!fs::is_directory(status)) return std::vector<std::string>{path};

  std::vector<std::string> files;
  fs::recursive_directory_iterator it(
      path, fs::directory_options::follow_directory_symlink, error);
  if (error) return FileError(path, error);
  for (const fs::recursive_directory_iterator end; it != end;
       it.increment(error)) {
    if (error) return FileError(path, error);
    if (IsHidden(it->path())) {
      if (it->is_directory(error)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(error) && IsDocumentFile(it->path())) {
      files.push_back(it->path().string());
    }
  }
  if (error) return FileError(path, error);
  std::sort(files.begin(), files.end());
  return files;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return FileError(path, std::error_code(errno, std::generic_category()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return FileError(path, std::error_code(errno, std::generic_category()));
  }
  return text.str();
}

absl::StatusOr<std::vector<DecodedEntity>> LoadEntities(
    const std::string& path) {
  absl::StatusOr<std::vector<std::string>> files = ListDocumentFiles(path);
  if (!files.ok()) return files.status();
  std::vector<DecodedEntity> entities;
  for (const std::string& file : *files) {
    absl::StatusOr<std::string> text = ReadTextFile(file);
    if (!text.ok()) return text.status();
    absl::StatusOr<std::vector<DecodedEntity>> decoded =
        DecodeEntities(*text, file);
    if (!decoded.ok()) return decoded.status();
    std::move(decoded->begin(), decoded->end(), std::back_inserter(entities));
  }
  return entities;
}

}  // namespace atlas::documents
