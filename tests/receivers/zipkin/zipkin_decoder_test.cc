// DecodeZipkinJson, field by field: every Zipkin v2 field lands where docs/receivers.md says, bad
// spans are left out with a reason while their neighbours are kept, and bodies that are not a
// Zipkin v2 array are refused as a whole.
#include "receivers/zipkin/zipkin_decoder.h"

#include <gtest/gtest.h>

#include <string>

namespace ariadne::receivers::zipkin {
namespace {

DecodedSpans Decode(const std::string& body) {
  Result<DecodedSpans> decoded = DecodeZipkinJson(body);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? std::move(decoded).value() : DecodedSpans{};
}

const model::Value* Attr(const model::SpanBatch& batch, model::Range range, std::string_view key) {
  return batch.FindAttribute(range, key);
}

std::string StringAttr(const model::SpanBatch& batch, model::Range range, std::string_view key) {
  const model::Value* v = Attr(batch, range, key);
  if (v == nullptr) return "<absent>";
  if (v->type != model::ValueType::kString) return "<not a string>";
  return std::string(v->str);
}

TEST(ZipkinDecoderTest, FullSpanMapsFieldByField) {
  DecodedSpans out = Decode(R"([{
    "traceId": "5af7183fb1d4cf5f4bf92f3577b34da6",
    "parentId": "6b221d5bc9e6496c",
    "id": "352bff9a74ca9ad2",
    "kind": "CLIENT",
    "name": "get /api/users",
    "timestamp": 1556604172355737,
    "duration": 1431,
    "debug": true,
    "localEndpoint": {"serviceName": "frontend", "ipv4": "192.168.99.1", "port": 8080},
    "remoteEndpoint": {"serviceName": "backend", "ipv4": "172.19.0.2", "port": 9000},
    "annotations": [{"timestamp": 1556604172355800, "value": "wire send"},
                    {"timestamp": 1556604172357000, "value": "wire recv"}],
    "tags": {"http.method": "GET", "http.path": "/api/users", "service.version": "1.2.3",
             "otel.scope.name": "zipkin-js", "otel.scope.version": "0.22.0",
             "otel.status_code": "ERROR", "error": "connection reset",
             "retries": 3, "ratio": 0.5, "cache.hit": false}
  }])");
  ASSERT_EQ(out.rejected_spans, 0u) << out.rejection_message;
  ASSERT_EQ(out.batch.spans.size(), 1u);
  const model::SpanBatch& b = out.batch;
  const model::Span& s = b.spans[0];
  EXPECT_EQ(s.trace_id.ToHex(), "5af7183fb1d4cf5f4bf92f3577b34da6");
  EXPECT_EQ(s.span_id.ToHex(), "352bff9a74ca9ad2");
  EXPECT_EQ(s.parent_span_id.ToHex(), "6b221d5bc9e6496c");
  EXPECT_EQ(s.name, "get /api/users");
  EXPECT_EQ(s.kind, model::SpanKind::kClient);
  EXPECT_EQ(s.start_time_unix_nano, 1556604172355737000ULL);
  EXPECT_EQ(s.end_time_unix_nano, 1556604172355737000ULL + 1431000ULL);
  EXPECT_EQ(s.status_code, model::StatusCode::kError);
  EXPECT_EQ(s.status_message, "connection reset");

  // Resource: the local service, plus the tags that are resource attributes.
  EXPECT_EQ(b.ServiceNameOf(s), "frontend");
  const model::Range resource = b.resources[s.resource_index].attributes;
  EXPECT_EQ(resource.count, 2u);
  EXPECT_EQ(StringAttr(b, resource, "service.version"), "1.2.3");
  // Scope from the otel.scope.* tags.
  EXPECT_EQ(b.scopes[s.scope_index].name, "zipkin-js");
  EXPECT_EQ(b.scopes[s.scope_index].version, "0.22.0");

