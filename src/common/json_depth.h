// JsonNestingDepth: how deeply the arrays and objects of a JSON text nest, found by one scan
// without parsing, so a body can be refused before a recursive consumer walks it. nlohmann's parser
// is iterative, but copying, comparing and dump() of the parsed value recurse once per level, so a
// request of 100,000 '[' would overflow the stack of the thread handling it.
//
// Callers: ParseQuerySpec, the bubble-up route and the X-Ray API request parser; each refuses
// bodies deeper than kMaxRequestJsonNesting with a 400 that names the limit.
//
// Threads: pure function, reentrant.
#pragma once

#include <cstddef>
#include <string_view>

namespace ariadne {

// Deepest JSON nesting any Ariadne request body needs is about 5; this leaves plenty of room.
inline constexpr size_t kMaxRequestJsonNesting = 64;

// The deepest level of '[' / '{' in `text` (0 for a scalar), ignoring brackets inside strings. The
// text need not be valid JSON; the scan stops early once the depth passes `stop_above`.
size_t JsonNestingDepth(std::string_view text, size_t stop_above = kMaxRequestJsonNesting);

}  // namespace ariadne
