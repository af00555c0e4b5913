// UTF-8 validation and repair for strings that arrive from the network.
//
// OTLP and X-Ray both say string values are UTF-8, but nothing stops a client from sending other
// bytes. Every receiver repairs such strings once, at decode time, so nothing downstream (the
// store, the query engine, the JSON writers) ever sees invalid UTF-8:
//
//   std::string_view name = bytes;
//   if (!utf8::IsValid(name)) {          // fast path: no allocation, ASCII 8 bytes at a time
//     std::string fixed;
//     replaced += utf8::AppendRepaired(name, &fixed);
//     name = arena.Copy(fixed);
//   }
//
// "Valid" is RFC 3629 / Unicode Table 3-7: no overlong forms, no surrogates (U+D800..U+DFFF), no
// code points above U+10FFFF, no truncated sequences. Repair follows the Unicode "substitution of
// maximal subparts" practice (the WHATWG decoder's behaviour): each maximal prefix of a would-be
// valid sequence, or each lone bad byte, becomes one U+FFFD.
//
// Threads: pure functions, reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ariadne::utf8 {

// The replacement character U+FFFD in UTF-8.
inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// What starts at text[i] (i < text.size()).
struct Step {
  size_t length;  // bytes consumed: the whole sequence when valid, else the maximal subpart (>= 1)
  bool valid;
};
Step DecodeStep(std::string_view text, size_t i);

// True when `text` is entirely valid UTF-8. Never allocates.
bool IsValid(std::string_view text);

// Appends `text` to `out`, each invalid subpart replaced by U+FFFD. Returns how many replacements
// were made (0 when `text` was valid).
size_t AppendRepaired(std::string_view text, std::string* out);

// Convenience: the repaired copy of `text`.
std::string Repaired(std::string_view text);

}  // namespace ariadne::utf8
