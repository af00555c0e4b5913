// AnnotationNeed: what one `annotation.KEY ...` term of an X-Ray filter expression asks of a trace
// when the expression ANDs it at the top level (outside any block, NOT or OR), so a store can
// pass over traces, and whole blocks of them, that cannot hold such an annotation without
// evaluating the expression (Filter::AnnotationNeeds).
//
// Contract: every trace the term matches (Filter::Matches, Filter::Decide) has an annotation `a`
// with a.key == key for which Admits(a) holds. The converse does not hold (a need is a necessary
// condition, never a sufficient one): Admits is conservative, e.g. it does not check CONTAINS or a
// bool's value. A trace whose summary dropped annotations (!TraceFacts::annotations_complete)
// cannot be judged by its summary.
//
// Threads: a value type.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "query/xray_filter/trace_facts.h"

namespace ariadne::query::xray_filter {

struct AnnotationNeed {
  // One bit per AnnotationFact::Type (1 << static_cast<int>(type)).
  static constexpr uint8_t TypeBit(AnnotationFact::Type type) {
    return static_cast<uint8_t>(1u << static_cast<int>(type));
  }
  static constexpr uint8_t kNumberBits = 0x06;  // TypeBit(kInt) | TypeBit(kDouble)
  static constexpr uint8_t kAllBits = 0x1f;

  std::string key;
  uint8_t types = kAllBits;  // the annotation's type is one of these
  // Not empty: a string-typed annotation's value is one of these (= and IN).
  std::vector<std::string> strings;
  // A number-typed annotation's value lies in [number_min, number_max] (NaN only when unbounded).
  double number_min = -std::numeric_limits<double>::infinity();
  double number_max = std::numeric_limits<double>::infinity();

  bool Admits(const AnnotationFact& a) const {
    if (a.key != key || (types & TypeBit(a.type)) == 0) return false;
    if (a.type == AnnotationFact::Type::kString) {
      if (strings.empty()) return true;
      for (const std::string& s : strings)
        if (a.str == s) return true;
      return false;
    }
    if (a.type == AnnotationFact::Type::kInt || a.type == AnnotationFact::Type::kDouble)
      return NumberUnbounded() || (a.number >= number_min && a.number <= number_max);
    return true;
  }
  // No bound on a number's value (then even NaN is admitted: "annotation.KEY" is set).
  bool NumberUnbounded() const {
    return number_min == -std::numeric_limits<double>::infinity() &&
           number_max == std::numeric_limits<double>::infinity();
  }
  // Whether the summary's annotations may satisfy the need (true when they are incomplete).
  bool MayHold(const TraceFacts& facts) const {
    if (!facts.annotations_complete) return true;
    for (const AnnotationFact& a : facts.annotations)
      if (Admits(a)) return true;
    return false;
  }
};

}  // namespace ariadne::query::xray_filter
