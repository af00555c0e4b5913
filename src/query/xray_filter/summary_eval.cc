// Filter::Decide: the X-Ray filter expression over a trace's summary (TraceFacts), with three
// outcomes. It mirrors Eval in filter.cc term by term at the trace level (no focus segment): the
// keywords that read the root segment, the trace bounds, every segment's user, the segment
// identities and the annotations are exact; whatever needs the spans answers kUnknown, and
// AND/OR/NOT combine the three values (a kNo in an AND or a kYes in an OR decides regardless of
// the unknown side). Inside a service()/edge() block the focus is one segment, as in Eval: with
// the trace's per-node facts (TraceFacts::nodes) the block is evaluated per node exactly as Eval
// evaluates it per segment; what a node does not carry (its HTTP strings, its spans' annotations,
// messages and resource attributes) answers kUnknown.
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
  const NodeFact* node = nullptr;  // the segment in scope (service()/edge() block), or the trace
};

V Decide(const Expr& e, const SummaryCtx& c);

V DecideAnnotation(const Expr& e, const TraceFacts& f) {
  for (const AnnotationFact& a : f.annotations)
    if (a.key == e.keyword && AnnotationMatches(a, e)) return V::kYes;
  return f.annotations_complete ? V::kNo : V::kUnknown;
}

// A keyword with one segment in scope, as EvalKeyword reads it with a focus segment (no root
// cause in scope: remote, first, last, index and coverage have no value).
V DecideNodeKeyword(const Expr& e, const TraceFacts& f, const NodeFact& node) {
  const std::string& k = e.keyword;
  switch (e.kw_type) {
    case KwType::kAnnotation:
      // The segment's spans are some of the trace's: no annotation anywhere is none here.
      return DecideAnnotation(e, f) == V::kNo ? V::kNo : V::kUnknown;
    case KwType::kGroup:
      return V::kUnknown;  // handled by Decide (a group's filter applies to the whole trace)
    case KwType::kBool: {
      bool value = false;
      if (k == "partial")
        value = f.partial;
      else if (k == "root")
        value = node.parent < 0;
      else if (k == "ok")
        value = !node.error && !node.fault && !node.throttle;
      else if (k == "error")
        value = node.error;
      else if (k == "fault")
        value = node.fault;
      else if (k == "throttle")
        value = node.throttle;
      else if (k == "inferred")
        value = node.inferred;
      if (e.op == Op::kNone) return Of(value);
      return Of(e.op == Op::kEq ? value == e.literals[0].b : value != e.literals[0].b);
    }
    case KwType::kNumber: {
      std::optional<double> value;
      if (k == "duration")
        value = f.end - f.start;
      else if (k == "responsetime")
        value = node.end() - node.start();
      else if (k == "http.status" && node.http_status != 0)
        value = static_cast<double>(node.http_status);
      return Of(CompareNumber(value, e));
    }
    case KwType::kString: {
      std::vector<std::string_view> values;
      auto add = [&](std::string_view s) {
        if (!s.empty()) values.push_back(s);
      };
      if (k == "user") {
        if (node.user >= 0) add(f.users[node.user]);
      } else if (k == "name") {
        add(f.segments[node.segment].name);
      } else if (k == "type") {
        add(f.segments[node.segment].type);
      } else {
        return V::kUnknown;  // HTTP strings, message and resource attributes: not per node
      }
      return Of(CompareStrings(values, e));
    }
  }
  return V::kUnknown;
}

// Whether the node entries can be trusted as a whole: complete, and every index in range (a
// damaged side file is caught by its checksum; this guards a hand-built TraceFacts).
bool NodesUsable(const TraceFacts& f) {
  if (!f.nodes_complete) return false;
  for (const NodeFact& n : f.nodes) {
    if (n.segment >= f.segments.size() || n.parent >= static_cast<int64_t>(f.nodes.size()) ||
        n.user >= static_cast<int64_t>(f.users.size()))
      return false;
  }
  return true;
}

