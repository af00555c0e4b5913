// The time an X-Ray trace id names, as a read hint. An X-Ray id ("1-5f84c7a1-…") carries the epoch
// second its trace started in its first 8 hex digits, so every read of a trace by such an id
// (BatchGetTraces, GetTraceGraph, the UI's trace view /api/v1/traces/{id}) can look first only at
// the time around it (engines with time partitions read just those) and everywhere only when the
// trace is not there (an id written by a clock that was wrong).
//
// Header-only and pure, so the query API (ariadne_api) uses it without linking the X-Ray reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "store/trace_reader.h"

namespace ariadne::query::xray {

// How far from the second in an X-Ray trace id a hinted read looks for the trace's spans.
inline constexpr uint64_t kXrayIdTimeMarginNano = 3600ULL * 1'000'000'000ULL;

// The hint of a trace whose span starts lie in [first_start, last_start] (a `near` time, or a
// summary's first and last span start): [first_start, last_start + 1), with the end held at
// 2^64 − 1 rather than wrapping to 0 — which would leave a window that ends before it starts —
// when last_start is 2^64 − 1.
inline store::TraceTimeHint TraceStartsHint(uint64_t first_start, uint64_t last_start) {
  return store::TraceTimeHint{first_start, last_start == UINT64_MAX ? UINT64_MAX : last_start + 1};
}

// The hint of an X-Ray trace id ± kXrayIdTimeMarginNano; nullopt for other id forms (OTLP's 32
// hex digits carry no time) and for seconds before 2015 or more than a day after `now` (epoch
// seconds).
inline std::optional<store::TraceTimeHint> XrayTraceIdTimeHint(std::string_view text, double now) {
  // "1-" + 8 hex digits of epoch seconds + "-" + 24 hex digits.
  if (text.size() != 35 || text.substr(0, 2) != "1-" || text[10] != '-') return std::nullopt;
  uint64_t seconds = 0;
  for (char c : text.substr(2, 8)) {
    const int digit = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
    if (digit < 0) return std::nullopt;
    seconds = seconds * 16 + static_cast<uint64_t>(digit);
  }
  constexpr uint64_t kEarliest = 1'420'070'400;  // 2015-01-01, before X-Ray existed
  if (seconds < kEarliest || static_cast<double>(seconds) > now + 86'400) return std::nullopt;
  const uint64_t at = seconds * 1'000'000'000ULL;
  return store::TraceTimeHint{at - kXrayIdTimeMarginNano, at + kXrayIdTimeMarginNano};
}

}  // namespace ariadne::query::xray
