#include "services/token_table.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "proto/document_files.h"

namespace atlas::services {
namespace {

std::optional<Role> ParseRole(absl::string_view text) {
  if (text == "reader") return Role::kReader;
  if (text == "writer") return Role::kWriter;
  if (text == "admin") return Role::kAdmin;
  return std::nullopt;
}

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == '@' || c == '-';
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kWriter:
      return "writer";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

Role RequiredRole(Access access) {
  switch (access) {
    case Access::kRead:
      return Role::kReader;
    case Access::kWrite:
      return Role::kWriter;
    case Access::kAdmin:
      return Role::kAdmin;
  }
  return Role::kAdmin;
}

absl::Status Authorize(const Principal& principal, Access access) {
  const Role needed = RequiredRole(access);
  if (static_cast<int>(principal.role) >= static_cast<int>(needed)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("principal \"", principal.name, "\" has role ",
                   RoleName(principal.role), "; this call needs role ",
                   RoleName(needed), " or higher"));
}

absl::StatusOr<TokenTable> TokenTable::Parse(absl::string_view text,
                                             absl::string_view source) {
  TokenTable table;
  absl::flat_hash_set<std::string> digests;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const absl::string_view content = absl::StripAsciiWhitespace(line);
    if (content.empty() || content.front() == '#') continue;
    auto at = [&](absl::string_view rule) {
      // The line itself is never quoted: it holds a token.
      return absl::InvalidArgumentError(
          absl::StrCat("tokens file ", source, " line ", line_number, ": ",
                       rule));
    };
    std::vector<absl::string_view> fields =
        absl::StrSplit(content, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.size() < 2 || fields.size() > 3) {
      return at(absl::StrCat("has ", fields.size(),
                             " fields; want TOKEN ROLE [NAME]"));
    }
    if (fields[0].size() < kMinTokenLength) {
      return at(absl::StrCat("the token is shorter than ", kMinTokenLength,
                             " characters"));
    }
    std::optional<Role> role = ParseRole(fields[1]);
    if (!role.has_value()) {
      return at("the role (second field) is not reader, writer or admin");
    }
    Principal principal{absl::StrCat("token-", line_number), *role};
    if (fields.size() == 3) {
      for (char c : fields[2]) {
        if (!IsNameChar(c)) {
          return at(
              "the name (third field) may hold only letters, digits and ._@-");
        }
      }
      principal.name = std::string(fields[2]);
    }
    Entry entry{Hash(fields[0]), std::move(principal)};
    const std::string key(entry.digest.begin(), entry.digest.end());
    if (!digests.insert(key).second) {
      return at("the token appears on an earlier line too");
    }
    table.entries_.push_back(std::move(entry));
  }
  return table;
}

absl::StatusOr<TokenTable> TokenTable::Load(const std::string& path) {
  absl::StatusOr<std::string> text = documents::ReadTextFile(path);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

std::optional<Principal> TokenTable::Find(absl::string_view token) const {
  const Digest digest = Hash(token);
  const Entry* found = nullptr;
  // Every entry is compared, without an early exit.
  for (const Entry& entry : entries_) {
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) ==
        0) {
      found = &entry;
    }
  }
  if (found == nullptr) return std::nullopt;
  return found->principal;
}

TokenTable::Digest TokenTable::Hash(absl::string_view token) {
  Digest digest{};
  unsigned int length = 0;
  EVP_Digest(token.data(), token.size(), digest.data(), &length, EVP_sha256(),
             nullptr);
  return digest;
}

}  // namespace atlas::services
