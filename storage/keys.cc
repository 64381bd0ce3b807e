#include "storage/keys.h"

#include "absl/strings/str_cat.h"

namespace atlas::storage::keys {

std::string Revision(uint64_t revision) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(revision & 0xff);
    revision >>= 8;
  }
  return out;
}

std::optional<uint64_t> ParseRevision(absl::string_view key) {
  if (key.size() < 8) return std::nullopt;
  uint64_t revision = 0;
  for (int i = 0; i < 8; ++i) {
    revision = (revision << 8) | static_cast<unsigned char>(key[i]);
  }
  return revision;
}

std::string HistoryPrefix(absl::string_view name) {
  return absl::StrCat(name, absl::string_view("\0", 1));
}

std::string History(absl::string_view name, uint64_t revision) {
  return absl::StrCat(HistoryPrefix(name), Revision(revision));
}

std::optional<uint64_t> HistoryRevision(absl::string_view key) {
  if (key.size() < 9) return std::nullopt;
  return ParseRevision(key.substr(key.size() - 8));
}

std::string IndexPrefix(char index, absl::string_view value) {
  std::string out(1, index);
  out.push_back('\0');
  absl::StrAppend(&out, value, absl::string_view("\0", 1));
  return out;
}

std::string Index(char index, absl::string_view value, absl::string_view name) {
  return absl::StrCat(IndexPrefix(index, value), name);
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;  // empty: no upper bound
}

}  // namespace atlas::storage::keys
