// Filter::FieldNeeds and the facts a FieldNeed reads (field_need.h). Each need mirrors the way
// Decide (summary_eval.cc) evaluates its term, so that a trace failing the need is one Decide
// answers kNo for.
#include "query/xray_filter/field_need.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "query/xray_filter/filter.h"
#include "query/xray_filter/filter_ast.h"

namespace ariadne::query::xray_filter {
namespace {

FieldNeed Never() {
  FieldNeed need;
  need.never = true;
  return need;
}

FieldNeed Bits(uint32_t bits) {
  FieldNeed need;
  need.bits = bits;
  return need;
}

// A boolean keyword's value is `want` (Decide's kBool case).
void BoolNeed(const Expr& e, std::vector<FieldNeed>* out) {
  bool want = true;
  if (e.op == Op::kEq || e.op == Op::kNe) {
    if (e.literals.size() != 1 || e.literals[0].type != Literal::Type::kBool) return;
    want = e.op == Op::kEq ? e.literals[0].b : !e.literals[0].b;
  } else if (e.op != Op::kNone) {
    return;
  }
  struct Pair {
    const char* keyword;
    uint32_t on, off;
  };
  static constexpr Pair kPairs[] = {
      {"partial", kPartialTrue, kPartialFalse},
      {"root", kRootTrue, kRootFalse},
      {"ok", kOkTrue, kOkFalse},
      {"error", kErrorTrue, kErrorFalse},
      {"fault", kFaultTrue, kFaultFalse},
      {"throttle", kThrottleTrue, kThrottleFalse},
  };
  for (const Pair& p : kPairs) {
    if (e.keyword == p.keyword) {
      out->push_back(Bits(want ? p.on : p.off));
      return;
    }
  }
  // inferred, remote, first, last: false for every trace at the top level.
  if (want) out->push_back(Never());
}

void NumberNeed(const Expr& e, std::vector<FieldNeed>* out) {
  FieldNeed need;
  if (e.keyword == "duration")
    need.number = NumberField::kDuration;
  else if (e.keyword == "responsetime")
    need.number = NumberField::kResponseTime;
  else if (e.keyword == "http.status")
    need.number = NumberField::kHttpStatus;
  else
    return;  // index, coverage: Decide reads no value (false), but say nothing
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Literal& lit : e.literals) {
    if (lit.type != Literal::Type::kNumber || std::isnan(lit.n)) {
      out->push_back(std::move(need));  // present, unbounded
      return;
    }
    lo = std::min(lo, lit.n);
    hi = std::max(hi, lit.n);
  }
  if (!e.literals.empty())  // !=: present, unbounded
    NarrowToMatchingNumbers(e.op, lo, hi, &need.number_min, &need.number_max);
  out->push_back(std::move(need));
}

void StringNeed(const Expr& e, std::vector<FieldNeed>* out) {
  struct Field {
    const char* keyword;
    uint32_t bit;
    ValueField value;
  };
  static constexpr Field kFields[] = {
      {"http.url", kHasHttpUrl, ValueField::kNone},
      {"http.method", kHasHttpMethod, ValueField::kHttpMethod},
      {"http.useragent", kHasUserAgent, ValueField::kNone},
      {"http.clientip", kHasClientIp, ValueField::kNone},
      {"user", kHasUser, ValueField::kUser},
      {"name", kHasRootName, ValueField::kRootName},
      {"type", kHasRootType, ValueField::kRootType},
  };
  for (const Field& f : kFields) {
    if (e.keyword != f.keyword) continue;
    // Any operator compares a value that is there (CompareStrings: no value, false).
    FieldNeed need = Bits(f.bit);
    if (f.value != ValueField::kNone && (e.op == Op::kEq || e.op == Op::kIn)) {
      bool strings = !e.literals.empty();
      for (const Literal& lit : e.literals) strings = strings && lit.type == Literal::Type::kString;
      if (strings) {
        need.value = f.value;
        for (const Literal& lit : e.literals) need.values.push_back(lit.s);
      }
    }
    out->push_back(std::move(need));
    return;
  }
}

// service(selector): some segment identity matches it, { } block or not.
void SelectorNeeds(const Selector& sel, std::vector<FieldNeed>* out) {
  if (sel.any) {
    out->push_back(Bits(kHasSegments));
    return;
  }
  auto add = [&](const std::optional<std::string>& v, ValueField field) {
    if (!v) return;
    FieldNeed need = Bits(kHasSegments);
    need.value = field;
    need.values.push_back(*v);
    out->push_back(std::move(need));
  };
  add(sel.name, ValueField::kSegmentName);
  add(sel.type, ValueField::kSegmentType);
  add(sel.account, ValueField::kSegmentAccount);
  if (!sel.name && !sel.type && !sel.account) out->push_back(Bits(kHasSegments));
}

void Collect(const Expr& e, std::vector<FieldNeed>* out) {
  switch (e.kind) {
    case ExprKind::kAnd:
      Collect(*e.left, out);
      Collect(*e.right, out);
      return;
    case ExprKind::kKeyword:
      if (e.kw_type == KwType::kBool) BoolNeed(e, out);
      if (e.kw_type == KwType::kNumber) NumberNeed(e, out);
      if (e.kw_type == KwType::kString) StringNeed(e, out);
      return;  // annotations: AnnotationNeeds; groups: their own expression, not followed
    case ExprKind::kService:
      SelectorNeeds(e.a, out);
      return;
    case ExprKind::kEdge:
      out->push_back(Bits(kTwoSegments));
      return;
    case ExprKind::kRootCause:
      if (e.rc_kind == "fault") out->push_back(Bits(kAnyFault));
      if (e.rc_kind == "error") out->push_back(Bits(kAnyErrorOrThrottle));
      if (e.rc_kind == "responsetime") out->push_back(Bits(kHasSegments));
      return;
    case ExprKind::kRootCauseJson:
      out->push_back(Never());
      return;
    case ExprKind::kOr:
    case ExprKind::kNot:
      return;  // nothing is required under them
  }
}

}  // namespace

