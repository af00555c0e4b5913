#include "model/span_batch.h"

#include <gtest/gtest.h>

#include <string>

namespace ariadne::model {
namespace {

SpanBatch MakeBatch() {
  SpanBatch b;
  auto s = [&](std::string_view text) { return b.arena.Copy(text); };
  b.attributes.push_back({s("service.name"), Value::String(s("cart"))});
  b.resources.push_back(Resource{Range{0, 1}, 0, {}});
  b.scopes.push_back(Scope{s("lib"), s("1.0"), Range{1, 0}, 0, {}});
  b.attributes.push_back({s("http.status_code"), Value::Int(503)});
  b.attributes.push_back({s("ratio"), Value::Double(0.25)});
  b.events.push_back(Event{123, s("exception"), Range{3, 0}, 0});
  Span span;
  span.trace_id = *TraceId::FromHex("0102030405060708090a0b0c0d0e0f10");
  span.span_id = *SpanId::FromHex("0102030405060708");
  span.name = s("GET /api/activities/home");
  span.attributes = Range{1, 2};
  span.events = Range{0, 1};
  b.spans.push_back(span);
  return b;
}

TEST(StringArenaTest, ViewsSurviveManyCopiesAndLargeStrings) {
  StringArena arena;
  std::vector<std::string_view> views;
  for (int i = 0; i < 10000; ++i) views.push_back(arena.Copy("value-" + std::to_string(i)));
  std::string big(100000, 'x');
  std::string_view big_view = arena.Copy(big);
  views.push_back(arena.Copy("after-big"));
  for (int i = 0; i < 10000; ++i) EXPECT_EQ(views[i], "value-" + std::to_string(i));
  EXPECT_EQ(big_view, big);
  EXPECT_EQ(views.back(), "after-big");
}

TEST(SpanBatchTest, CloneOwnsItsStringsAndKeepsEveryField) {
  SpanBatch clone;
  {
    SpanBatch original = MakeBatch();
    clone = original.Clone();
  }  // original's arena is gone; the clone must not point into it
  ASSERT_EQ(clone.spans.size(), 1u);
  const Span& span = clone.spans[0];
  EXPECT_EQ(span.name, "GET /api/activities/home");
  EXPECT_EQ(clone.ServiceNameOf(span), "cart");
  const Value* status = clone.FindAttribute(span.attributes, "http.status_code");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->int_value, 503);
  EXPECT_EQ(clone.FindAttribute(span.attributes, "missing"), nullptr);
  ASSERT_EQ(span.events.count, 1u);
  EXPECT_EQ(clone.events[span.events.begin].name, "exception");
  EXPECT_EQ(clone.scopes[span.scope_index].version, "1.0");
}

TEST(SpanBatchTest, MovingABatchKeepsViewsValid) {
  SpanBatch a = MakeBatch();
  SpanBatch b = std::move(a);
  EXPECT_EQ(b.spans[0].name, "GET /api/activities/home");
}

}  // namespace
}  // namespace ariadne::model
