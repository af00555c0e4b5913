// DecodeZipkinProto3 against bodies encoded by libprotobuf from zipkin_proto3.proto: every field
// lands where the JSON decoder puts it (the same span model, compared span by span with the JSON
// form of the same spans), bad spans are left out with a reason while their neighbours are kept,
// unknown fields are skipped, and a body that is not a ListOfSpans is refused as a whole.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "receivers/zipkin/zipkin_decoder.h"
#include "zipkin_proto3.pb.h"  // generated from zipkin_proto3.proto

namespace ariadne::receivers::zipkin {
namespace {

std::string Bytes(std::initializer_list<uint8_t> bytes) {
  return std::string(bytes.begin(), bytes.end());
}

std::string HexBytes(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// The span of FullSpanMapsFieldByField in zipkin_decoder_test.cc, as protobuf.
::zipkin::proto3::Span FullSpan() {
  ::zipkin::proto3::Span s;
  s.set_trace_id(HexBytes("5af7183fb1d4cf5f4bf92f3577b34da6"));
  s.set_parent_id(HexBytes("6b221d5bc9e6496c"));
  s.set_id(HexBytes("352bff9a74ca9ad2"));
  s.set_kind(::zipkin::proto3::Span::CLIENT);
  s.set_name("get /api/users");
  s.set_timestamp(1556604172355737ULL);
  s.set_duration(1431);
  s.set_debug(true);
  s.mutable_local_endpoint()->set_service_name("frontend");
  s.mutable_local_endpoint()->set_ipv4(Bytes({192, 168, 99, 1}));
  s.mutable_local_endpoint()->set_port(8080);
  s.mutable_remote_endpoint()->set_service_name("backend");
  s.mutable_remote_endpoint()->set_ipv6(
      Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}));
  s.mutable_remote_endpoint()->set_port(9000);
  auto* a = s.add_annotations();
  a->set_timestamp(1556604172355800ULL);
  a->set_value("wire send");
  a = s.add_annotations();
  a->set_timestamp(1556604172357000ULL);
  a->set_value("wire recv");
  auto& tags = *s.mutable_tags();
  tags["http.method"] = "GET";
  tags["service.version"] = "1.2.3";
  tags["otel.scope.name"] = "zipkin-js";
  tags["otel.scope.version"] = "0.22.0";
  tags["otel.status_code"] = "ERROR";
  tags["error"] = "connection reset";
  return s;
}

constexpr const char* kFullSpanJson = R"([{
    "traceId": "5af7183fb1d4cf5f4bf92f3577b34da6", "parentId": "6b221d5bc9e6496c",
    "id": "352bff9a74ca9ad2", "kind": "CLIENT", "name": "get /api/users",
    "timestamp": 1556604172355737, "duration": 1431, "debug": true,
    "localEndpoint": {"serviceName": "frontend", "ipv4": "192.168.99.1", "port": 8080},
    "remoteEndpoint": {"serviceName": "backend", "ipv6": "2001:db8::1", "port": 9000},
    "annotations": [{"timestamp": 1556604172355800, "value": "wire send"},
                    {"timestamp": 1556604172357000, "value": "wire recv"}],
    "tags": {"http.method": "GET", "service.version": "1.2.3", "otel.scope.name": "zipkin-js",
             "otel.scope.version": "0.22.0", "otel.status_code": "ERROR",
             "error": "connection reset"}}])";

std::string Encode(const ::zipkin::proto3::ListOfSpans& list) {
  std::string out;
  EXPECT_TRUE(list.SerializeToString(&out));
  return out;
}

DecodedSpans Decode(const std::string& body) {
  Result<DecodedSpans> decoded = DecodeZipkinProto3(body);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? std::move(decoded).value() : DecodedSpans{};
}

std::string ValueText(const model::Value& v) {
  switch (v.type) {
    case model::ValueType::kString:
      return "s:" + std::string(v.str);
    case model::ValueType::kInt:
      return "i:" + std::to_string(v.int_value);
    case model::ValueType::kBool:
      return v.bool_value ? "b:true" : "b:false";
    default:
      return "other";
  }
}

std::map<std::string, std::string> Attributes(const model::SpanBatch& b, model::Range range) {
  std::map<std::string, std::string> out;
  for (uint32_t i = 0; i < range.count; ++i) {
    const model::KeyValue& kv = b.attributes[range.begin + i];
    out[std::string(kv.key)] = ValueText(kv.value);
  }
  return out;
}

