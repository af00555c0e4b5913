// TraceFacts: what an X-Ray filter expression can ask of a trace without its spans — the
// trace-level answers of a TraceView (bounds, partial), its root segment (name, type, flags, HTTP,
// times), every segment's user, the distinct (name, type, account) of its segments (inferred ones
// included) and its annotations. Computed once per trace from the whole trace (FromView), kept by
// the store's trace-summary index, and evaluated by Filter::Decide (summary_eval.cc), which answers
// "unknown" for whatever these facts cannot decide (see there).
//
// Per-node facts (`nodes`): one entry per segment of the view, inferred ones included, in the
// view's segment order, holding what Filter::Matches reads of a segment inside a service()/edge()
// block (flags, response time, HTTP status, user, identity, caller). With them Decide evaluates
// such blocks exactly; without them (nodes_complete false: more than kMaxNodes segments, or facts
// read from a side file older than version 5) block terms answer "unknown".
//
// Plain value type; safe to copy and share once built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "query/xray_filter/trace_view.h"

namespace ariadne::query::xray_filter {

struct SegmentKey {
  std::string name, type, account;
  bool operator==(const SegmentKey& o) const {
    return name == o.name && type == o.type && account == o.account;
  }
};

// One distinct annotation value stored on some span of the trace (key without "annotation.").
struct AnnotationFact {
  enum class Type { kString, kInt, kDouble, kBool, kOther } type = Type::kOther;
  std::string key;
  std::string str;
  double number = 0;  // kInt and kDouble
  bool boolean = false;
};

// One segment of the trace (an X-Ray service-graph node visit). Packed into 24 bytes: summaries
// are held by the thousands in the part cache, and a trace keeps nodes only up to kMaxNodes (64)
// segments, so every index fits in 8 bits; a status outside 16 bits keeps no nodes.
struct NodeFact {
  // The segment span's times; start()/end() are SegmentInfo::start/end bit for bit.
  uint64_t start_unix_nano = 0, end_unix_nano = 0;
  int16_t http_status = 0;  // 0 when absent
  uint8_t segment = 0;      // its identity: index into TraceFacts::segments
  int8_t parent = -1;       // the calling segment: index into TraceFacts::nodes, or -1
  int8_t user = -1;         // index into TraceFacts::users, or -1 (no user)
  bool error : 1 = false, fault : 1 = false, throttle : 1 = false, inferred : 1 = false;
  double start() const { return static_cast<double>(start_unix_nano) / 1e9; }
  double end() const { return static_cast<double>(end_unix_nano) / 1e9; }
};

struct TraceFacts {
  // At most this many distinct annotation values are kept; a trace with more has
  // annotations_complete false and annotation terms answer "unknown".
  static constexpr size_t kMaxAnnotations = 32;

  double start = 0, end = 0;  // as TraceView::start()/end()
  bool partial = false;
  bool has_root = false;  // false: the trace has no segment (every keyword is then false)
  std::string root_name, root_type;
  double root_start = 0, root_end = 0;
  bool root_error = false, root_fault = false, root_throttle = false;
  bool any_error = false, any_fault = false, any_throttle = false;  // over every segment
  std::string http_method, http_url, http_user_agent, http_client_ip;
  int64_t http_status = 0;
  std::vector<std::string> users;    // distinct non-empty segment users
  std::vector<SegmentKey> segments;  // distinct segment identities
  std::vector<AnnotationFact> annotations;
  bool annotations_complete = true;
  // At most this many segments are kept as nodes; a trace with more keeps none.
  static constexpr size_t kMaxNodes = 64;
  std::vector<NodeFact> nodes;
  bool nodes_complete = false;  // nodes holds every segment (false: block terms are "unknown")

  static TraceFacts FromView(const TraceView& view);

  // Bytes held on the heap and inline, for memory accounting.
  size_t ApproximateBytes() const;
};

}  // namespace ariadne::query::xray_filter
