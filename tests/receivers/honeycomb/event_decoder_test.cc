// The Honeycomb event decoder (receivers/honeycomb/event_decoder.h) field by field, and the event
// time parser.
#include "receivers/honeycomb/event_decoder.h"

#include <string>

#include <gtest/gtest.h>

#include "receivers/honeycomb/event_time.h"

namespace ariadne::receivers::honeycomb {
namespace {

constexpr uint64_t kNow = 1'796'284'227'000'000'000ULL;  // 2026-12-03T07:50:27Z
constexpr uint64_t kSecond = 1'000'000'000ULL;

EventDefaults Defaults(std::string_view dataset = "orders") {
  EventDefaults d;
  d.dataset = dataset;
  d.now_unix_nano = kNow;
  return d;
}

model::SpanBatch DecodeOne(const std::string& body, EventDefaults defaults = Defaults()) {
  model::SpanBatch batch;
  Status status = DecodeSingleEvent(body, defaults, &batch);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << body;
  return batch;
}

const model::Value* Attr(const model::SpanBatch& b, std::string_view key, size_t span = 0) {
  return b.FindAttribute(b.spans[span].attributes, key);
}
std::string Str(const model::SpanBatch& b, std::string_view key, size_t span = 0) {
  const model::Value* v = Attr(b, key, span);
  return v ? std::string(v->str) : "<absent>";
}
std::string Resource(const model::SpanBatch& b, std::string_view key, size_t span = 0) {
  const model::Value* v =
      b.FindAttribute(b.resources[b.spans[span].resource_index].attributes, key);
  return v ? std::string(v->str) : "<absent>";
}

TEST(HoneycombEventDecoderTest, BeelineTraceFieldsBecomeTheSpan) {
  model::SpanBatch b = DecodeOne(R"({"trace.trace_id":"0af7651916cd43dd8448eb211c80319c",
    "trace.span_id":"b7ad6b7169203331","trace.parent_id":"00f067aa0ba902b7","name":"GET /cart",
    "service_name":"cart","duration_ms":12.5,"http.status":200})");
  ASSERT_EQ(b.spans.size(), 1u);
  const model::Span& s = b.spans[0];
  EXPECT_EQ(s.trace_id.ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(s.span_id.ToHex(), "b7ad6b7169203331");
  EXPECT_EQ(s.parent_span_id.ToHex(), "00f067aa0ba902b7");
  EXPECT_EQ(s.name, "GET /cart");
  EXPECT_EQ(s.kind, model::SpanKind::kUnspecified);
  EXPECT_EQ(s.start_time_unix_nano, kNow);
  EXPECT_EQ(s.end_time_unix_nano, kNow + 12'500'000);
  EXPECT_EQ(Resource(b, "service.name"), "cart");
  EXPECT_EQ(Resource(b, "honeycomb.dataset"), "orders");
  // Ids used as is are not repeated as attributes; service_name stays an ordinary field.
  EXPECT_EQ(Attr(b, "honeycomb.trace_id"), nullptr);
  EXPECT_EQ(Attr(b, "honeycomb.span_id"), nullptr);
  EXPECT_EQ(Attr(b, "meta.event"), nullptr);
  EXPECT_EQ(Attr(b, "SampleRate"), nullptr);
  ASSERT_NE(Attr(b, "http.status"), nullptr);
  EXPECT_EQ(Attr(b, "http.status")->type, model::ValueType::kInt);
  EXPECT_EQ(Attr(b, "http.status")->int_value, 200);
  EXPECT_EQ(Str(b, "service_name"), "cart");
  EXPECT_EQ(s.attributes.count, 2u);
}

TEST(HoneycombEventDecoderTest, ServiceDotNameWinsAndIsNotRepeated) {
  model::SpanBatch b = DecodeOne(R"({"trace.trace_id":"t","service.name":"api","name":"x"})");
  EXPECT_EQ(Resource(b, "service.name"), "api");
  EXPECT_EQ(Attr(b, "service.name"), nullptr);
}

TEST(HoneycombEventDecoderTest, DatasetIsServiceAndNameWhenTheEventHasNone) {
  model::SpanBatch b =
      DecodeOne(R"({"trace.trace_id":"t1","trace.span_id":"s1"})", Defaults("checkout"));
  EXPECT_EQ(Resource(b, "service.name"), "checkout");
  EXPECT_EQ(b.spans[0].name, "checkout");
}

TEST(HoneycombEventDecoderTest, OtherIdStringsAreHashedDeterministicallyWithTheOriginalKept) {
  const std::string body =
      R"({"trace.trace_id":"my-trace-1","trace.span_id":"span-a","trace.parent_id":"span-root"})";
  model::SpanBatch a = DecodeOne(body);
  model::SpanBatch b = DecodeOne(body);
  EXPECT_EQ(a.spans[0].trace_id, b.spans[0].trace_id);
  EXPECT_EQ(a.spans[0].span_id, b.spans[0].span_id);
  EXPECT_FALSE(a.spans[0].trace_id.IsZero());
  EXPECT_EQ(Str(a, "honeycomb.trace_id"), "my-trace-1");
  EXPECT_EQ(Str(a, "honeycomb.span_id"), "span-a");
  EXPECT_EQ(Str(a, "honeycomb.parent_id"), "span-root");
  // The parent's id is the same hash its own event gets as span id, so the tree links up.
  model::SpanBatch root =
      DecodeOne(R"({"trace.trace_id":"my-trace-1","trace.span_id":"span-root"})");
  EXPECT_EQ(root.spans[0].span_id, a.spans[0].parent_span_id);
  EXPECT_EQ(root.spans[0].trace_id, a.spans[0].trace_id);
  EXPECT_TRUE(root.spans[0].is_root());
}

TEST(HoneycombEventDecoderTest, UuidTraceIdsLoseTheirDashesAnd64BitIdsArePadded) {
  model::SpanBatch uuid =
      DecodeOne(R"({"trace.trace_id":"b1946ac9-2d4c-4d4e-9f1a-1c1c0e5a7f20","trace.span_id":"x"})");
  EXPECT_EQ(uuid.spans[0].trace_id.ToHex(), "b1946ac92d4c4d4e9f1a1c1c0e5a7f20");
  EXPECT_EQ(Str(uuid, "honeycomb.trace_id"), "b1946ac9-2d4c-4d4e-9f1a-1c1c0e5a7f20");
  model::SpanBatch short_id = DecodeOne(R"({"trace.trace_id":"463ac35c9f6413ad"})");
  EXPECT_EQ(short_id.spans[0].trace_id.ToHex(), "0000000000000000463ac35c9f6413ad");
  EXPECT_EQ(Attr(short_id, "honeycomb.trace_id"), nullptr);
  // A trace id without a span id gets a random one.
  EXPECT_FALSE(short_id.spans[0].span_id.IsZero());
}

TEST(HoneycombEventDecoderTest, AllZeroHexIdsAreRefused) {
  model::SpanBatch b;
  Status status =
      DecodeSingleEvent(R"({"trace.trace_id":"00000000000000000000000000000000"})", Defaults(), &b);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("all zeros"), std::string_view::npos);
  EXPECT_TRUE(b.spans.empty());
}

TEST(HoneycombEventDecoderTest, EventsWithoutTraceFieldsAreInternalSpansMarkedAsEvents) {
  model::SpanBatch b = DecodeOne(R"({"user":"ann","bytes":512})", Defaults("logins"));
  model::SpanBatch c = DecodeOne(R"({"user":"bob","name":"login"})", Defaults("logins"));
  const model::Span& s = b.spans[0];
  EXPECT_FALSE(s.trace_id.IsZero());
  EXPECT_FALSE(s.span_id.IsZero());
  EXPECT_TRUE(s.is_root());
  EXPECT_NE(s.trace_id, c.spans[0].trace_id);
  EXPECT_EQ(s.kind, model::SpanKind::kInternal);
  EXPECT_EQ(s.name, "logins");
  EXPECT_EQ(c.spans[0].name, "login");
  EXPECT_EQ(s.start_time_unix_nano, s.end_time_unix_nano);
  ASSERT_NE(Attr(b, "meta.event"), nullptr);
  EXPECT_TRUE(Attr(b, "meta.event")->bool_value);
  EXPECT_EQ(Str(b, "user"), "ann");
  EXPECT_EQ(Resource(b, "service.name"), "logins");
}

TEST(HoneycombEventDecoderTest, ValueTypesAndNestedObjectsFlattenWithDots) {
  model::SpanBatch b = DecodeOne(R"({"s":"text","t":true,"i":-7,"big":18446744073709551615,
    "d":0.25,"n":null,"arr":[1,"a",{"k":2}],"user":{"id":42,"geo":{"city":"Oslo"}},
    "deep":{"a":{"b":{"c":{"d":{"e":1}}}}}})");
  EXPECT_EQ(Str(b, "s"), "text");
  EXPECT_EQ(Attr(b, "t")->type, model::ValueType::kBool);
  EXPECT_TRUE(Attr(b, "t")->bool_value);
  EXPECT_EQ(Attr(b, "i")->int_value, -7);
  EXPECT_EQ(Attr(b, "big")->type, model::ValueType::kDouble);
  EXPECT_DOUBLE_EQ(Attr(b, "d")->double_value, 0.25);
  EXPECT_EQ(Attr(b, "n"), nullptr);
  EXPECT_EQ(Attr(b, "arr")->type, model::ValueType::kArray);
  EXPECT_EQ(Str(b, "arr"), R"([1,"a",{"k":2}])");
  EXPECT_EQ(Attr(b, "user.id")->int_value, 42);
  EXPECT_EQ(Str(b, "user.geo.city"), "Oslo");
  EXPECT_EQ(Attr(b, "user"), nullptr);
  // Five levels are flattened; the object at the fifth level is kept as JSON text.
  ASSERT_NE(Attr(b, "deep.a.b.c.d"), nullptr);
  EXPECT_EQ(Attr(b, "deep.a.b.c.d")->type, model::ValueType::kKvList);
  EXPECT_EQ(Str(b, "deep.a.b.c.d"), R"({"e":1})");
}

