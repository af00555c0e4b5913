#include "ariadne/sdk/propagation.h"

#include <gtest/gtest.h>

#include "ariadne/sdk/tracer.h"

namespace ariadne::sdk {
namespace {

SpanContext MakeContext(bool sampled) {
  SpanContext c;
  c.trace_id = *TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736");
  c.span_id = *SpanId::FromHex("00f067aa0ba902b7");
  c.trace_flags = sampled ? kTraceFlagSampled : 0;
  return c;
}

TEST(W3CPropagatorTest, RoundTripsTraceparentAndTracestate) {
  W3CTraceContextPropagator p;
  SpanContext c = MakeContext(true);
  c.trace_state = TraceState("vendor=abc,ot=th:c");
  HeaderVectorCarrier carrier;
  p.Inject(c, carrier);
  EXPECT_EQ(carrier.Get("traceparent"), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(carrier.Get("TraceState"), "vendor=abc,ot=th:c");  // case-insensitive lookup
  ExtractedContext out;
  ASSERT_TRUE(p.Extract(carrier, out));
  EXPECT_EQ(out.context.trace_id, c.trace_id);
  EXPECT_EQ(out.context.span_id, c.span_id);
  EXPECT_TRUE(out.context.IsSampled());
  EXPECT_TRUE(out.context.is_remote);
  EXPECT_EQ(out.sampled, SampledHint::kSampled);
  EXPECT_EQ(out.context.trace_state.Get("ot"), "th:c");

  SpanContext unsampled = MakeContext(false);
  HeaderVectorCarrier c2;
  p.Inject(unsampled, c2);
  EXPECT_EQ(c2.Get("traceparent").substr(53), "00");
  ASSERT_TRUE(p.Extract(c2, out));
  EXPECT_EQ(out.sampled, SampledHint::kNotSampled);
}

TEST(W3CPropagatorTest, RejectsMalformedTraceparents) {
  const char* bad[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",           // no flags
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",        // uppercase
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",        // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",        // zero span id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // version ff
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // v00 must be 55
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",        // separators
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",        // non-hex
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",       // v01: no '-' after
  };
  for (const char* value : bad) {
    SpanContext out;
    EXPECT_FALSE(W3CTraceContextPropagator::ParseTraceparent(value, out)) << value;
  }
  HeaderVectorCarrier carrier;
  carrier.Set("traceparent", bad[2]);
  ExtractedContext extracted;
  EXPECT_FALSE(W3CTraceContextPropagator().Extract(carrier, extracted));
  EXPECT_FALSE(extracted.found);
}

TEST(W3CPropagatorTest, AcceptsHigherVersionsByTheForwardCompatibleRule) {
  SpanContext out;
  EXPECT_TRUE(W3CTraceContextPropagator::ParseTraceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the-future-holds", out));
  EXPECT_TRUE(out.IsSampled());
  EXPECT_EQ(out.trace_flags, kTraceFlagSampled);  // unknown flag bits are not kept
}

TEST(W3CPropagatorTest, TracestateIsCleanedOrDroppedWhenInvalid) {
  EXPECT_EQ(W3CTraceContextPropagator::NormalizeTracestate(" a=1 , ,b@sys=2,"), "a=1,b@sys=2");
  EXPECT_EQ(W3CTraceContextPropagator::NormalizeTracestate("a=1,a=2"), "");  // duplicate
  EXPECT_EQ(W3CTraceContextPropagator::NormalizeTracestate("A=1"), "");      // uppercase key
  EXPECT_EQ(W3CTraceContextPropagator::NormalizeTracestate("a=x,y"), "");    // comma in value
  EXPECT_EQ(W3CTraceContextPropagator::NormalizeTracestate("a"), "");        // no '='
  std::string many;
  for (int i = 0; i < 33; ++i) many += "k" + std::to_string(i) + "=v,";
  EXPECT_EQ(W3CTraceContextPropagator::NormalizeTracestate(many), "");  // > 32 members
}

TEST(XRayPropagatorTest, RoundTripsRootParentSampled) {
  XRayPropagator p;
  HeaderVectorCarrier carrier;
  p.Inject(MakeContext(true), carrier);
  EXPECT_EQ(carrier.Get("X-Amzn-Trace-Id"),
            "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1");
  ExtractedContext out;
  ASSERT_TRUE(p.Extract(carrier, out));
  EXPECT_EQ(out.context.trace_id, MakeContext(true).trace_id);
  EXPECT_EQ(out.context.span_id, MakeContext(true).span_id);
  EXPECT_EQ(out.sampled, SampledHint::kSampled);
  EXPECT_FALSE(out.decision_deferred());
}

TEST(XRayPropagatorTest, ParsesTheVariantsRealClientsSend) {
  ExtractedContext out;
  // ALB first hop: Root only, Self added, extra fields, odd spacing and order.
  ASSERT_TRUE(XRayPropagator::ParseHeader(
      "Self=1-67891234-12456789abcdef012345678;Root=1-5759e988-bd862e3fe1be46a994272793; "
      "Lineage=a87bd80c:0 ;Foo=bar",
      out));
  EXPECT_EQ(out.context.trace_id.ToHex(), "5759e988bd862e3fe1be46a994272793");
  EXPECT_FALSE(out.context.span_id.IsValid());
  EXPECT_EQ(out.sampled, SampledHint::kUnknown);
  EXPECT_TRUE(out.decision_deferred());

  ASSERT_TRUE(XRayPropagator::ParseHeader(
      "Sampled=?;Parent=53995C3F42CD8AD8;Root=1-5759e988-bd862e3fe1be46a994272793", out));
  EXPECT_EQ(out.sampled, SampledHint::kRequested);
  EXPECT_EQ(out.context.span_id.ToHex(), "53995c3f42cd8ad8");
  EXPECT_TRUE(out.decision_deferred());

  ASSERT_TRUE(XRayPropagator::ParseHeader(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0", out));
  EXPECT_EQ(out.sampled, SampledHint::kNotSampled);
  EXPECT_FALSE(out.context.IsSampled());
}

TEST(XRayPropagatorTest, RejectsMalformedHeaders) {
  const char* bad[] = {
      "",
      "Parent=53995c3f42cd8ad8;Sampled=1",                                 // no Root
      "Root=2-5759e988-bd862e3fe1be46a994272793",                          // version 2
      "Root=1-5759e988-bd862e3fe1be46a99427279",                           // short
      "Root=1-5759e988bd862e3fe1be46a994272793",                           // missing dash
      "Root=1-5759e98g-bd862e3fe1be46a994272793",                          // non-hex
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8a",    // short parent
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000",  // zero parent
      "Root=1-00000000-000000000000000000000000",                          // zero trace
  };
  for (const char* value : bad) {
    ExtractedContext out;
    EXPECT_FALSE(XRayPropagator::ParseHeader(value, out)) << value;
  }
}

TEST(XRayPropagatorTest, ResponseHeaderCarriesTheDecisionOnlyWhenRequested) {
  TraceId id = *TraceId::FromXRay("1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_EQ(XRayPropagator::FormatResponseHeader(id, true, true),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
  EXPECT_EQ(XRayPropagator::FormatResponseHeader(id, true, false),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0");
  EXPECT_EQ(XRayPropagator::FormatResponseHeader(id, false, true),
            "Root=1-5759e988-bd862e3fe1be46a994272793");
}

TEST(CompositePropagatorTest, InjectsBothAndLaterValidExtractWins) {
  auto p = MakePropagator("tracecontext, xray");
  HeaderVectorCarrier carrier;
  p->Inject(MakeContext(true), carrier);
  EXPECT_FALSE(carrier.Get("traceparent").empty());
  EXPECT_FALSE(carrier.Get("x-amzn-trace-id").empty());

  HeaderVectorCarrier in;
  in.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  in.Set("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?");
  ExtractedContext out;
  ASSERT_TRUE(p->Extract(in, out));
  EXPECT_EQ(out.context.trace_id.ToHex(), "5759e988bd862e3fe1be46a994272793");
  EXPECT_EQ(out.sampled, SampledHint::kRequested);

  // A malformed X-Ray header leaves the W3C result in place.
  in.Set("X-Amzn-Trace-Id", "Root=garbage");
  ExtractedContext out2;
  ASSERT_TRUE(p->Extract(in, out2));
  EXPECT_EQ(out2.context.trace_id.ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");

  EXPECT_EQ(MakePropagator("none")->Fields().size(), 0u);
  EXPECT_EQ(MakePropagator("")->Fields(), (std::vector<std::string>{"traceparent", "tracestate"}));
}

TEST(PropagationTest, ExtractedRemoteParentBecomesTheParentOfAServerSpan) {
  TracerProvider provider({});
  HeaderVectorCarrier in;
  in.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ExtractedContext ex;
  ASSERT_TRUE(MakePropagator("tracecontext")->Extract(in, ex));
  Span s =
      provider.GetTracer("t").StartSpan("srv", {.kind = SpanKind::kServer, .parent = &ex.context});
  // Parent-based default: the remote parent was not sampled, so neither is the child.
  EXPECT_FALSE(s.context().IsSampled());
  EXPECT_EQ(s.context().trace_id, ex.context.trace_id);
  HeaderVectorCarrier out;
  MakePropagator("xray")->Inject(s.context(), out);
  ExtractedContext back;
  ASSERT_TRUE(XRayPropagator::ParseHeader(out.Get("x-amzn-trace-id"), back));
  EXPECT_EQ(back.context.trace_id, ex.context.trace_id);
  EXPECT_EQ(back.sampled, SampledHint::kNotSampled);
}

}  // namespace
}  // namespace ariadne::sdk