// Span i of `a` and of `b` carry the same data (attribute order aside: a protobuf map has none).
void ExpectSameSpan(const model::SpanBatch& a, const model::SpanBatch& b, size_t i) {
  const model::Span& x = a.spans[i];
  const model::Span& y = b.spans[i];
  EXPECT_EQ(x.trace_id, y.trace_id);
  EXPECT_EQ(x.span_id, y.span_id);
  EXPECT_EQ(x.parent_span_id, y.parent_span_id);
  EXPECT_EQ(x.name, y.name);
  EXPECT_EQ(x.kind, y.kind);
  EXPECT_EQ(x.start_time_unix_nano, y.start_time_unix_nano);
  EXPECT_EQ(x.end_time_unix_nano, y.end_time_unix_nano);
  EXPECT_EQ(x.status_code, y.status_code);
  EXPECT_EQ(x.status_message, y.status_message);
  EXPECT_EQ(x.dropped_events_count, y.dropped_events_count);
  EXPECT_EQ(a.ServiceNameOf(x), b.ServiceNameOf(y));
  EXPECT_EQ(Attributes(a, a.resources[x.resource_index].attributes),
            Attributes(b, b.resources[y.resource_index].attributes));
  EXPECT_EQ(a.scopes[x.scope_index].name, b.scopes[y.scope_index].name);
  EXPECT_EQ(a.scopes[x.scope_index].version, b.scopes[y.scope_index].version);
  EXPECT_EQ(Attributes(a, x.attributes), Attributes(b, y.attributes));
  ASSERT_EQ(x.events.count, y.events.count);
  for (uint32_t e = 0; e < x.events.count; ++e) {
    EXPECT_EQ(a.events[x.events.begin + e].name, b.events[y.events.begin + e].name);
    EXPECT_EQ(a.events[x.events.begin + e].time_unix_nano,
              b.events[y.events.begin + e].time_unix_nano);
  }
}

TEST(ZipkinProtoDecoderTest, FullSpanMapsLikeItsJsonForm) {
  ::zipkin::proto3::ListOfSpans list;
  *list.add_spans() = FullSpan();
  DecodedSpans proto = Decode(Encode(list));
  Result<DecodedSpans> json = DecodeZipkinJson(kFullSpanJson);
  ASSERT_TRUE(json.ok());
  ASSERT_EQ(proto.rejected_spans, 0u) << proto.rejection_message;
  ASSERT_EQ(proto.batch.spans.size(), 1u);
  ASSERT_EQ(json->batch.spans.size(), 1u);
  ExpectSameSpan(proto.batch, json->batch, 0);

  // And the values themselves, so that a mistake shared by both decoders shows too.
  const model::SpanBatch& b = proto.batch;
  const model::Span& s = b.spans[0];
  EXPECT_EQ(s.trace_id.ToHex(), "5af7183fb1d4cf5f4bf92f3577b34da6");
  EXPECT_EQ(s.span_id.ToHex(), "352bff9a74ca9ad2");
  EXPECT_EQ(s.parent_span_id.ToHex(), "6b221d5bc9e6496c");
  EXPECT_EQ(s.kind, model::SpanKind::kClient);
  EXPECT_EQ(s.start_time_unix_nano, 1556604172355737000ULL);
  EXPECT_EQ(s.end_time_unix_nano, 1556604172355737000ULL + 1431000ULL);
  EXPECT_EQ(s.status_code, model::StatusCode::kError);
  EXPECT_EQ(s.status_message, "connection reset");
  EXPECT_EQ(b.ServiceNameOf(s), "frontend");
  EXPECT_EQ(b.scopes[s.scope_index].name, "zipkin-js");
  EXPECT_EQ(Attributes(b, s.attributes),
            (std::map<std::string, std::string>{{"http.method", "s:GET"},
                                                {"net.host.ip", "s:192.168.99.1"},
                                                {"net.host.port", "i:8080"},
                                                {"peer.service", "s:backend"},
                                                {"net.peer.ip", "s:2001:db8::1"},
                                                {"net.peer.port", "i:9000"}}));
  ASSERT_EQ(s.events.count, 2u);
  EXPECT_EQ(b.events[s.events.begin].name, "wire send");
  EXPECT_EQ(b.events[s.events.begin + 1].time_unix_nano, 1556604172357000000ULL);
}

TEST(ZipkinProtoDecoderTest, KindsSharedSpansAndSixtyFourBitTraceIds) {
  ::zipkin::proto3::ListOfSpans list;
  const ::zipkin::proto3::Span::Kind kinds[] = {
      ::zipkin::proto3::Span::SPAN_KIND_UNSPECIFIED, ::zipkin::proto3::Span::CLIENT,
      ::zipkin::proto3::Span::SERVER, ::zipkin::proto3::Span::PRODUCER,
      ::zipkin::proto3::Span::CONSUMER};
  for (int i = 0; i < 5; ++i) {
    ::zipkin::proto3::Span* s = list.add_spans();
    s->set_trace_id(HexBytes("4bf92f3577b34da6"));  // 64-bit
    s->set_id(HexBytes("00000000000000a" + std::to_string(i)));
    s->set_kind(kinds[i]);
    s->set_timestamp(1700000000000000ULL + static_cast<uint64_t>(i));
    s->mutable_local_endpoint()->set_service_name("svc");
  }
  list.mutable_spans(2)->set_shared(true);
  DecodedSpans out = Decode(Encode(list));
  ASSERT_EQ(out.batch.spans.size(), 5u) << out.rejection_message;
  EXPECT_EQ(out.batch.spans[0].kind, model::SpanKind::kUnspecified);
  EXPECT_EQ(out.batch.spans[1].kind, model::SpanKind::kClient);
  EXPECT_EQ(out.batch.spans[3].kind, model::SpanKind::kProducer);
  EXPECT_EQ(out.batch.spans[4].kind, model::SpanKind::kConsumer);
  EXPECT_EQ(out.batch.spans[0].trace_id.ToHex(), "00000000000000004bf92f3577b34da6");
  // The shared server half: its own id, the shared id as parent, as in JSON.
  const model::Span& shared = out.batch.spans[2];
  EXPECT_EQ(shared.kind, model::SpanKind::kServer);
  EXPECT_EQ(shared.parent_span_id.ToHex(), "00000000000000a2");
  EXPECT_EQ(shared.span_id, SharedServerSpanId(shared.parent_span_id));
  EXPECT_EQ(out.batch.resources.size(), 1u) << "spans of one service share their resource";
}