  // Span attributes: the remaining tags in order, then the endpoints.
  ASSERT_EQ(s.attributes.count, 10u);
  const auto& attrs = b.attributes;
  const uint32_t a = s.attributes.begin;
  EXPECT_EQ(attrs[a + 0].key, "http.method");
  EXPECT_EQ(attrs[a + 1].key, "http.path");
  EXPECT_EQ(attrs[a + 2].key, "retries");
  EXPECT_EQ(attrs[a + 2].value, model::Value::Int(3));
  EXPECT_EQ(attrs[a + 3].value, model::Value::Double(0.5));
  EXPECT_EQ(attrs[a + 4].value, model::Value::Bool(false));
  EXPECT_EQ(attrs[a + 5].key, "net.host.ip");
  EXPECT_EQ(attrs[a + 5].value.str, "192.168.99.1");
  EXPECT_EQ(attrs[a + 6].key, "net.host.port");
  EXPECT_EQ(attrs[a + 6].value, model::Value::Int(8080));
  EXPECT_EQ(attrs[a + 7].key, "peer.service");
  EXPECT_EQ(attrs[a + 7].value.str, "backend");
  EXPECT_EQ(attrs[a + 8].key, "net.peer.ip");
  EXPECT_EQ(attrs[a + 8].value.str, "172.19.0.2");
  EXPECT_EQ(attrs[a + 9].key, "net.peer.port");
  EXPECT_EQ(attrs[a + 9].value, model::Value::Int(9000));
  EXPECT_EQ(Attr(b, s.attributes, "error"), nullptr) << "error went into the status";
  EXPECT_EQ(Attr(b, s.attributes, "otel.status_code"), nullptr);

  // Annotations → events.
  ASSERT_EQ(s.events.count, 2u);
  EXPECT_EQ(b.events[s.events.begin].name, "wire send");
  EXPECT_EQ(b.events[s.events.begin].time_unix_nano, 1556604172355800000ULL);
  EXPECT_EQ(b.events[s.events.begin + 1].name, "wire recv");
  EXPECT_EQ(s.links.count, 0u);
}

TEST(ZipkinDecoderTest, SixtyFourBitTraceIdFillsTheLowHalfAndTheHighHalfIsZero) {
  DecodedSpans out = Decode(
      R"([{"traceId": "4bf92f3577b34da6", "id": "00f067aa0ba902b7", "timestamp": 1700000000000000}])");
  ASSERT_EQ(out.batch.spans.size(), 1u);
  EXPECT_EQ(out.batch.spans[0].trace_id.ToHex(), "00000000000000004bf92f3577b34da6");
  EXPECT_TRUE(out.batch.spans[0].is_root());
}

TEST(ZipkinDecoderTest, ShortAndOddLengthIdsAreLeftPaddedAsZipkinDoes) {
  EXPECT_EQ(ParseZipkinTraceId("abc")->ToHex(), "00000000000000000000000000000abc");
  EXPECT_EQ(ParseZipkinTraceId("1234567890abcdef1")->ToHex(), "0000000000000001234567890abcdef1");
  EXPECT_EQ(ParseZipkinSpanId("F")->ToHex(), "000000000000000f");
  EXPECT_FALSE(ParseZipkinTraceId(std::string(33, 'a')));
  EXPECT_FALSE(ParseZipkinSpanId(std::string(17, 'a')));
  EXPECT_FALSE(ParseZipkinSpanId("12g4"));
  EXPECT_FALSE(ParseZipkinSpanId(""));
}

TEST(ZipkinDecoderTest, KindsMapToSpanKindsAndSpanKindTagStandsInWhenKindIsAbsent) {
  DecodedSpans out = Decode(R"([
    {"traceId": "1", "id": "1", "timestamp": 1700000000000000, "kind": "SERVER"},
    {"traceId": "1", "id": "2", "timestamp": 1700000000000000, "kind": "CLIENT"},
    {"traceId": "1", "id": "3", "timestamp": 1700000000000000, "kind": "PRODUCER"},
    {"traceId": "1", "id": "4", "timestamp": 1700000000000000, "kind": "CONSUMER"},
    {"traceId": "1", "id": "5", "timestamp": 1700000000000000},
    {"traceId": "1", "id": "6", "timestamp": 1700000000000000, "tags": {"span.kind": "internal"}}
  ])");
  ASSERT_EQ(out.batch.spans.size(), 6u);
  const model::SpanKind expected[] = {model::SpanKind::kServer,      model::SpanKind::kClient,
                                      model::SpanKind::kProducer,    model::SpanKind::kConsumer,
                                      model::SpanKind::kUnspecified, model::SpanKind::kInternal};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(out.batch.spans[i].kind, expected[i]) << i;
  EXPECT_EQ(out.batch.spans[5].attributes.count, 0u) << "span.kind was consumed";
}

