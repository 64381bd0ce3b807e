#pragma once

// Control characters in UTF-8 text: C0 (U+0000-U+001F), DEL (U+007F) and
// C1 (U+0080-U+009F, the two bytes 0xC2 0x80-0x9F). The store refuses them
// in entities (but tab and line feed), error messages escape them, and
// atlasctl's tables blank them.

#include <cstddef>

#include "absl/strings/string_view.h"

namespace atlas {

// The length in bytes (1 or 2) of the control character that starts at
// text[i], or 0 if none does.
inline size_t ControlCharacterAt(absl::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x20 || c == 0x7F) return 1;
  if (c == 0xC2 && i + 1 < text.size()) {
    const auto next = static_cast<unsigned char>(text[i + 1]);
    if (next >= 0x80 && next < 0xA0) return 2;
  }
  return 0;
}

// The code point of the control character at text[i] (ControlCharacterAt
// must be non-zero there).
inline unsigned ControlCodePoint(absl::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  return c == 0xC2 ? static_cast<unsigned char>(text[i + 1]) : c;
}

}  // namespace atlas
