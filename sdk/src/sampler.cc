#include "ariadne/sdk/sampler.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "internal/env.h"

namespace ariadne::sdk {

namespace {

class AlwaysOnSampler final : public Sampler {
 public:
  SamplingResult ShouldSample(const SamplingParams&) override {
    SamplingResult r;
    r.decision = SamplingDecision::kRecordAndSample;
    return r;
  }
  std::string Description() const override { return "AlwaysOnSampler"; }
};

class AlwaysOffSampler final : public Sampler {
 public:
  SamplingResult ShouldSample(const SamplingParams&) override { return {}; }
  std::string Description() const override { return "AlwaysOffSampler"; }
};

class TraceIdRatioSampler final : public Sampler {
 public:
  explicit TraceIdRatioSampler(double ratio) : ratio_(std::clamp(ratio, 0.0, 1.0)) {
    // bound = ratio * 2^63, computed so that ratio 1.0 samples everything.
    bound_ = ratio_ >= 1.0 ? (1ull << 63) : static_cast<uint64_t>(ratio_ * 9223372036854775808.0);
  }
  SamplingResult ShouldSample(const SamplingParams& params) override {
    SamplingResult r;
    uint64_t v = 0;
    for (int i = 8; i < 16; ++i) v = v << 8 | params.trace_id->bytes[i];
    v &= 0x7FFFFFFFFFFFFFFFull;
    if (v < bound_) r.decision = SamplingDecision::kRecordAndSample;
    return r;
  }
  std::string Description() const override {
    return "TraceIdRatioBased{" + std::to_string(ratio_) + "}";
  }

 private:
  double ratio_;
  uint64_t bound_;
};

class ParentBasedSampler final : public Sampler {
 public:
  ParentBasedSampler(std::unique_ptr<Sampler> root, ParentBasedOptions o)
      : root_(std::move(root)),
        remote_sampled_(o.remote_sampled ? std::move(o.remote_sampled) : MakeAlwaysOnSampler()),
        remote_not_sampled_(o.remote_not_sampled ? std::move(o.remote_not_sampled)
                                                 : MakeAlwaysOffSampler()),
        local_sampled_(o.local_sampled ? std::move(o.local_sampled) : MakeAlwaysOnSampler()),
        local_not_sampled_(o.local_not_sampled ? std::move(o.local_not_sampled)
                                               : MakeAlwaysOffSampler()) {}

  SamplingResult ShouldSample(const SamplingParams& params) override {
    const SpanContext* parent = params.parent;
    if (parent == nullptr || !parent->trace_id.IsValid() || params.parent_decision_deferred) {
      return root_->ShouldSample(params);
    }
    if (parent->is_remote) {
      return parent->IsSampled() ? remote_sampled_->ShouldSample(params)
                                 : remote_not_sampled_->ShouldSample(params);
    }
    return parent->IsSampled() ? local_sampled_->ShouldSample(params)
                               : local_not_sampled_->ShouldSample(params);
  }
  std::string Description() const override {
    return "ParentBased{root:" + root_->Description() + "}";
  }

 private:
  std::unique_ptr<Sampler> root_;
  std::unique_ptr<Sampler> remote_sampled_;
  std::unique_ptr<Sampler> remote_not_sampled_;
  std::unique_ptr<Sampler> local_sampled_;
  std::unique_ptr<Sampler> local_not_sampled_;
};

}  // namespace

std::unique_ptr<Sampler> MakeAlwaysOnSampler() { return std::make_unique<AlwaysOnSampler>(); }
std::unique_ptr<Sampler> MakeAlwaysOffSampler() { return std::make_unique<AlwaysOffSampler>(); }
std::unique_ptr<Sampler> MakeTraceIdRatioSampler(double ratio) {
  return std::make_unique<TraceIdRatioSampler>(ratio);
}
std::unique_ptr<Sampler> MakeParentBasedSampler(std::unique_ptr<Sampler> root,
                                                ParentBasedOptions options) {
  return std::make_unique<ParentBasedSampler>(std::move(root), std::move(options));
}

std::unique_ptr<Sampler> MakeSamplerFromEnvironment() {
  const std::string name = internal::GetEnv("OTEL_TRACES_SAMPLER");
  const std::string arg = internal::GetEnv("OTEL_TRACES_SAMPLER_ARG");
  double ratio = 1.0;
  if (!arg.empty()) {
    char* end = nullptr;
    double v = std::strtod(arg.c_str(), &end);
    if (end != arg.c_str() && v >= 0 && v <= 1) ratio = v;
  }
  if (name == "always_on") return MakeAlwaysOnSampler();
  if (name == "always_off") return MakeAlwaysOffSampler();
  if (name == "traceidratio") return MakeTraceIdRatioSampler(ratio);
  if (name == "parentbased_always_off") return MakeParentBasedSampler(MakeAlwaysOffSampler());
  if (name == "parentbased_traceidratio") {
    return MakeParentBasedSampler(MakeTraceIdRatioSampler(ratio));
  }
  return MakeParentBasedSampler(MakeAlwaysOnSampler());
}

}  // namespace ariadne::sdk