TEST(ZipkinDecoderTest, StatusComesFromOtelStatusTagsAndTheErrorTag) {
  DecodedSpans out = Decode(R"([
    {"traceId": "1", "id": "1", "timestamp": 1700000000000000, "tags": {"error": "true"}},
    {"traceId": "1", "id": "2", "timestamp": 1700000000000000, "tags": {"error": "timeout"}},
    {"traceId": "1", "id": "3", "timestamp": 1700000000000000,
     "tags": {"otel.status_code": "OK"}},
    {"traceId": "1", "id": "4", "timestamp": 1700000000000000,
     "tags": {"otel.status_code": "STATUS_CODE_ERROR", "otel.status_description": "boom",
              "error": ""}},
    {"traceId": "1", "id": "5", "timestamp": 1700000000000000, "tags": {"error": "false"}},
    {"traceId": "1", "id": "6", "timestamp": 1700000000000000}
  ])");
  ASSERT_EQ(out.batch.spans.size(), 6u);
  const auto& spans = out.batch.spans;
  EXPECT_EQ(spans[0].status_code, model::StatusCode::kError);
  EXPECT_EQ(spans[0].status_message, "");
  EXPECT_EQ(spans[0].attributes.count, 0u);
  EXPECT_EQ(spans[1].status_code, model::StatusCode::kError);
  EXPECT_EQ(spans[1].status_message, "timeout");
  EXPECT_EQ(spans[2].status_code, model::StatusCode::kOk);
  EXPECT_EQ(spans[2].attributes.count, 0u);
  EXPECT_EQ(spans[3].status_code, model::StatusCode::kError);
  EXPECT_EQ(spans[3].status_message, "boom");
  EXPECT_EQ(spans[4].status_code, model::StatusCode::kUnset);
  EXPECT_EQ(StringAttr(out.batch, spans[4].attributes, "error"), "false");
  EXPECT_EQ(spans[5].status_code, model::StatusCode::kUnset);
}

TEST(ZipkinDecoderTest, OtelBookkeepingTagsFillTheirFields) {
  DecodedSpans out = Decode(R"([{"traceId": "1", "id": "1", "timestamp": 1700000000000000,
    "tags": {"w3c.tracestate": "ot=th:0", "otel.dropped_attributes_count": "2",
             "otel.dropped_events_count": "3", "otel.dropped_links_count": "4",
             "otel.library.name": "lib", "otel.library.version": "9"}}])");
  ASSERT_EQ(out.batch.spans.size(), 1u);
  const model::Span& s = out.batch.spans[0];
  EXPECT_EQ(s.trace_state, "ot=th:0");
  EXPECT_EQ(s.dropped_attributes_count, 2u);
  EXPECT_EQ(s.dropped_events_count, 3u);
  EXPECT_EQ(s.dropped_links_count, 4u);
  EXPECT_EQ(out.batch.scopes[s.scope_index].name, "lib");
  EXPECT_EQ(out.batch.scopes[s.scope_index].version, "9");
  EXPECT_EQ(s.attributes.count, 0u);
}

TEST(ZipkinDecoderTest, SharedServerSpanGetsItsOwnIdWithTheSharedIdAsParent) {
  DecodedSpans out = Decode(R"([
    {"traceId": "463ac35c9f6413ad", "parentId": "a2fb4a1d1a96d312", "id": "b7ad6b7169203331",
     "kind": "CLIENT", "timestamp": 1700000000000000, "duration": 900,
     "localEndpoint": {"serviceName": "frontend"}},
    {"traceId": "463ac35c9f6413ad", "parentId": "a2fb4a1d1a96d312", "id": "b7ad6b7169203331",
     "kind": "SERVER", "shared": true, "timestamp": 1700000000000100, "duration": 700,
     "localEndpoint": {"serviceName": "backend"}}
  ])");
  ASSERT_EQ(out.batch.spans.size(), 2u);
  const model::Span& client = out.batch.spans[0];
  const model::Span& server = out.batch.spans[1];
  EXPECT_EQ(client.span_id.ToHex(), "b7ad6b7169203331");
  EXPECT_EQ(server.parent_span_id, client.span_id);
  EXPECT_NE(server.span_id, client.span_id);
  EXPECT_FALSE(server.span_id.IsZero());
  EXPECT_EQ(server.span_id, SharedServerSpanId(client.span_id)) << "a resend maps to the same id";
  const model::Value* shared = out.batch.FindAttribute(server.attributes, "zipkin.shared");
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(*shared, model::Value::Bool(true));
  EXPECT_EQ(out.batch.ServiceNameOf(server), "backend");
}

