// XraySampleWeights: gives every X-Ray span the sample rate of the sampling decision that kept its
// trace, so COUNT, RATE, SUM, AVG and percentiles that honour sample rates
// (`meta.sample_rate_weighted`) match the real request rate (docs/xray-mapping.md, "Sample
// weights").
//
// The X-Ray SDKs report, per rule and every ~10 s, how many requests matched the rule
// (RequestCount), how many they kept from the reservoir or the fixed rate (SampledCount) and how
// many they kept by borrowing (BorrowCount); SamplingTargets sums them per rule in the server's
// 10-s windows. A trace kept under rule R stands for
//     weight(R) = RequestCount / (SampledCount + BorrowCount)
// of R's most recent window at the time the trace's spans arrive (1 when the rule has no
// statistics yet or nothing was kept). Late reports change later traces only: a stored span keeps
// the weight it was given at ingest.
//
// Which rule kept a trace: the root segment's `aws.xray.sampling_rule_name` when the SDK recorded
// it and such a rule exists; otherwise the first rule (priority, then name) that matches the root
// segment's service name (resource service.name), service type (aws.xray.origin), host and path
// (from url.full) and method — the same glob matching the SDKs use. Spans of a trace whose root
// segment came in an earlier batch take the weight remembered for the trace (a bounded memory of
// recent traces); without it, the trace's first segment in the batch decides; subsegments sent
// alone with no remembered trace are left at weight 1.
//
// The weight is written as the span's W3C trace state `ot=th:…` (the OpenTelemetry sampling
// threshold whose adjusted count is the weight), which both engines already read; spans that
// already carry a trace state are left alone.
//
// Threads: Apply may be called from any thread (the pipeline's submitters); one internal mutex
// guards the trace memory. The SamplingTargets and rule source must outlive this object.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/thread_annotations.h"
#include "model/ids.h"
#include "model/span_batch.h"
#include "sampling/sampling_targets.h"

namespace ariadne::sampling {

// The request fields a sampling rule matches.
struct SampledRequest {
  std::string_view service_name;
  std::string_view service_type;
  std::string_view host;
  std::string_view http_method;
  std::string_view url_path;
};

// The first rule of `ordered` (RuleOrder) that matches; nullptr when none does. ResourceARN and
// Attributes are not known for a stored segment and are not checked.
const SamplingRule* MatchRule(const std::vector<SamplingRule>& ordered, const SampledRequest& req);

// RequestCount / (SampledCount + BorrowCount) of `window`, at least 1.
double WeightOf(const StatisticSummary& window);

// The trace state member carrying `weight` (> 1): "ot=th:HEX" with the 56-bit rejection
// threshold (1 − 1/weight) · 2^56, trailing zero digits dropped.
std::string ThresholdTraceState(double weight);

class XraySampleWeights {
 public:
  using RuleSource = std::function<std::vector<SamplingRule>()>;  // RuleOrder

  XraySampleWeights(const SamplingTargets* targets, RuleSource rules, size_t traces_remembered);

  // Sets the trace state of the X-Ray spans (attribute aws.xray.type) in `batch`. Spans of other
  // receivers are untouched; nothing is done while no SDK has reported statistics.
  void Apply(model::SpanBatch* batch);

 private:
  std::optional<double> RememberedWeight(const model::TraceId& trace);
  void Remember(const model::TraceId& trace, double weight);
  // The weight of the rule that kept the segment `span`.
  double SegmentWeight(const model::SpanBatch& batch, const model::Span& span,
                       std::vector<SamplingRule>* rules, bool* rules_loaded);

  const SamplingTargets* targets_;
  RuleSource rules_;
  const size_t traces_remembered_;
  Mutex mu_;
  std::unordered_map<model::TraceId, double, model::TraceIdHash> weights_ ARIADNE_GUARDED_BY(mu_);
  std::deque<model::TraceId> order_ ARIADNE_GUARDED_BY(mu_);  // oldest first, for eviction
};

}  // namespace ariadne::sampling