TEST(HoneycombEventDecoderTest, ErrorAndStatusFieldsSetTheStatus) {
  model::SpanBatch b = DecodeOne(R"({"trace.trace_id":"t","error":"connection refused"})");
  EXPECT_EQ(b.spans[0].status_code, model::StatusCode::kError);
  EXPECT_EQ(b.spans[0].status_message, "connection refused");
  EXPECT_EQ(Attr(b, "error"), nullptr);
  model::SpanBatch t = DecodeOne(R"({"error":true,"status_code":1})");
  EXPECT_EQ(t.spans[0].status_code, model::StatusCode::kError);
  model::SpanBatch f = DecodeOne(R"({"error":false,"status_code":1,"status_message":"fine"})");
  EXPECT_EQ(f.spans[0].status_code, model::StatusCode::kOk);
  EXPECT_EQ(f.spans[0].status_message, "fine");
  // An HTTP-style status code does not fit the span status: kept under honeycomb.status_code.
  model::SpanBatch h = DecodeOne(R"({"status_code":503})");
  EXPECT_EQ(h.spans[0].status_code, model::StatusCode::kUnset);
  EXPECT_EQ(Attr(h, "honeycomb.status_code")->int_value, 503);
}

TEST(HoneycombEventDecoderTest, KindTraceStateAndLibraryMapToTheModel) {
  model::SpanBatch b = DecodeOne(R"({"trace.trace_id":"t","span.kind":"client",
    "trace.trace_state":"ot=th:8","library.name":"beeline","library.version":"2.1","type":"odd"})");
  EXPECT_EQ(b.spans[0].kind, model::SpanKind::kClient);
  EXPECT_EQ(b.spans[0].trace_state, "ot=th:8");
  EXPECT_EQ(b.scopes[b.spans[0].scope_index].name, "beeline");
  EXPECT_EQ(b.scopes[b.spans[0].scope_index].version, "2.1");
  EXPECT_EQ(Str(b, "honeycomb.type"), "odd");
}