// service()/edge() with nodes: any node (edge: callee node) the selectors pick whose block is
// kYes decides kYes; all kNo decide kNo.
V DecideOverNodes(const Expr& e, const SummaryCtx& c) {
  const TraceFacts& f = c.f;
  V out = V::kNo;
  for (const NodeFact& node : f.nodes) {
    if (e.kind == ExprKind::kEdge) {
      if (node.parent < 0) continue;
      if (!SelectorMatches(e.a, f.segments[f.nodes[node.parent].segment]) ||
          !SelectorMatches(e.b, f.segments[node.segment]))
        continue;
    } else if (!SelectorMatches(e.a, f.segments[node.segment])) {
      continue;
    }
    if (!e.left) return V::kYes;
    SummaryCtx inner{f, c.groups, &node};
    V v = Decide(*e.left, inner);
    if (v == V::kYes) return V::kYes;
    if (v == V::kUnknown) out = V::kUnknown;
  }
  return out;
}

// Whether Eval's RootCauses list is empty, from the nodes (the same walk: a flagged segment none
// of whose child segments is flagged; for responsetime, a segment whose exclusive time, summed in
// the same order, exceeds -1). A non-empty list decides a term without a block; a block, or the
// exception entity (one cause per exception event), needs the spans.
V DecideRootCauseOverNodes(const Expr& e, const TraceFacts& f) {
  const std::vector<NodeFact>& nodes = f.nodes;
  bool any = false;
  if (e.rc_kind == "responsetime") {
    for (size_t k = 0; k < nodes.size() && !any; ++k) {
      double own = nodes[k].end() - nodes[k].start();
      for (const NodeFact& child : nodes)
        if (child.parent == static_cast<int32_t>(k)) own -= child.end() - child.start();
      any = own > -1;
    }
  } else {
    const bool fault = e.rc_kind == "fault";
    auto flagged = [&](const NodeFact& n) { return fault ? n.fault : (n.error || n.throttle); };
    for (size_t k = 0; k < nodes.size() && !any; ++k) {
      if (!flagged(nodes[k])) continue;
      bool child_flagged = false;
      for (const NodeFact& child : nodes)
        child_flagged |= child.parent == static_cast<int32_t>(k) && flagged(child);
      any = !child_flagged;
    }
  }
  if (!any) return V::kNo;
  return e.left || e.rc_entity == "exception" ? V::kUnknown : V::kYes;
}

V DecideKeyword(const Expr& e, const SummaryCtx& c) {
  const TraceFacts& f = c.f;
  if (c.node != nullptr) return DecideNodeKeyword(e, f, *c.node);
  const std::string& k = e.keyword;
  switch (e.kw_type) {
    case KwType::kAnnotation:
      return DecideAnnotation(e, f);
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
      if (!e.left) return V::kYes;
      return NodesUsable(c.f) ? DecideOverNodes(e, c) : V::kUnknown;
    }
    case ExprKind::kEdge: {
      if (NodesUsable(c.f)) return DecideOverNodes(e, c);
      // Without nodes: no edge when no segment is the caller's or the callee's service (the two
      // may be one identity: a service calling itself).
      bool caller = false, callee = false;
      for (const SegmentKey& s : c.f.segments) {
        caller |= SelectorMatches(e.a, s);
        callee |= SelectorMatches(e.b, s);
      }
      return caller && callee ? V::kUnknown : V::kNo;
    }
    case ExprKind::kRootCause:
      if (NodesUsable(c.f)) return DecideRootCauseOverNodes(e, c.f);
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
// value (NarrowToMatchingNumbers).
AnnotationNeed NeedOf(const Expr& e) {
  AnnotationNeed need;
  need.key = e.keyword;
  if (e.op == Op::kNone) return need;  // "is set": any type (a bool must be true: not checked)
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
  if (hi >= lo && !std::isnan(lo) && !std::isnan(hi))
    NarrowToMatchingNumbers(e.op, lo, hi, &need.number_min, &need.number_max);
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