uint32_t FactBitsOf(const TraceFacts& f) {
  uint32_t bits = 0;
  auto pair = [&](bool value, uint32_t on, uint32_t off) { bits |= value ? on : off; };
  const bool root = f.has_root;
  pair(f.partial, kPartialTrue, kPartialFalse);
  pair(root, kRootTrue, kRootFalse);
  pair(root && !f.root_error && !f.root_fault && !f.root_throttle, kOkTrue, kOkFalse);
  pair(root && f.root_error, kErrorTrue, kErrorFalse);
  pair(root && f.root_fault, kFaultTrue, kFaultFalse);
  pair(root && f.root_throttle, kThrottleTrue, kThrottleFalse);
  if (f.any_fault) bits |= kAnyFault;
  if (f.any_error || f.any_throttle) bits |= kAnyErrorOrThrottle;
  if (!f.segments.empty()) bits |= kHasSegments;
  if (f.segments.size() >= 2) bits |= kTwoSegments;
  if (!f.http_method.empty()) bits |= kHasHttpMethod;
  if (!f.http_url.empty()) bits |= kHasHttpUrl;
  if (!f.http_user_agent.empty()) bits |= kHasUserAgent;
  if (!f.http_client_ip.empty()) bits |= kHasClientIp;
  for (const std::string& u : f.users)
    if (!u.empty()) bits |= kHasUser;
  if (root && !f.root_name.empty()) bits |= kHasRootName;
  if (root && !f.root_type.empty()) bits |= kHasRootType;
  return bits;
}

bool FactNumber(const TraceFacts& f, NumberField field, double* value) {
  switch (field) {
    case NumberField::kDuration:
      *value = f.end - f.start;
      return true;
    case NumberField::kResponseTime:
      *value = f.root_end - f.root_start;
      return f.has_root;
    case NumberField::kHttpStatus:
      *value = static_cast<double>(f.http_status);
      return f.has_root && f.http_status != 0;
    case NumberField::kNone:
      break;
  }
  return false;
}

bool NeedHolds(const FieldNeed& need, const TraceFacts& facts) {
  if (need.never) return false;
  if ((FactBitsOf(facts) & need.bits) != need.bits) return false;
  if (need.number != NumberField::kNone) {
    double v = 0;
    if (!FactNumber(facts, need.number, &v)) return false;
    const bool unbounded = need.number_min == -std::numeric_limits<double>::infinity() &&
                           need.number_max == std::numeric_limits<double>::infinity();
    if (!unbounded && !(v >= need.number_min && v <= need.number_max)) return false;
  }
  if (need.value != ValueField::kNone) {
    bool found = false;
    ForEachFactValue(facts, [&](ValueField field, std::string_view v) {
      if (field != need.value) return;
      for (const std::string& s : need.values) found = found || v == s;
    });
    if (!found) return false;
  }
  return true;
}

std::vector<FieldNeed> Filter::FieldNeeds() const {
  std::vector<FieldNeed> out;
  if (root_) Collect(*root_, &out);
  return out;
}

}  // namespace ariadne::query::xray_filter