TEST(ZipkinProtoDecoderTest, BadSpansAreLeftOutWithReasonsAndGoodOnesAreKept) {
  ::zipkin::proto3::ListOfSpans list;
  *list.add_spans() = FullSpan();
  list.add_spans()->set_name("no ids");          // #1
  ::zipkin::proto3::Span* s = list.add_spans();  // #2: 12-byte trace id
  *s = FullSpan();
  s->set_trace_id(std::string(12, '\x01'));
  s = list.add_spans();  // #3: no timestamp
  *s = FullSpan();
  s->clear_timestamp();
  s = list.add_spans();  // #4: a 3-byte ipv4
  *s = FullSpan();
  s->mutable_local_endpoint()->set_ipv4("abc");
  DecodedSpans out = Decode(Encode(list));
  EXPECT_EQ(out.batch.spans.size(), 1u);
  EXPECT_EQ(out.rejected_spans, 4u);
  EXPECT_NE(out.rejection_message.find("span #1: trace_id must be 8 or 16 bytes, got 0"),
            std::string::npos)
      << out.rejection_message;
  EXPECT_NE(out.rejection_message.find("span #2: trace_id must be 8 or 16 bytes, got 12"),
            std::string::npos)
      << out.rejection_message;
  EXPECT_NE(out.rejection_message.find("span #3: timestamp (epoch microseconds) is required"),
            std::string::npos)
      << out.rejection_message;
}

TEST(ZipkinProtoDecoderTest, UnknownFieldsAreSkippedAndATruncatedSpanIsLeftOutAlone) {
  ::zipkin::proto3::ListOfSpans list;
  *list.add_spans() = FullSpan();
  std::string span = list.spans(0).SerializeAsString();
  // Field 99 (varint) and field 100 (fixed32) inside the span, field 7 (bytes) in the list.
  std::string extended = span + Bytes({0x98, 0x06, 0x2a, 0xa5, 0x06, 1, 2, 3, 4});
  std::string body;
  body += '\x0a';
  body += static_cast<char>((extended.size() & 0x7f) | 0x80);
  body += static_cast<char>(extended.size() >> 7);
  body += extended;
  body += Bytes({0x3a, 0x02, 'h', 'i'});
  // A span whose inner length runs past its end: left out, the list goes on.
  body += Bytes({0x0a, 0x03, 0x0a, 0x10, 0x01});
  DecodedSpans out = Decode(body);
  ASSERT_EQ(out.batch.spans.size(), 1u);
  EXPECT_EQ(out.batch.spans[0].name, "get /api/users");
  EXPECT_EQ(out.rejected_spans, 1u);
  EXPECT_NE(out.rejection_message.find("not valid protobuf"), std::string::npos)
      << out.rejection_message;
}

TEST(ZipkinProtoDecoderTest, BodyThatIsNotAListOfSpansFailsAsAWhole) {
  for (const std::string& body :
       {std::string("[{\"traceId\": \"1\"}]"), Bytes({0x0a, 0x05, 0x01}), Bytes({0x0b})}) {
    Result<DecodedSpans> decoded = DecodeZipkinProto3(body);
    ASSERT_FALSE(decoded.ok()) << body;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(decoded.status().message().find("zipkin.proto3.ListOfSpans"), std::string::npos);
  }
  // An empty body is an empty list.
  DecodedSpans empty = Decode("");
  EXPECT_TRUE(empty.batch.spans.empty());
  EXPECT_EQ(empty.rejected_spans, 0u);
}

TEST(ZipkinProtoDecoderTest, InvalidUtf8IsRepairedNotRejected) {
  ::zipkin::proto3::ListOfSpans list;
  *list.add_spans() = FullSpan();
  std::string body = Encode(list);
  // Corrupt one byte of the name "get /api/users" in place (a string field libprotobuf would refuse
  // to write as such).
  const size_t at = body.find("get /api/users");
  ASSERT_NE(at, std::string::npos);
  body[at + 3] = static_cast<char>(0xff);
  DecodedSpans out = Decode(body);
  ASSERT_EQ(out.batch.spans.size(), 1u);
  EXPECT_EQ(out.batch.spans[0].name, "get\xef\xbf\xbd/api/users");
  EXPECT_EQ(out.invalid_utf8_replaced, 1u);
}

}  // namespace
}  // namespace ariadne::receivers::zipkin
