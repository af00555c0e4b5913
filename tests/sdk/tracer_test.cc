#include "ariadne/sdk/tracer.h"

#include <gtest/gtest.h>

#include "ariadne/sdk/exporter.h"
#include "ariadne/sdk/processor.h"

namespace ariadne::sdk {
namespace {

struct Fixture {
  InMemorySpanExporter* exporter = nullptr;
  std::unique_ptr<TracerProvider> provider;

  explicit Fixture(std::unique_ptr<Sampler> sampler = nullptr) {
    TracerProviderOptions options;
    options.resource = Resource({OwnedAttribute("service.name", "test-svc")});
    options.sampler = std::move(sampler);
    provider = std::make_unique<TracerProvider>(std::move(options));
    auto e = std::make_unique<InMemorySpanExporter>();
    exporter = e.get();
    provider->AddSpanProcessor(std::make_unique<SimpleSpanProcessor>(std::move(e)));
  }
};

TEST(TracerTest, ChildStartedUnderActiveScopeGetsParentAndTrace) {
  Fixture f;
  Tracer& tracer = f.provider->GetTracer("t");
  SpanContext parent_ctx;
  {
    Span parent = tracer.StartSpan("parent", {.kind = SpanKind::kServer});
    parent_ctx = parent.context();
    Scope scope = parent.Activate();
    EXPECT_EQ(CurrentSpan(), &parent);
    Span child = tracer.StartSpan("child");
    EXPECT_EQ(child.context().trace_id, parent.context().trace_id);
    child.End();
  }
  EXPECT_EQ(CurrentSpan(), nullptr);
  auto spans = f.exporter->Take();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]->name(), "child");
  EXPECT_EQ(spans[0]->parent_span_id(), parent_ctx.span_id);
  EXPECT_FALSE(spans[0]->parent_is_remote());
  EXPECT_EQ(spans[1]->name(), "parent");
  EXPECT_FALSE(spans[1]->parent_span_id().IsValid());
  EXPECT_EQ(spans[1]->kind(), SpanKind::kServer);
  EXPECT_GE(spans[1]->end_ns(), spans[1]->start_ns());
  EXPECT_EQ(spans[1]->resource()->ServiceName(), "test-svc");
  EXPECT_EQ(spans[1]->scope()->name, "t");
}

TEST(TracerTest, NestedScopesRestoreThePreviousSpan) {
  Fixture f;
  Tracer& tracer = f.provider->GetTracer("t");
  Span a = tracer.StartSpan("a");
  Scope sa = a.Activate();
  {
    Span b = tracer.StartSpan("b");
    Scope sb = b.Activate();
    EXPECT_EQ(CurrentSpan(), &b);
  }
  EXPECT_EQ(CurrentSpan(), &a);
}

TEST(TracerTest, TypedAttributesEventsLinksAndStatusAreRecorded) {
  Fixture f;
  Tracer& tracer = f.provider->GetTracer("t");
  SpanContext link_ctx;
  link_ctx.trace_id = GenerateTraceId(IdGeneratorKind::kRandom);
  link_ctx.span_id = GenerateSpanId();
  std::string temporary = "temporary string";
  {
    Span s = tracer.StartSpan("op", {.links = std::span<const SpanContext>(&link_ctx, 1)});
    s.SetAttribute("s", "str");
    s.SetAttribute("b", true);
    s.SetAttribute("i", 42);
    s.SetAttribute("d", 2.5);
    s.SetAttribute("t", temporary);
    s.SetAttribute("i", int64_t{43});  // overwrite keeps one entry
    temporary.assign("XXXXXXXXXXXXXXXX");
    s.AddEvent("ev", {{"k", "v"}});
    s.SetStatus(StatusCode::kError, "boom");
    s.SetStatus(StatusCode::kOk);
    s.SetStatus(StatusCode::kError, "ignored after ok");
  }
  auto spans = f.exporter->Take();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& d = *spans[0];
  EXPECT_EQ(d.attribute_count(), 5u);
  EXPECT_EQ(d.FindAttribute("s")->string_value(), "str");
  EXPECT_TRUE(d.FindAttribute("b")->bool_value());
  EXPECT_EQ(d.FindAttribute("i")->int_value(), 43);
  EXPECT_EQ(d.FindAttribute("d")->double_value(), 2.5);
  EXPECT_EQ(d.FindAttribute("t")->string_value(), "temporary string");  // copied, not borrowed
  ASSERT_EQ(d.events().size(), 1u);
  EXPECT_EQ(d.events()[0].name, "ev");
  EXPECT_EQ(d.events()[0].attributes[0].value.string_value(), "v");
  ASSERT_EQ(d.links().size(), 1u);
  EXPECT_EQ(d.links()[0].context.span_id, link_ctx.span_id);
  EXPECT_EQ(d.status(), StatusCode::kOk);
}