TEST(HoneycombEventDecoderTest, NegativeDurationBecomesZeroAndIsMarked) {
  model::SpanBatch b = DecodeOne(R"({"duration_ms":-5})");
  EXPECT_EQ(b.spans[0].end_time_unix_nano, b.spans[0].start_time_unix_nano);
  EXPECT_TRUE(Attr(b, "meta.invalid_duration")->bool_value);
  model::SpanBatch s = DecodeOne(R"({"duration_ms":"slow"})");
  EXPECT_EQ(Str(s, "honeycomb.duration_ms"), "slow");
}

TEST(HoneycombEventDecoderTest, EventTimeHeaderThenTimestampFieldThenReceiveTime) {
  EventDefaults with_header = Defaults();
  with_header.time_unix_nano = kNow - 60 * kSecond;
  model::SpanBatch h = DecodeOne(R"({"Timestamp":"2026-12-03T07:00:00Z"})", with_header);
  EXPECT_EQ(h.spans[0].start_time_unix_nano, kNow - 60 * kSecond);
  EXPECT_EQ(Str(h, "Timestamp"), "2026-12-03T07:00:00Z");  // unused: kept as a field
  model::SpanBatch t = DecodeOne(R"({"Timestamp":"2026-12-03T07:00:00.5Z"})");
  EXPECT_EQ(t.spans[0].start_time_unix_nano, 1'796'281'200'500'000'000ULL);
  EXPECT_EQ(Attr(t, "Timestamp"), nullptr);
  // More than an hour ahead → receive time.
  EventDefaults future = Defaults();
  future.time_unix_nano = kNow + 2 * 3600 * kSecond;
  EXPECT_EQ(DecodeOne("{}", future).spans[0].start_time_unix_nano, kNow);
  // Before 2000 → refused.
  EventDefaults old = Defaults();
  old.time_unix_nano = 5 * kSecond;
  model::SpanBatch refused;
  EXPECT_EQ(DecodeSingleEvent("{}", old, &refused).code(), StatusCode::kInvalidArgument);
}

