// Checked conversion of Unix seconds (as requests give them) to Unix nanoseconds (as spans and the
// store keep them, in uint64_t).
//
// A request may name any number of seconds; only those up to kMaxUnixSeconds have a nanosecond
// value that fits in 64 bits. Callers (the query spec parser, the query API's start/end/time_range
// parameters, the X-Ray API's StartTime/EndTime) refuse a request outside [0, kMaxUnixSeconds] with
// a 400 that names the range (TimeRangeHint), instead of letting the multiplication wrap.
//
// Threads: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ariadne {

inline constexpr uint64_t kNanosPerSecond = 1'000'000'000ULL;
// The last whole second whose nanoseconds fit in uint64_t: 2554-07-21T23:34:33Z.
inline constexpr uint64_t kMaxUnixSeconds = UINT64_MAX / kNanosPerSecond;

// seconds × 10⁹, or nullopt when that does not fit in uint64_t.
inline std::optional<uint64_t> SecondsToNanosChecked(uint64_t seconds) {
  if (seconds > kMaxUnixSeconds) return std::nullopt;
  return seconds * kNanosPerSecond;
}

// Fractional seconds (truncated to whole nanoseconds); nullopt for negative, NaN, infinite or too
// large values.
inline std::optional<uint64_t> SecondsToNanosChecked(double seconds) {
  if (!(seconds >= 0.0) || !(seconds <= static_cast<double>(kMaxUnixSeconds))) return std::nullopt;
  return static_cast<uint64_t>(seconds * 1e9);
}

// "from 0 to 18446744073 (Unix seconds, up to 2554-07-21)": the tail of every range error.
inline std::string TimeRangeHint() {
  return "from 0 to " + std::to_string(kMaxUnixSeconds) + " (Unix seconds, up to 2554-07-21)";
}

}  // namespace ariadne
