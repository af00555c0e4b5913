#include "ariadne/sdk/sampler.h"

#include <gtest/gtest.h>

#include "ariadne/sdk/tracer.h"

namespace ariadne::sdk {
namespace {

TraceId TraceWithLow64(uint64_t low) {
  TraceId id;
  id.bytes[0] = 1;
  for (int i = 0; i < 8; ++i) id.bytes[15 - i] = static_cast<uint8_t>(low >> (8 * i));
  return id;
}

SamplingResult Sample(Sampler& s, const TraceId& id, const SpanContext* parent = nullptr,
                      bool deferred = false) {
  SamplingParams p;
  p.trace_id = &id;
  p.parent = parent;
  p.parent_decision_deferred = deferred;
  return s.ShouldSample(p);
}

TEST(SamplerTest, AlwaysOnAndAlwaysOff) {
  TraceId id = TraceWithLow64(5);
  EXPECT_TRUE(Sample(*MakeAlwaysOnSampler(), id).sampled());
  EXPECT_FALSE(Sample(*MakeAlwaysOffSampler(), id).recorded());
}

TEST(SamplerTest, TraceIdRatioComparesTheLow63BitsWithTheBound) {
  auto half = MakeTraceIdRatioSampler(0.5);
  EXPECT_TRUE(Sample(*half, TraceWithLow64(0)).sampled());
  EXPECT_TRUE(Sample(*half, TraceWithLow64((1ull << 62) - 1)).sampled());
  EXPECT_FALSE(Sample(*half, TraceWithLow64(1ull << 62)).sampled());
  // The top bit is ignored, so 0x8000… behaves like 0.
  EXPECT_TRUE(Sample(*half, TraceWithLow64(1ull << 63)).sampled());
  EXPECT_TRUE(Sample(*MakeTraceIdRatioSampler(1.0), TraceWithLow64(~0ull)).sampled());
  EXPECT_FALSE(Sample(*MakeTraceIdRatioSampler(0.0), TraceWithLow64(0)).sampled());
}

TEST(SamplerTest, TraceIdRatioSamplesAboutTheRatioOfRandomIds) {
  auto s = MakeTraceIdRatioSampler(0.25);
  int sampled = 0;
  for (int i = 0; i < 20000; ++i) {
    sampled += Sample(*s, GenerateTraceId(IdGeneratorKind::kRandom)).sampled();
  }
  EXPECT_NEAR(sampled / 20000.0, 0.25, 0.02);
}

TEST(SamplerTest, ParentBasedFollowsTheParentAndAsksRootOtherwise) {
  auto s = MakeParentBasedSampler(MakeAlwaysOffSampler());
  TraceId id = TraceWithLow64(1);
  SpanContext parent;
  parent.trace_id = id;
  parent.span_id.bytes[7] = 1;
  parent.is_remote = true;
  parent.trace_flags = kTraceFlagSampled;
  EXPECT_TRUE(Sample(*s, id, &parent).sampled());
  parent.trace_flags = 0;
  EXPECT_FALSE(Sample(*s, id, &parent).sampled());
  parent.is_remote = false;
  parent.trace_flags = kTraceFlagSampled;
  EXPECT_TRUE(Sample(*s, id, &parent).sampled());
  // No parent, or a parent whose decision is deferred (X-Ray Sampled=?): the root sampler.
  EXPECT_FALSE(Sample(*s, id).sampled());
  EXPECT_FALSE(Sample(*s, id, &parent, /*deferred=*/true).sampled());
  auto on = MakeParentBasedSampler(MakeAlwaysOnSampler());
  parent.trace_flags = 0;
  EXPECT_TRUE(Sample(*on, id, &parent, /*deferred=*/true).sampled());
}

TEST(SamplerTest, EnvironmentSelectsTheSampler) {
  setenv("OTEL_TRACES_SAMPLER", "always_off", 1);
  EXPECT_EQ(MakeSamplerFromEnvironment()->Description(), "AlwaysOffSampler");
  setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio", 1);
  setenv("OTEL_TRACES_SAMPLER_ARG", "0.5", 1);
  EXPECT_EQ(MakeSamplerFromEnvironment()->Description(),
            "ParentBased{root:TraceIdRatioBased{0.500000}}");
  unsetenv("OTEL_TRACES_SAMPLER");
  unsetenv("OTEL_TRACES_SAMPLER_ARG");
  EXPECT_EQ(MakeSamplerFromEnvironment()->Description(), "ParentBased{root:AlwaysOnSampler}");
}

}  // namespace
}  // namespace ariadne::sdk
