// Samplers decide, when a span starts, whether it is recorded and exported. Built in: always on,
// always off, trace-id ratio and parent-based; the X-Ray remote sampler is in xray_sampler.h.
//
// Threads: ShouldSample is called concurrently from every thread that starts spans and must not
// block for long (no I/O).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ariadne/sdk/attribute.h"
#include "ariadne/sdk/context.h"
#include "ariadne/sdk/span_data.h"

namespace ariadne::sdk {

enum class SamplingDecision : uint8_t { kDrop, kRecordOnly, kRecordAndSample };

struct SamplingParams {
  // The parent, or nullptr for a root span.
  const SpanContext* parent = nullptr;
  // True when the parent's sampling decision is not known (X-Ray `Sampled=?` or no Sampled
  // field): parent-based sampling then asks the root sampler.
  bool parent_decision_deferred = false;
  const TraceId* trace_id = nullptr;
  std::string_view name;
  SpanKind kind = SpanKind::kInternal;
  // Attributes given at span start (the HTTP middleware passes http.method, http.target,
  // http.host and aws.xray.segment_name here).
  std::span<const KeyValueArg> attributes;
};

struct SamplingResult {
  SamplingDecision decision = SamplingDecision::kDrop;
  // X-Ray rule that sampled the span (recorded as aws.xray.sampling_rule_name), or empty.
  char rule_name[33] = {};

  bool sampled() const { return decision == SamplingDecision::kRecordAndSample; }
  bool recorded() const { return decision != SamplingDecision::kDrop; }
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual SamplingResult ShouldSample(const SamplingParams& params) = 0;
  virtual std::string Description() const = 0;
};

std::unique_ptr<Sampler> MakeAlwaysOnSampler();
std::unique_ptr<Sampler> MakeAlwaysOffSampler();
// Samples when the trace id's last 8 bytes (big-endian, top bit cleared) fall below
// ratio * 2^63, so every process with the same ratio agrees. `ratio` is clamped to [0, 1].
std::unique_ptr<Sampler> MakeTraceIdRatioSampler(double ratio);

struct ParentBasedOptions {
  std::unique_ptr<Sampler> remote_sampled;      // default always on
  std::unique_ptr<Sampler> remote_not_sampled;  // default always off
  std::unique_ptr<Sampler> local_sampled;       // default always on
  std::unique_ptr<Sampler> local_not_sampled;   // default always off
};
// Follows the parent's decision; asks `root` for root spans and for parents whose decision is
// deferred.
std::unique_ptr<Sampler> MakeParentBasedSampler(std::unique_ptr<Sampler> root,
                                                ParentBasedOptions options = {});

// OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG: always_on, always_off, traceidratio,
// parentbased_always_on (default), parentbased_always_off, parentbased_traceidratio. Unknown
// values fall back to the default.
std::unique_ptr<Sampler> MakeSamplerFromEnvironment();

}  // namespace ariadne::sdk