TEST(ZipkinDecoderTest, ParentIdEqualToIdOrAllZerosMeansRoot) {
  DecodedSpans out = Decode(R"([
    {"traceId": "1", "id": "5", "parentId": "5", "timestamp": 1700000000000000},
    {"traceId": "1", "id": "6", "parentId": "0000000000000000", "timestamp": 1700000000000000}
  ])");
  ASSERT_EQ(out.batch.spans.size(), 2u);
  EXPECT_TRUE(out.batch.spans[0].is_root());
  EXPECT_TRUE(out.batch.spans[1].is_root());
}

TEST(ZipkinDecoderTest, SpansOfOneServiceShareTheirResource) {
  DecodedSpans out = Decode(R"([
    {"traceId": "1", "id": "1", "timestamp": 1700000000000000,
     "localEndpoint": {"serviceName": "a"}},
    {"traceId": "1", "id": "2", "timestamp": 1700000000000000,
     "localEndpoint": {"serviceName": "b"}},
    {"traceId": "1", "id": "3", "timestamp": 1700000000000000,
     "localEndpoint": {"serviceName": "a"}, "tags": {"service.name": "ignored"}}
  ])");
  ASSERT_EQ(out.batch.spans.size(), 3u);
  EXPECT_EQ(out.batch.resources.size(), 2u);
  EXPECT_EQ(out.batch.spans[0].resource_index, out.batch.spans[2].resource_index);
  EXPECT_EQ(out.batch.ServiceNameOf(out.batch.spans[2]), "a");
  EXPECT_EQ(out.batch.scopes.size(), 1u);
}

TEST(ZipkinDecoderTest, FractionalMicrosecondsAndMissingDurationAreAccepted) {
  DecodedSpans out = Decode(R"([{"traceId": "1", "id": "1", "timestamp": 1700000000000000.5}])");
  ASSERT_EQ(out.batch.spans.size(), 1u);
  EXPECT_EQ(out.batch.spans[0].start_time_unix_nano, 1700000000000000500ULL);
  EXPECT_EQ(out.batch.spans[0].end_time_unix_nano, 1700000000000000500ULL);
}

TEST(ZipkinDecoderTest, BadSpansAreLeftOutWithReasonsAndGoodOnesAreKept) {
  DecodedSpans out = Decode(R"([
    {"traceId": "1", "id": "1", "timestamp": 1700000000000000, "name": "good-1"},
    {"id": "2", "timestamp": 1700000000000000},
    {"traceId": "xyz", "id": "3", "timestamp": 1700000000000000},
    {"traceId": "1", "id": "0000000000000000", "timestamp": 1700000000000000},
    {"traceId": "1", "id": "5"},
    {"traceId": "1", "id": "6", "timestamp": 1700000000000000, "kind": "SIDEWAYS"},
    {"traceId": "1", "id": "7", "timestamp": 1700000000000000, "tags": {"a": {"b": 1}}},
    "not an object",
    {"traceId": "1", "id": "9", "timestamp": -5},
    {"traceId": "1", "id": "a", "timestamp": 1700000000000000, "name": "good-2"}
  ])");
  ASSERT_EQ(out.batch.spans.size(), 2u);
  EXPECT_EQ(out.batch.spans[0].name, "good-1");
  EXPECT_EQ(out.batch.spans[1].name, "good-2");
  EXPECT_EQ(out.rejected_spans, 8u);
  EXPECT_NE(out.rejection_message.find("8 spans rejected"), std::string::npos)
      << out.rejection_message;
  EXPECT_NE(out.rejection_message.find("span #1: traceId is required"), std::string::npos)
      << out.rejection_message;
  EXPECT_NE(out.rejection_message.find("span #2: traceId must be 16 or 32 hex digits"),
            std::string::npos)
      << out.rejection_message;
  EXPECT_NE(out.rejection_message.find("span #3: id must be"), std::string::npos)
      << out.rejection_message;
}

