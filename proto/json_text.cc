#include "proto/json_text.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace atlas::documents {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Tracks line and column while scanning.
class Cursor {
 public:
  explicit Cursor(absl::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  size_t pos() const { return pos_; }
  int line() const { return line_; }
  int column() const { return column_; }

  void Advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(text_[pos_]) & 0xC0) != 0x80) {
      ++column_;  // count code points, not UTF-8 continuation bytes
    }
    ++pos_;
  }

  void SkipSpace() {
    while (!AtEnd() && IsJsonSpace(Peek())) Advance();
  }

  absl::Status Error(absl::string_view reason) const {
    return absl::InvalidArgumentError(
        absl::StrCat(line_, ":", column_, ": malformed JSON: ", reason));
  }

  // Skips one JSON value at the cursor: strings and brackets are tracked,
  // scalars are skipped up to the next delimiter.
  absl::Status SkipValue() {
    if (AtEnd()) return Error("unexpected end of JSON");
    const char first = Peek();
    if (first == '"') return SkipString();
    if (first != '{' && first != '[') {
      while (!AtEnd() && Peek() != ',' && Peek() != ']' && Peek() != '}' &&
             !IsJsonSpace(Peek())) {
        Advance();
      }
      return absl::OkStatus();
    }
    std::vector<char> closers;
    do {
      const char c = Peek();
      if (c == '"') {
        if (absl::Status s = SkipString(); !s.ok()) return s;
        continue;
      }
      if (c == '{' || c == '[') {
        closers.push_back(c == '{' ? '}' : ']');
      } else if (c == '}' || c == ']') {
        if (closers.back() != c) {
          return Error(absl::StrCat("unexpected '", std::string(1, c), "'"));
        }
        closers.pop_back();
      }
      Advance();
    } while (!closers.empty() && !AtEnd());
    if (!closers.empty()) return Error("unexpected end of JSON");
    return absl::OkStatus();
  }

 private:
  absl::Status SkipString() {
    Advance();  // opening quote
    while (!AtEnd()) {
      char c = Peek();
      Advance();
      if (c == '\\') {
        if (AtEnd()) break;
        Advance();
      } else if (c == '"') {
        return absl::OkStatus();
      }
    }
    return Error("unterminated JSON string");
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

}  // namespace

void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x",
                        static_cast<unsigned>(c));
          out->append(escaped);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

bool IsJsonNumber(absl::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  if (i < n && text[i] == '-') ++i;
  if (i >= n) return false;
  if (text[i] == '0') {
    ++i;
  } else if (IsDigit(text[i])) {
    while (i < n && IsDigit(text[i])) ++i;
  } else {
    return false;
  }
  if (i < n && text[i] == '.') {
    ++i;
    if (i >= n || !IsDigit(text[i])) return false;
    while (i < n && IsDigit(text[i])) ++i;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (i >= n || !IsDigit(text[i])) return false;
    while (i < n && IsDigit(text[i])) ++i;
  }
  return i == n;
}

absl::StatusOr<std::vector<JsonSlice>> SplitJsonDocuments(
    absl::string_view text) {
  // A UTF-8 byte order mark is not JSON but editors write it.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  Cursor cursor(text);
  std::vector<JsonSlice> slices;
  cursor.SkipSpace();
  if (cursor.AtEnd()) return slices;  // an empty file holds no documents

  auto take = [&]() -> absl::Status {
    JsonSlice slice;
    slice.line = cursor.line();
    slice.column = cursor.column();
    const size_t start = cursor.pos();
    if (absl::Status s = cursor.SkipValue(); !s.ok()) return s;
    slice.text = text.substr(start, cursor.pos() - start);
    slices.push_back(slice);
    return absl::OkStatus();
  };

  if (cursor.Peek() == '{') {
    if (absl::Status s = take(); !s.ok()) return s;
  } else if (cursor.Peek() == '[') {
    cursor.Advance();
    cursor.SkipSpace();
    if (!cursor.AtEnd() && cursor.Peek() == ']') {
      cursor.Advance();
    } else {
      while (true) {
        if (absl::Status s = take(); !s.ok()) return s;
        cursor.SkipSpace();
        if (cursor.AtEnd()) return cursor.Error("unexpected end of JSON array");
        if (cursor.Peek() == ']') {
          cursor.Advance();
          break;
        }
        if (cursor.Peek() != ',') {
          return cursor.Error("expected ',' or ']' in JSON array");
        }
        cursor.Advance();
        cursor.SkipSpace();
      }
    }
  } else {
    return cursor.Error("expected a JSON object or an array of objects");
  }
  cursor.SkipSpace();
  if (!cursor.AtEnd()) return cursor.Error("unexpected text after JSON value");
  return slices;
}

}  // namespace atlas::documents
