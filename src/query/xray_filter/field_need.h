// FieldNeed: what one term an X-Ray filter expression ANDs at its top level (outside any NOT or
// OR) asks of a trace's summary, for every term the summary decides other than annotations
// (those are AnnotationNeed): flags, responsetime / duration / http.status comparisons, the root
// segment's strings, users, and service()/edge()/rootcause selectors (with or without a { }
// block: the segment must exist either way). A store passes over a whole block of traces when
// its digest shows that no trace of the block meets some need (Filter::FieldNeeds).
//
// Contract: for every trace whose summary the filter does not reject (Filter::Decide answers
// kYes or kUnknown), each need Holds(FactsOf(trace)) — exactly the condition under which
// Decide's evaluation of the term is not kNo, or a weaker one. A need is made of independent
// parts (bits, a number range, a value set): each one alone is necessary, so a digest that
// aggregates each part over many traces (ORed bits, min/max, a set of values) may check them
// one by one.
//
// Threads: value types and pure functions.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "query/xray_filter/trace_facts.h"

namespace ariadne::query::xray_filter {

// Facts of one trace as bits, so a block's digest keeps their OR over its traces. A `true`/`false`
// pair per boolean keyword the summary decides (the keyword's value for the trace).
enum FactBit : uint32_t {
  kPartialTrue = 1u << 0,
  kPartialFalse = 1u << 1,
  kRootTrue = 1u << 2,
  kRootFalse = 1u << 3,
  kOkTrue = 1u << 4,
  kOkFalse = 1u << 5,
  kErrorTrue = 1u << 6,
  kErrorFalse = 1u << 7,
  kFaultTrue = 1u << 8,
  kFaultFalse = 1u << 9,
  kThrottleTrue = 1u << 10,
  kThrottleFalse = 1u << 11,
  kAnyFault = 1u << 12,            // some segment has fault (rootcause.fault)
  kAnyErrorOrThrottle = 1u << 13,  // some segment has error or throttle (rootcause.error)
  kHasSegments = 1u << 14,         // at least one segment identity
  kTwoSegments = 1u << 15,         // at least two (edge)
  kHasHttpMethod = 1u << 16,       // the string keywords' "has a non-empty value"
  kHasHttpUrl = 1u << 17,
  kHasUserAgent = 1u << 18,
  kHasClientIp = 1u << 19,
  kHasUser = 1u << 20,
  kHasRootName = 1u << 21,
  kHasRootType = 1u << 22,
};

// The numbers the summary compares (absent: the comparison is false whatever its operator).
enum class NumberField : uint8_t { kNone, kResponseTime, kDuration, kHttpStatus };
// The strings a need may name exactly; the char prefixes the value in a digest's value filter.
enum class ValueField : char {
  kNone = 0,
  kSegmentName = 'S',
  kSegmentType = 'T',
  kSegmentAccount = 'A',
  kUser = 'u',
  kHttpMethod = 'm',
  kRootName = 'n',
  kRootType = 't',
};

struct FieldNeed {
  bool never = false;  // no trace can match (e.g. a bare `inferred`, rootcause.json)
  uint32_t bits = 0;   // every one of these FactBits holds
  NumberField number = NumberField::kNone;
  // The number is present and lies in [number_min, number_max] (widened by MatchNumber's
  // tolerance).
  double number_min = -std::numeric_limits<double>::infinity();
  double number_max = std::numeric_limits<double>::infinity();
  ValueField value = ValueField::kNone;
  std::vector<std::string> values;  // the field has one of these (exact), when value is set
};

// The bits of a trace's facts (FactBit).
uint32_t FactBitsOf(const TraceFacts& facts);
// The number `field` of a trace, false when absent (as Decide reads it).
bool FactNumber(const TraceFacts& facts, NumberField field, double* value);
// Calls visit(field, value) for every exact string value the facts hold (ValueField).
template <typename Visit>
void ForEachFactValue(const TraceFacts& facts, Visit visit) {
  for (const SegmentKey& s : facts.segments) {
    visit(ValueField::kSegmentName, std::string_view(s.name));
    visit(ValueField::kSegmentType, std::string_view(s.type));
    visit(ValueField::kSegmentAccount, std::string_view(s.account));
  }
  for (const std::string& u : facts.users)
    if (!u.empty()) visit(ValueField::kUser, std::string_view(u));
  if (!facts.http_method.empty())
    visit(ValueField::kHttpMethod, std::string_view(facts.http_method));
  if (!facts.has_root) return;  // name and type read the root segment
  if (!facts.root_name.empty()) visit(ValueField::kRootName, std::string_view(facts.root_name));
  if (!facts.root_type.empty()) visit(ValueField::kRootType, std::string_view(facts.root_type));
}
// Whether one trace's facts meet the need (tests check it against Filter::Decide).
bool NeedHolds(const FieldNeed& need, const TraceFacts& facts);

}  // namespace ariadne::query::xray_filter