TEST(HoneycombEventDecoderTest, SampleRateBecomesTheSampleRateAttribute) {
  EventDefaults d = Defaults();
  d.sample_rate = 10;
  model::SpanBatch b = DecodeOne(R"({"SampleRate":3,"sampleRate":4})", d);
  EXPECT_EQ(Attr(b, "SampleRate")->int_value, 10);
  EXPECT_EQ(Attr(b, "honeycomb.SampleRate")->int_value, 3);
  EXPECT_EQ(Attr(b, "honeycomb.sampleRate")->int_value, 4);
  // Rate 1: the event's own fields stay as they are.
  model::SpanBatch one = DecodeOne(R"({"SampleRate":3})");
  EXPECT_EQ(Attr(one, "SampleRate")->int_value, 3);
  EXPECT_EQ(ParseSampleRate("20"), 20);
  EXPECT_EQ(ParseSampleRate(" 2.6 "), 3);
  EXPECT_EQ(ParseSampleRate("0"), 1);
  EXPECT_EQ(ParseSampleRate("-4"), 1);
  EXPECT_EQ(ParseSampleRate("many"), 1);
}

TEST(HoneycombEventDecoderTest, BuiltInColumnNamesThatDoNotFitAreKeptPrefixed) {
  model::SpanBatch b = DecodeOne(R"({"name":{"first":"a"},"span.num_events":3})");
  EXPECT_EQ(b.spans[0].name, "orders");
  EXPECT_EQ(Str(b, "honeycomb.name.first"), "a");
  EXPECT_EQ(Attr(b, "honeycomb.span.num_events")->int_value, 3);
}

TEST(HoneycombEventDecoderTest, SingleEventBodyErrors) {
  model::SpanBatch b;
  Status empty = DecodeSingleEvent("", Defaults(), &b);
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.message().find("should not be empty"), std::string_view::npos);
  Status bad = DecodeSingleEvent("{\"a\":", Defaults(), &b);
  EXPECT_NE(bad.message().find("malformed"), std::string_view::npos);
  Status array = DecodeSingleEvent("[{}]", Defaults(), &b);
  EXPECT_NE(array.message().find("/1/batch"), std::string_view::npos);
  EXPECT_TRUE(b.spans.empty());
}

TEST(HoneycombEventDecoderTest, TooManyFieldsIsRefused) {
  std::string body = "{";
  for (size_t i = 0; i <= kMaxEventFields; ++i) {
    body += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  }
  body += "}";
  model::SpanBatch b;
  Status status = DecodeSingleEvent(body, Defaults(), &b);
  EXPECT_NE(status.message().find("too many columns"), std::string_view::npos);
}

