#include "common/utf8.h"

#include <cstdint>
#include <cstring>

namespace ariadne::utf8 {
namespace {

// Index of the first byte >= 0x80 at or after `i`, or text.size(). Checks 8 bytes at a time.
size_t SkipAscii(std::string_view text, size_t i) {
  const char* data = text.data();
  const size_t size = text.size();
  while (i + 8 <= size) {
    uint64_t word;
    std::memcpy(&word, data + i, 8);
    if ((word & 0x8080808080808080ULL) != 0) break;
    i += 8;
  }
  while (i < size && static_cast<uint8_t>(data[i]) < 0x80) ++i;
  return i;
}

}  // namespace

Step DecodeStep(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  if (lead < 0x80) return {1, true};
  size_t needed;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Unicode Table 3-7)
  if (lead >= 0xC2 && lead <= 0xDF) {
    needed = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    needed = 3;
    if (lead == 0xE0) lo = 0xA0;  // no overlong forms
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    needed = 4;
    if (lead == 0xF0) lo = 0x90;  // no overlong forms
    if (lead == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {1, false};  // a continuation byte, C0/C1 or F5..FF
  }
  for (size_t k = 1; k < needed; ++k) {
    if (i + k >= text.size()) return {k, false};
    const uint8_t b = byte(i + k);
    const uint8_t min = k == 1 ? lo : 0x80;
    const uint8_t max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) return {k, false};
  }
  return {needed, true};
}

bool IsValid(std::string_view text) {
  size_t i = SkipAscii(text, 0);
  while (i < text.size()) {
    Step step = DecodeStep(text, i);
    if (!step.valid) return false;
    i = SkipAscii(text, i + step.length);
  }
  return true;
}

size_t AppendRepaired(std::string_view text, std::string* out) {
  size_t replaced = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t run_end = SkipAscii(text, i);
    // Extend the run over valid multi-byte sequences too, then copy it in one go.
    Step step{0, true};
    while (run_end < text.size()) {
      step = DecodeStep(text, run_end);
      if (!step.valid) break;
      run_end = SkipAscii(text, run_end + step.length);
    }
    out->append(text.data() + i, run_end - i);
    i = run_end;
    if (i < text.size()) {
      out->append(kReplacement);
      ++replaced;
      i += step.length;
    }
  }
  return replaced;
}

std::string Repaired(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  AppendRepaired(text, &out);
  return out;
}

}  // namespace ariadne::utf8
