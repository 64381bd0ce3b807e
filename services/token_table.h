#pragma once

// TokenTable: the bearer tokens the server accepts, each mapped to a role and
// a principal name, parsed from the tokens file. Only SHA-256 digests of the
// tokens are kept, and a lookup compares the presented token's digest with
// every entry in constant time, so neither memory nor timing gives a token
// away. Nothing here ever puts a token (or a line that may hold one) into an
// error message.
//
// The file: one token per line, `TOKEN ROLE [NAME]`, separated by spaces or
// tabs; blank lines and lines starting with '#' are ignored.
//   TOKEN  at least 16 characters, no whitespace (e.g. `openssl rand -hex 32`)
//   ROLE   reader (read and watch), writer (also write) or admin (also
//          administrative operations)
//   NAME   the principal: shown in logs and errors, and the key of the
//          per-principal limits (tokens sharing a NAME share them); letters,
//          digits and ._@- ; default "token-LINE" (its line number)

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/call_gate.h"

namespace atlas::services {

enum class Role { kReader, kWriter, kAdmin };

// "reader", "writer", "admin".
const char* RoleName(Role role);
// The least role that may make a call needing `access`.
Role RequiredRole(Access access);

struct Principal {
  std::string name;
  Role role = Role::kReader;
};

// OK if `principal` may make a call needing `access`; otherwise
// PERMISSION_DENIED naming the principal, its role and the role needed.
absl::Status Authorize(const Principal& principal, Access access);

inline constexpr size_t kMinTokenLength = 16;

class TokenTable {
 public:
  // Parses the file's text; `source` (the path) prefixes errors, which name
  // the line and the rule broken, never the line's content.
  static absl::StatusOr<TokenTable> Parse(absl::string_view text,
                                          absl::string_view source);
  // Reads and parses the file at `path`.
  static absl::StatusOr<TokenTable> Load(const std::string& path);

  // The principal holding `token`, if any.
  std::optional<Principal> Find(absl::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  using Digest = std::array<uint8_t, 32>;
  struct Entry {
    Digest digest;
    Principal principal;
  };
  static Digest Hash(absl::string_view token);

  std::vector<Entry> entries_;
};

}  // namespace atlas::services
