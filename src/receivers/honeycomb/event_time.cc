#include "receivers/honeycomb/event_time.h"

#include <charconv>
#include <cmath>
#include <string>

#include "common/time_units.h"

namespace ariadne::receivers::honeycomb {
namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Reads exactly `n` digits at text[*pos].
std::optional<unsigned> Digits(std::string_view text, size_t* pos, size_t n) {
  if (*pos + n > text.size()) return std::nullopt;
  unsigned value = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  *pos += n;
  return value;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

std::optional<uint64_t> ParseRfc3339(std::string_view text) {
  size_t pos = 0;
  auto year = Digits(text, &pos, 4);
  if (!year || !Expect(text, &pos, '-')) return std::nullopt;
  auto month = Digits(text, &pos, 2);
  if (!month || !Expect(text, &pos, '-')) return std::nullopt;
  auto day = Digits(text, &pos, 2);
  if (!day || pos >= text.size()) return std::nullopt;
  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
  ++pos;
  auto hour = Digits(text, &pos, 2);
  if (!hour || !Expect(text, &pos, ':')) return std::nullopt;
  auto minute = Digits(text, &pos, 2);
  if (!minute || !Expect(text, &pos, ':')) return std::nullopt;
  auto second = Digits(text, &pos, 2);
  if (!second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  uint64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + static_cast<uint64_t>(text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos >= text.size()) return std::nullopt;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos] == '+' ? 1 : -1;
    ++pos;
    auto off_hour = Digits(text, &pos, 2);
    if (!off_hour || !Expect(text, &pos, ':')) return std::nullopt;
    auto off_minute = Digits(text, &pos, 2);
    if (!off_minute || *off_hour > 23 || *off_minute > 59) return std::nullopt;
    offset_seconds = sign * static_cast<int64_t>(*off_hour * 3600 + *off_minute * 60);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const int64_t seconds = DaysFromCivil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 +
                          *second - offset_seconds;
  if (seconds < 0) return std::nullopt;
  auto whole = SecondsToNanosChecked(static_cast<uint64_t>(seconds));
  if (!whole || *whole > UINT64_MAX - nanos) return std::nullopt;
  return *whole + nanos;
}

}  // namespace

std::optional<uint64_t> UnixNumberToNanos(double value) {
  if (!std::isfinite(value) || value < 0 || value >= 1.8e19) return std::nullopt;
  // Whole units and the fraction apart, so integer milliseconds stay exact.
  const uint64_t unit_nanos = value >= 1e17   ? 1
                              : value >= 1e14 ? 1'000
                              : value >= 1e11 ? 1'000'000
                                              : kNanosPerSecond;
  const double whole = std::floor(value);
  const uint64_t units = static_cast<uint64_t>(whole);
  if (units > UINT64_MAX / unit_nanos) return std::nullopt;
  const uint64_t fraction =
      static_cast<uint64_t>(std::llround((value - whole) * static_cast<double>(unit_nanos)));
  if (units * unit_nanos > UINT64_MAX - fraction) return std::nullopt;
  return units * unit_nanos + fraction;
}

std::optional<uint64_t> ParseEventTime(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  if (text.find('-') == std::string_view::npos || text.find(':') == std::string_view::npos) {
    // A Unix timestamp: integer digits (exact) or a decimal number.
    uint64_t integer = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
    if (ec == std::errc() && end == text.data() + text.size()) {
      const uint64_t unit_nanos = integer >= 100'000'000'000'000'000ULL ? 1
                                  : integer >= 100'000'000'000'000ULL   ? 1'000
                                  : integer >= 100'000'000'000ULL       ? 1'000'000
                                                                        : kNanosPerSecond;
      if (integer > UINT64_MAX / unit_nanos) return std::nullopt;
      return integer * unit_nanos;
    }
    double number = 0;
    auto [dend, dec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (dec != std::errc() || dend != text.data() + text.size()) return std::nullopt;
    return UnixNumberToNanos(number);
  }
  return ParseRfc3339(text);
}

}  // namespace ariadne::receivers::honeycomb