TEST(ZipkinDecoderTest, EachRejectionReasonNamesTheField) {
  auto reason = [](const std::string& span) {
    DecodedSpans out = Decode("[" + span + "]");
    EXPECT_EQ(out.rejected_spans, 1u) << span;
    return out.rejection_message;
  };
  EXPECT_NE(reason(R"({"traceId": "1", "id": "5"})").find("timestamp"), std::string::npos);
  EXPECT_NE(reason(R"({"traceId": "1", "id": "6", "timestamp": 1, "kind": "SIDEWAYS"})")
                .find("kind must be CLIENT, SERVER, PRODUCER or CONSUMER"),
            std::string::npos);
  EXPECT_NE(reason(R"({"traceId": "1", "id": "7", "timestamp": 1, "tags": {"a": [1]}})")
                .find("tags.a must be a string"),
            std::string::npos);
  EXPECT_NE(reason(R"({"traceId": "1", "id": "7", "timestamp": 1, "parentId": "zz"})")
                .find("parentId must be"),
            std::string::npos);
  EXPECT_NE(reason(R"({"traceId": "1", "id": "7", "timestamp": 1,
                       "remoteEndpoint": {"port": 70000}})")
                .find("remoteEndpoint.port"),
            std::string::npos);
}

TEST(ZipkinDecoderTest, MalformedAnnotationsAreDroppedAndCounted) {
  DecodedSpans out = Decode(R"([{"traceId": "1", "id": "1", "timestamp": 1700000000000000,
    "annotations": [{"value": "no time"}, {"timestamp": 1700000000000001, "value": "ok"}, 7]}])");
  ASSERT_EQ(out.batch.spans.size(), 1u);
  EXPECT_EQ(out.batch.spans[0].events.count, 1u);
  EXPECT_EQ(out.batch.spans[0].dropped_events_count, 2u);
}

TEST(ZipkinDecoderTest, ZipkinV1JsonIsRefusedWithAPointerToV2) {
  DecodedSpans out = Decode(R"([{"traceId": "1", "id": "1", "name": "get",
    "annotations": [{"timestamp": 1700000000000000, "value": "cs",
                     "endpoint": {"serviceName": "a"}}],
    "binaryAnnotations": [{"key": "http.path", "value": "/"}]}])");
  EXPECT_EQ(out.batch.spans.size(), 0u);
  EXPECT_NE(out.rejection_message.find("Zipkin v1 JSON"), std::string::npos)
      << out.rejection_message;
  EXPECT_NE(out.rejection_message.find("JSON_V2"), std::string::npos);
}

TEST(ZipkinDecoderTest, BodyThatIsNotAJsonArrayFailsAsAWhole) {
  for (const char* body : {"", "{", R"({"traceId": "1"})", "42", "[1,"}) {
    Result<DecodedSpans> decoded = DecodeZipkinJson(body);
    ASSERT_FALSE(decoded.ok()) << body;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(decoded.status().message()).find("Zipkin v2 spans"), std::string::npos)
        << decoded.status().message();
  }
  DecodedSpans empty = Decode("[]");
  EXPECT_EQ(empty.batch.spans.size(), 0u);
  EXPECT_EQ(empty.rejected_spans, 0u);
}

TEST(ZipkinDecoderTest, InvalidUtf8IsRepairedNotRejected) {
  std::string body =
      "[{\"traceId\": \"1\", \"id\": \"1\", \"timestamp\": 1700000000000000, \"name\": \"op\xff\","
      " \"tags\": {\"k\": \"v\\ud800\"}}]";
  Result<DecodedSpans> decoded = DecodeZipkinJson(body);
  if (!decoded.ok()) {
    // A \u escape of a lone surrogate is not JSON simdjson accepts; the raw byte alone is.
    body =
        "[{\"traceId\": \"1\", \"id\": \"1\", \"timestamp\": 1700000000000000, \"name\": "
        "\"op\xff\"}]";
    decoded = DecodeZipkinJson(body);
  }
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->batch.spans.size(), 1u);
  EXPECT_EQ(decoded->batch.spans[0].name, "op\xEF\xBF\xBD");
  EXPECT_GE(decoded->invalid_utf8_replaced, 1u);
}

TEST(ZipkinDecoderTest, SharedServerSpanIdIsStableAndDistinct) {
  model::SpanId a = *ParseZipkinSpanId("b7ad6b7169203331");
  model::SpanId b = *ParseZipkinSpanId("b7ad6b7169203332");
  EXPECT_EQ(SharedServerSpanId(a), SharedServerSpanId(a));
  EXPECT_NE(SharedServerSpanId(a), SharedServerSpanId(b));
  EXPECT_NE(SharedServerSpanId(a), a);
}

}  // namespace
}  // namespace ariadne::receivers::zipkin