TEST(HoneycombEventDecoderTest, BatchAnswersEveryElementInOrderAndKeepsOnlyGoodOnes) {
  model::SpanBatch b;
  auto outcomes = DecodeEventBatch(R"([
    {"data":{"name":"a"},"time":"2026-12-03T07:00:00Z","samplerate":5},
    {"data":"not an object"},
    7,
    {"time":"2026-12-03T07:00:00Z"},
    {"data":{"name":"b"},"time":"yesterday"},
    {"data":{"trace.trace_id":"00000000000000000000000000000000","name":"zero"}},
    {"data":{"name":"c","service_name":"svc2"},"time":1796281200}
  ])",
                                   Defaults(), &b);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  ASSERT_EQ(outcomes->size(), 7u);
  const int expected[] = {202, 400, 400, 400, 400, 400, 202};
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ((*outcomes)[i].status, expected[i]) << i;
    EXPECT_EQ((*outcomes)[i].error.empty(), expected[i] == 202) << i;
  }
  EXPECT_NE((*outcomes)[3].error.find("should not be empty"), std::string::npos);
  EXPECT_NE((*outcomes)[4].error.find("\"time\""), std::string::npos);
  ASSERT_EQ(b.spans.size(), 2u);
  EXPECT_EQ(b.spans[0].name, "a");
  EXPECT_EQ(b.spans[0].start_time_unix_nano, 1'796'281'200ULL * kSecond);
  EXPECT_EQ(Attr(b, "SampleRate", 0)->int_value, 5);
  EXPECT_EQ(b.spans[1].name, "c");
  EXPECT_EQ(b.spans[1].start_time_unix_nano, 1'796'281'200ULL * kSecond);
  EXPECT_EQ(Attr(b, "SampleRate", 1), nullptr);
  EXPECT_EQ(Resource(b, "service.name", 1), "svc2");
  // The refused zero-id element left no resource or attribute behind: two services, one each.
  EXPECT_EQ(b.resources.size(), 2u);
  size_t owned = 0;
  for (const model::Span& s : b.spans) owned += s.attributes.count;
  for (const model::Resource& r : b.resources) owned += r.attributes.count;
  EXPECT_EQ(owned, b.attributes.size());
}

TEST(HoneycombEventDecoderTest, BatchBodyThatIsNotAnArrayIsRefused) {
  model::SpanBatch b;
  EXPECT_EQ(DecodeEventBatch(R"({"data":{}})", Defaults(), &b).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeEventBatch("nope", Defaults(), &b).status().code(), StatusCode::kInvalidArgument);
  auto empty = DecodeEventBatch("[]", Defaults(), &b);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(HoneycombEventDecoderTest, InvalidUtf8IsRepairedAndCounted) {
  model::SpanBatch b;
  uint64_t replaced = 0;
  ASSERT_TRUE(DecodeSingleEvent("{\"user\":\"a\xff\"}", Defaults(), &b, &replaced).ok());
  EXPECT_EQ(Str(b, "user"), "a\xEF\xBF\xBD");
  EXPECT_EQ(replaced, 1u);
}

TEST(HoneycombEventTimeTest, Rfc3339AndUnixForms) {
  EXPECT_EQ(ParseEventTime("2026-12-03T07:00:00Z"), 1'796'281'200ULL * kSecond);
  EXPECT_EQ(ParseEventTime("2026-12-03T07:00:00.123456789Z"),
            1'796'281'200ULL * kSecond + 123'456'789);
  EXPECT_EQ(ParseEventTime("2026-12-03T08:30:00+01:30"), 1'796'281'200ULL * kSecond);
  EXPECT_EQ(ParseEventTime("2026-12-03 07:00:00z"), 1'796'281'200ULL * kSecond);
  EXPECT_EQ(ParseEventTime("1796281200"), 1'796'281'200ULL * kSecond);
  EXPECT_EQ(ParseEventTime("1796281200.5"), 1'796'281'200ULL * kSecond + 500'000'000);
  EXPECT_EQ(ParseEventTime("1796281200123"), 1'796'281'200ULL * kSecond + 123'000'000);
  EXPECT_EQ(ParseEventTime("1796281200123456"), 1'796'281'200ULL * kSecond + 123'456'000);
  EXPECT_EQ(ParseEventTime("1796281200123456789"), 1'796'281'200'123'456'789ULL);
  EXPECT_FALSE(ParseEventTime(""));
  EXPECT_FALSE(ParseEventTime("yesterday"));
  EXPECT_FALSE(ParseEventTime("2026-13-03T07:00:00Z"));
  EXPECT_FALSE(ParseEventTime("2026-12-03T07:00:00"));  // no zone
  EXPECT_FALSE(ParseEventTime("-5"));
}

}  // namespace
}  // namespace ariadne::receivers::honeycomb
