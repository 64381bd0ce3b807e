#pragma once

// A plain-text table with a header row and columns aligned by spaces.

#include <string>
#include <vector>

namespace atlas::client {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);

  // Missing cells are empty; extra cells are dropped. Control characters
  // in a cell (line breaks and tabs included, and whatever a server stored
  // before it refused them) are shown as spaces: each row stays one line,
  // and nothing in a cell can move the terminal's cursor.
  void AddRow(std::vector<std::string> cells);

  // Header and rows, each line ending with '\n'. Columns are separated by
  // three spaces; the last column is not padded.
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Number of characters (UTF-8 code points) in `text`.
size_t DisplayWidth(const std::string& text);

// `text` cut to at most `max_width` characters, ending with "..." if cut.
std::string Truncate(const std::string& text, size_t max_width);

}  // namespace atlas::client
