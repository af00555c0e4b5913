// Event times of the Honeycomb Events API: the `X-Honeycomb-Event-Time` header, the `time` member
// of a /1/batch element and a `Timestamp` data field all go through ParseEventTime.
//
// Accepted forms:
//   - RFC 3339 with any fraction of a second, `Z` or a numeric offset, `T` or a space between date
//     and time ("2026-12-03T07:41:28.123456789Z", "2026-12-03 08:41:28+01:00");
//   - a Unix timestamp as text or JSON number. Honeycomb documents "seconds", but its own example
//     (1452759330927) is milliseconds, so the unit is read from the magnitude: below 1e11 seconds,
//     below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds. Fractions are allowed.
//
// Threads: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ariadne::receivers::honeycomb {

// Unix nanoseconds, or nullopt when `text` is neither form (or is before 1970 / past 2554).
std::optional<uint64_t> ParseEventTime(std::string_view text);

// A Unix timestamp given as a number, unit from the magnitude as above.
std::optional<uint64_t> UnixNumberToNanos(double value);

}  // namespace ariadne::receivers::honeycomb
