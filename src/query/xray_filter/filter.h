// The X-Ray filter expression language: lexer, recursive-descent parser and an evaluator over one
// trace (TraceView). Used by X-Ray groups, GetTraceSummaries and GetServiceGraph.
//
// Grammar (keywords and boolean words are case-insensitive, string values case-sensitive):
//   expr     := and_expr (OR and_expr)*
//   and_expr := unary ([AND] unary)*            adjacency means AND ("ok !partial duration < 3")
//   unary    := ('!' | NOT) unary | '(' expr ')' | term
//   term     := service '(' [selector] ')' ['{' expr '}']
//             | edge '(' selector ',' selector ')' ['{' expr '}']
//             | rootcause.(fault|error).(service|entity|exception) ['{' expr '}']
//             | rootcause.responsetime.(service|entity) ['{' expr '}']
//             | rootcause.json '=' #[ json ]
//             | keyword [op literal | IN '(' literal, ... ')']
//   selector := "name" | id '(' (name|type|account.id) ':' "value" , ... ')'
//   op       := = != < <= > >= CONTAINS BEGINSWITH ENDSWITH
// Keywords are typed (boolean: ok error fault throttle partial inferred first last remote root;
// number: responsetime duration http.status index coverage; string: http.url http.method
// http.useragent http.clientip user name type message availabilityzone instance.id resource.arn
// group.name group.arn; annotation.KEY takes the stored value's type). A keyword used with an
// operator or literal of the wrong type is a parse error.
//
// Errors: kInvalidArgument with "column N: expected X, found Y" — N is 1-based.
//
// Limits (so a hostile expression cannot exhaust the stack or the CPU): at most kMaxFilterBytes
// bytes of text and at most kMaxFilterNesting levels of nesting, counting every '(' ... ')',
// '!'/NOT and service/edge/rootcause '{ ... }' block that encloses a term. Beyond either the parse
// fails with kInvalidArgument naming the limit; callers answer 400 (HTTP API) or
// InvalidRequestException (X-Ray API).
//
// Threads: a parsed Filter is immutable and may be evaluated from any number of threads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "query/xray_filter/annotation_need.h"
#include "query/xray_filter/field_need.h"
#include "query/xray_filter/trace_facts.h"
#include "query/xray_filter/trace_view.h"

namespace ariadne::query::xray_filter {

struct Expr;

inline constexpr size_t kMaxFilterBytes = 4096;
inline constexpr int kMaxFilterNesting = 64;

// Resolves `group.name = "x"` / `group.arn = "x"` to that group's filter expression text
// (nullopt: no such group, the comparison is false).
using GroupResolver =
    std::function<std::optional<std::string>(std::string_view name_or_arn, bool is_arn)>;

class Filter {
 public:
  // Parses `text`. An empty or all-blank text is a filter that matches every trace.
  static Result<Filter> Parse(std::string_view text);

  bool Matches(const TraceView& trace, const GroupResolver* groups = nullptr) const;

  // The expression against a trace's summary (summary_eval.cc): kYes/kNo when the facts decide it
  // exactly as Matches would on the whole trace, kUnknown when they cannot (the caller then
  // fetches the trace and calls Matches). Undecidable from facts: message, resource.arn,
  // availabilityzone, instance.id; inside a service()/edge() block also the HTTP strings and
  // annotations a segment's spans may carry; root-cause terms with a block (and the exception
  // entity) when the trace has a root cause; annotations of a trace with more than
  // TraceFacts::kMaxAnnotations distinct values; and every block, edge() and root-cause term of
  // a trace without per-node facts (TraceFacts::nodes_complete false).
  enum class Verdict { kNo, kYes, kUnknown };

  // {KEY, value} of every `annotation.KEY = "value"` term the whole expression ANDs (outside any
  // block, NOT or OR): a trace can only match when some span carries each of them, so a store can
  // narrow a search to those traces first (TraceFilter::annotations).
  std::vector<std::pair<std::string, std::string>> RequiredAnnotations() const;
  // What every `annotation.KEY op ...` term the whole expression ANDs (outside any block, NOT or
  // OR), whatever its operator, asks of a trace's annotations (annotation_need.h): a trace (or a
  // block of traces) none of whose annotations a need admits cannot match.
  std::vector<AnnotationNeed> AnnotationNeeds() const;
  // What every other term the whole expression ANDs (outside NOT or OR) and the summary decides
  // asks of a trace (field_need.h: flags, number ranges, root strings, users, service selectors
  // with or without a block): a block of traces none of which meets some need cannot match.
  std::vector<FieldNeed> FieldNeeds() const;
  Verdict Decide(const TraceFacts& facts, const GroupResolver* groups = nullptr) const;

  // Exact service names used in service()/edge()/id(name:) selectors, for the "this group matches
  // no service that ever sent data" hint.
  std::vector<std::string> ReferencedServices() const;

  const std::string& text() const { return text_; }
  bool empty() const { return root_ == nullptr; }

 private:
  std::string text_;
  std::shared_ptr<const Expr> root_;
};

}  // namespace ariadne::query::xray_filter
