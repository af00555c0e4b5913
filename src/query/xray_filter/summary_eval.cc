// Filter::Decide: the X-Ray filter expression over a trace's summary (TraceFacts), with three
// outcomes. It mirrors Eval in filter.cc term by term at the trace level (no focus segment): the
// keywords that read the root segment, the trace bounds, every segment's user, the segment
// identities and the annotations are exact; whatever needs the spans answers kUnknown, and
// AND/OR/NOT combine the three values (a kNo in an AND or a kYes in an OR decides regardless of
// the unknown side).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "query/xray_filter/filter.h"
#include "query/xray_filter/filter_ast.h"

namespace ariadne::query::xray_filter {
namespace {

using V = Filter::Verdict;

V Of(bool b) { return b ? V::kYes : V::kNo; }

V Not(V v) { return v == V::kUnknown ? v : Of(v == V::kNo); }

bool AnnotationMatches(const AnnotationFact& a, const Expr& e) {
  if (e.op == Op::kNone) return a.type != AnnotationFact::Type::kBool || a.boolean;
  const Op op = e.op == Op::kIn ? Op::kEq : e.op;
  for (const Literal& lit : e.literals) {
    switch (lit.type) {
      case Literal::Type::kString:
        if (a.type == AnnotationFact::Type::kString && MatchString(a.str, op, lit.s)) return true;
        break;
      case Literal::Type::kNumber:
        if ((a.type == AnnotationFact::Type::kInt || a.type == AnnotationFact::Type::kDouble) &&
            MatchNumber(a.number, op, lit.n))
          return true;
        break;
      case Literal::Type::kBool:
        if (a.type == AnnotationFact::Type::kBool &&
            (op == Op::kEq ? a.boolean == lit.b : a.boolean != lit.b))
          return true;
        break;
    }
  }
  return false;
}

bool SelectorMatches(const Selector& sel, const SegmentKey& s) {
  if (sel.any) return true;
  if (sel.name && s.name != *sel.name) return false;
  if (sel.type && s.type != *sel.type) return false;
  if (sel.account && s.account != *sel.account) return false;
  return true;
}

struct SummaryCtx {
  const TraceFacts& f;
  const GroupResolver* groups;
};

V Decide(const Expr& e, const SummaryCtx& c);

V DecideKeyword(const Expr& e, const SummaryCtx& c) {
  const TraceFacts& f = c.f;
  const std::string& k = e.keyword;
  switch (e.kw_type) {
    case KwType::kAnnotation: {
      for (const AnnotationFact& a : f.annotations)
        if (a.key == k && AnnotationMatches(a, e)) return V::kYes;
      return f.annotations_complete ? V::kNo : V::kUnknown;
    }
    case KwType::kGroup:
      return V::kUnknown;  // handled by Filter::Decide's caller path below
    case KwType::kBool: {
      bool value = false;
      if (k == "partial")
        value = f.partial;
      else if (k == "root")
        value = f.has_root;
      else if (!f.has_root)
        value = false;
      else if (k == "ok")
        value = !f.root_error && !f.root_fault && !f.root_throttle;
      else if (k == "error")
        value = f.root_error;
      else if (k == "fault")
        value = f.root_fault;
      else if (k == "throttle")
        value = f.root_throttle;
      // inferred, remote, first, last: false for the root segment outside a root-cause block.
      if (e.op == Op::kNone) return Of(value);
      return Of(e.op == Op::kEq ? value == e.literals[0].b : value != e.literals[0].b);
    }
    case KwType::kNumber: {
      std::optional<double> value;
      if (k == "duration")
        value = f.end - f.start;
      else if (k == "responsetime") {
        if (f.has_root) value = f.root_end - f.root_start;
      } else if (k == "http.status") {
        if (f.has_root && f.http_status != 0) value = static_cast<double>(f.http_status);
      }
      return Of(CompareNumber(value, e));
    }
    case KwType::kString: {
      std::vector<std::string_view> values;
      auto add = [&](std::string_view s) {
        if (!s.empty()) values.push_back(s);
      };
      if (k == "message" || k == "resource.arn" || k == "availabilityzone" || k == "instance.id")
        return V::kUnknown;  // read from the spans, not summarized
      if (k == "http.url")
        add(f.http_url);
      else if (k == "http.method")
        add(f.http_method);
      else if (k == "http.useragent")
        add(f.http_user_agent);
      else if (k == "http.clientip")
        add(f.http_client_ip);
      else if (k == "user")
        for (const std::string& u : f.users) add(u);
      else if (k == "name")
        add(f.has_root ? std::string_view(f.root_name) : std::string_view());
      else if (k == "type")
        add(f.has_root ? std::string_view(f.root_type) : std::string_view());
      return Of(CompareStrings(values, e));
    }
  }
  return V::kUnknown;
}

V Decide(const Expr& e, const SummaryCtx& c) {
  switch (e.kind) {
    case ExprKind::kAnd: {
      V l = Decide(*e.left, c);
      if (l == V::kNo) return V::kNo;
      V r = Decide(*e.right, c);
      if (r == V::kNo) return V::kNo;
      return l == V::kYes && r == V::kYes ? V::kYes : V::kUnknown;
    }
    case ExprKind::kOr: {
      V l = Decide(*e.left, c);
      if (l == V::kYes) return V::kYes;
      V r = Decide(*e.right, c);
      if (r == V::kYes) return V::kYes;
      return l == V::kNo && r == V::kNo ? V::kNo : V::kUnknown;
    }
    case ExprKind::kNot:
      return Not(Decide(*e.left, c));
    case ExprKind::kKeyword:
      if (e.kw_type == KwType::kGroup) {
        if (c.groups == nullptr || !*c.groups) return V::kNo;
        auto text = (*c.groups)(e.literals[0].s, e.keyword == "group.arn");
        if (!text) return V::kNo;
        auto parsed = Filter::Parse(*text);
        if (!parsed.ok()) return V::kNo;
        return parsed->Decide(c.f, c.groups);
      }
      return DecideKeyword(e, c);
    case ExprKind::kService: {
      bool any = false;
      for (const SegmentKey& s : c.f.segments) any |= SelectorMatches(e.a, s);
      if (!any) return V::kNo;
      return e.left ? V::kUnknown : V::kYes;
    }
    case ExprKind::kEdge:
      return c.f.segments.size() < 2 ? V::kNo : V::kUnknown;
    case ExprKind::kRootCause:
      if (e.rc_kind == "fault" && !c.f.any_fault) return V::kNo;
      if (e.rc_kind == "error" && !c.f.any_error && !c.f.any_throttle) return V::kNo;
      if (e.rc_kind == "responsetime" && c.f.segments.empty()) return V::kNo;
      return V::kUnknown;
    case ExprKind::kRootCauseJson:
      return V::kNo;  // as Matches: JSON root-cause matching is not evaluated
  }
  return V::kUnknown;
}

void CollectRequired(const Expr& e, std::vector<std::pair<std::string, std::string>>* out) {
  if (e.kind == ExprKind::kAnd) {
    CollectRequired(*e.left, out);
    CollectRequired(*e.right, out);
    return;
  }
  if (e.kind == ExprKind::kKeyword && e.kw_type == KwType::kAnnotation && e.op == Op::kEq &&
      e.literals.size() == 1 && e.literals[0].type == Literal::Type::kString)
    out->emplace_back(e.keyword, e.literals[0].s);
}

// The need of one annotation term (annotation_need.h), mirroring AnnotationMatches: a literal's
// type decides the annotation's, = and IN name the strings, and a number comparison bounds the
// value (widened by MatchNumber's tolerance, and a little more for its rounding).
AnnotationNeed NeedOf(const Expr& e) {
  AnnotationNeed need;
  need.key = e.keyword;
  if (e.op == Op::kNone) return need;  // "is set": any type (a bool must be true: not checked)
  constexpr double kSlack = 2e-9;
  const bool exact = e.op == Op::kEq || e.op == Op::kIn;
  need.types = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Literal& lit : e.literals) {
    switch (lit.type) {
      case Literal::Type::kString:
        need.types |= AnnotationNeed::TypeBit(AnnotationFact::Type::kString);
        if (exact) need.strings.push_back(lit.s);
        break;
      case Literal::Type::kNumber:
        need.types |= AnnotationNeed::kNumberBits;
        lo = std::min(lo, lit.n);
        hi = std::max(hi, lit.n);
        break;
      case Literal::Type::kBool:
        need.types |= AnnotationNeed::TypeBit(AnnotationFact::Type::kBool);
        break;
    }
  }
  if (!exact) need.strings.clear();
  if (hi >= lo && !std::isnan(lo) && !std::isnan(hi)) {
    switch (e.op == Op::kIn ? Op::kEq : e.op) {
      case Op::kEq:
        need.number_min = lo - kSlack;
        need.number_max = hi + kSlack;
        break;
      case Op::kLt:
      case Op::kLe:
        need.number_max = hi + kSlack;
        break;
      case Op::kGt:
      case Op::kGe:
        need.number_min = lo - kSlack;
        break;
      default:
        break;
    }
  }
  return need;
}

void CollectNeeds(const Expr& e, std::vector<AnnotationNeed>* out) {
  if (e.kind == ExprKind::kAnd) {
    CollectNeeds(*e.left, out);
    CollectNeeds(*e.right, out);
    return;
  }
  if (e.kind == ExprKind::kKeyword && e.kw_type == KwType::kAnnotation) out->push_back(NeedOf(e));
}

}  // namespace

std::vector<AnnotationNeed> Filter::AnnotationNeeds() const {
  std::vector<AnnotationNeed> out;
  if (root_) CollectNeeds(*root_, &out);
  return out;
}

std::vector<std::pair<std::string, std::string>> Filter::RequiredAnnotations() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (root_) CollectRequired(*root_, &out);
  return out;
}

Filter::Verdict Filter::Decide(const TraceFacts& facts, const GroupResolver* groups) const {
  if (!root_) return Verdict::kYes;
  // The same nesting bound as Matches, so group.name cycles end as "no match" here too.
  thread_local int depth = 0;
  if (depth > 4) return Verdict::kNo;
  ++depth;
  SummaryCtx ctx{facts, groups};
  Verdict verdict = ariadne::query::xray_filter::Decide(*root_, ctx);
  --depth;
  return verdict;
}

}  // namespace ariadne::query::xray_filter