TEST(TracerTest, ManyAttributesSpillPastInlineStorageAndLongStringsSurvive) {
  Fixture f;
  Tracer& tracer = f.provider->GetTracer("t");
  const std::string big(5000, 'x');
  {
    Span s = tracer.StartSpan("op");
    for (int i = 0; i < 200; ++i) s.SetAttribute("key" + std::to_string(i), i);
    s.SetAttribute("key0", big);
  }
  auto spans = f.exporter->Take();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->attribute_count(), kMaxAttributes);
  EXPECT_EQ(spans[0]->dropped_attributes(), 200 - kMaxAttributes);
  EXPECT_EQ(spans[0]->FindAttribute("key0")->string_value(), big);
  EXPECT_EQ(spans[0]->FindAttribute("key127")->int_value(), 127);
}

TEST(TracerTest, RuntimeKeysAndNamesAreCopiedLiteralKeysAreReferenced) {
  Fixture f;
  Tracer& tracer = f.provider->GetTracer("t");
  std::string name = "dynamic-name";
  std::string key = "dyn.key";
  {
    Span s = tracer.StartSpan(name);
    s.SetAttribute(key, 1);
    s.SetAttribute(std::string_view(key), 2);  // same key: replaced, not added
    s.SetAttribute("lit.key", 3);
    const char* literal_data = s.data()->attribute(1).key.data();
    EXPECT_FALSE(literal_data >= reinterpret_cast<const char*>(s.data()) &&
                 literal_data < reinterpret_cast<const char*>(s.data()) + sizeof(SpanData))
        << "a literal key must not be copied into the span";
    name.assign("XXXXXXXXXXXX");
    key.assign("XXXXXXX");
  }
  auto spans = f.exporter->Take();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0]->name(), "dynamic-name");
  EXPECT_EQ(spans[0]->attribute_count(), 2u);
  EXPECT_EQ(spans[0]->FindAttribute("dyn.key")->int_value(), 2);
  EXPECT_EQ(spans[0]->FindAttribute("lit.key")->int_value(), 3);
}

TEST(TracerTest, UnsampledSpanIsNonRecordingButPropagatesContext) {
  Fixture f(MakeAlwaysOffSampler());
  Tracer& tracer = f.provider->GetTracer("t");
  Span s = tracer.StartSpan("dropped");
  EXPECT_FALSE(s.IsRecording());
  EXPECT_TRUE(s.context().IsValid());
  EXPECT_FALSE(s.context().IsSampled());
  s.SetAttribute("k", 1);  // no-op
  s.End();
  EXPECT_TRUE(f.exporter->Take().empty());
}

TEST(TracerTest, ContextStaysReadableAfterEnd) {
  Fixture f;
  Span s = f.provider->GetTracer("t").StartSpan("x");
  const SpanContext before = s.context();
  s.End();
  EXPECT_EQ(s.context().span_id, before.span_id);
  EXPECT_EQ(s.context().trace_id, before.trace_id);
}

TEST(TracerTest, XRayIdsStartWithTheEpochSeconds) {
  const uint32_t now = static_cast<uint32_t>(NowNs() / 1000000000ull);
  TraceId id = GenerateTraceId(IdGeneratorKind::kXRay);
  uint32_t secs = uint32_t{id.bytes[0]} << 24 | uint32_t{id.bytes[1]} << 16 |
                  uint32_t{id.bytes[2]} << 8 | id.bytes[3];
  EXPECT_LE(now, secs);
  EXPECT_LE(secs, now + 2);
  EXPECT_EQ(id.ToXRay().substr(0, 2), "1-");
  EXPECT_EQ(TraceId::FromXRay(id.ToXRay()), id);
}

TEST(TracerTest, ResourceServiceNamePrecedence) {
  setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs, deployment.environment=dev%20box",
         1);
  unsetenv("OTEL_SERVICE_NAME");
  Resource r = Resource::FromEnvironment();
  EXPECT_EQ(r.ServiceName(), "from-attrs");
  EXPECT_EQ(r.Find("deployment.environment")->str, "dev box");
  setenv("OTEL_SERVICE_NAME", "backend-flask", 1);
  EXPECT_EQ(Resource::FromEnvironment().ServiceName(), "backend-flask");
  unsetenv("OTEL_SERVICE_NAME");
  unsetenv("OTEL_RESOURCE_ATTRIBUTES");
  EXPECT_EQ(Resource::FromEnvironment().ServiceName().substr(0, 16), "unknown_service:");
}

}  // namespace
}  // namespace ariadne::sdk
