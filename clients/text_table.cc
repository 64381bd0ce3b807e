#include "clients/text_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/string_view.h"
#include "common/control_characters.h"

namespace atlas::client {
namespace {

bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// `text` with each control character replaced by a space. (Unlike
// rpc_error.h's OneLine, which folds whitespace runs of a message.)
std::string BlankControlCharacters(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (const size_t n = ControlCharacterAt(text, i); n != 0) {
      out.push_back(' ');
      i += n - 1;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace

size_t DisplayWidth(const std::string& text) {
  return static_cast<size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return !IsContinuationByte(c); }));
}

std::string Truncate(const std::string& text, size_t max_width) {
  if (DisplayWidth(text) <= max_width) return text;
  if (max_width <= 3) return std::string(max_width, '.');
  size_t width = 0;
  size_t end = 0;
  while (end < text.size()) {
    if (!IsContinuationByte(text[end])) {
      if (width == max_width - 3) break;
      ++width;
    }
    ++end;
  }
  return text.substr(0, end) + "...";
}

TextTable::TextTable(std::vector<std::string> header) {
  rows_.push_back(std::move(header));
}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(rows_.front().size());
  for (std::string& cell : cells) cell = BlankControlCharacters(cell);
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render() const {
  const size_t columns = rows_.front().size();
  std::vector<size_t> widths(columns, 0);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < columns; ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < columns; ++i) {
      line += row[i];
      if (i + 1 < columns) {
        line.append(widths[i] - DisplayWidth(row[i]) + 3, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace atlas::client
