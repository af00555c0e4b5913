// The OTLP/JSON decoder: the protocols.md example, libprotobuf's JSON of random requests patched to
// OTLP rules (compared with the request libprotobuf parsed), leniencies, and malformed bodies.

#include <gtest/gtest.h>

#include <cmath>

#include "otlp_test_util.h"
#include "receivers/otlp/otlp_codec.h"

namespace ariadne::receivers::otlp {
namespace {

using testing::ExportTraceServiceRequest;

std::string OneSpan(const std::string& span_fields, const std::string& resource = "") {
  return R"({"resourceSpans":[{)" + resource + R"("scopeSpans":[{"spans":[{)" + span_fields +
         "}]}]}]}";
}
constexpr const char* kIds =
    R"("traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174")";

TEST(OtlpJsonDecoderTest, InvalidUtf8BodiesAreRepairedAndCounted) {
  const std::string fixed = "\xEF\xBF\xBD";
  auto body = [](const std::string& service, const std::string& name) {
    return R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":)"
           "{\"stringValue\":\"" +
           service + "\"}}]},\"scopeSpans\":[{\"spans\":[{" +
           R"("traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708",)"
           "\"name\":\"" +
           name + R"(","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]})";
  };
  auto decoded = DecodeJsonRequest(body("svc\xb8", "op\xC0\xAFx"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const model::SpanBatch& batch = decoded->batch;
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.ServiceNameOf(batch.spans[0]), "svc" + fixed);
  EXPECT_EQ(batch.spans[0].name, "op" + fixed + fixed + "x");  // overlong C0 AF: two subparts
  EXPECT_EQ(decoded->invalid_utf8_replaced, 3u);

  // A \u escape of a lone surrogate is not JSON simdjson accepts: the request is refused (400),
  // so nothing invalid is stored either way.
  auto surrogate = DecodeJsonRequest(body("svc", "op\\udc00"));
  ASSERT_FALSE(surrogate.ok());
  EXPECT_NE(surrogate.status().message().find("Span.name"), std::string::npos);
}

TEST(OtlpJsonDecoderTest, DecodesTheProtocolsDocExample) {
  const std::string body =
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name",
      "value":{"stringValue":"svc"}}]},"scopeSpans":[{"scope":{"name":"lib","version":"1.0.0"},"spans":[{"traceId":
      "5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"EEE19B7EC3C1B173","name":"x",
      "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000","kind":2}]}]}]})";
  auto decoded = DecodeJsonRequest(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const model::SpanBatch& batch = decoded->batch;
  ASSERT_EQ(batch.spans.size(), 1u);
  const model::Span& span = batch.spans[0];
  EXPECT_EQ(span.trace_id.ToHex(), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(span.span_id.ToHex(), "eee19b7ec3c1b174");
  EXPECT_EQ(span.parent_span_id.ToHex(), "eee19b7ec3c1b173");
  EXPECT_EQ(span.name, "x");
  EXPECT_EQ(span.kind, model::SpanKind::kServer);
  EXPECT_EQ(span.start_time_unix_nano, 1544712660000000000ull);
  EXPECT_EQ(span.duration_nano(), 1000000000ull);
  EXPECT_EQ(batch.ServiceNameOf(span), "svc");
  EXPECT_EQ(batch.scopes[0].name, "lib");
  EXPECT_EQ(batch.scopes[0].version, "1.0.0");
  EXPECT_EQ(decoded->rejected_spans, 0u);
}

TEST(OtlpJsonDecoderTest, RealisticRequestAsOtlpJsonMatchesFieldByField) {
  ExportTraceServiceRequest req = testing::RealisticRequest();
  for (bool upper : {false, true}) {
    auto decoded = DecodeJsonRequest(testing::ToOtlpJson(req, /*enum_names=*/false, upper));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    testing::ExpectMatches(req, *decoded, upper ? "upper-case ids" : "lower-case ids");
  }
}

TEST(OtlpJsonDecoderTest, RandomRequestsAsOtlpJsonMatchWhatLibprotobufParsed) {
  for (uint64_t seed = 1; seed <= 800; ++seed) {
    ExportTraceServiceRequest parsed;
    ASSERT_TRUE(parsed.ParseFromString(testing::RandomRequest(seed).SerializeAsString()));
    std::string json = testing::ToOtlpJson(parsed, /*enum_names=*/seed % 3 == 0, seed % 2 == 0);
    auto decoded = DecodeJsonRequest(json);
    ASSERT_TRUE(decoded.ok()) << "seed " << seed << ": " << decoded.status().ToString() << "\n"
                              << json;
    testing::ExpectMatches(parsed, *decoded, "seed " + std::to_string(seed));
    // And the same spans as the protobuf walker produced from the binary form.
    auto binary =
        DecodeProtobufRequest(std::make_shared<const std::string>(parsed.SerializeAsString()));
    ASSERT_TRUE(binary.ok());
    ASSERT_EQ(binary->batch.spans.size(), decoded->batch.spans.size());
    EXPECT_EQ(binary->rejected_spans, decoded->rejected_spans);
    for (size_t i = 0; i < decoded->batch.spans.size(); ++i) {
      const model::Span& a = binary->batch.spans[i];
      const model::Span& b = decoded->batch.spans[i];
      EXPECT_EQ(a.trace_id, b.trace_id);
      EXPECT_EQ(a.name, b.name);
      ASSERT_EQ(a.attributes.count, b.attributes.count);
      for (uint32_t k = 0; k < a.attributes.count; ++k) {
        EXPECT_EQ(binary->batch.attributes[a.attributes.begin + k].value,
                  decoded->batch.attributes[b.attributes.begin + k].value)
            << "seed " << seed;
      }
    }
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(OtlpJsonDecoderTest, HexIdsAreCaseInsensitiveAndBase64IdsAreAcceptedAsLeniency) {
  auto hex = DecodeJsonRequest(
      OneSpan(R"("traceId":"5B8EFFF798038103d269b633813fc60c","spanId":"EEE19b7ec3c1B174")"));
  ASSERT_TRUE(hex.ok());
  ASSERT_EQ(hex->batch.spans.size(), 1u);
  EXPECT_EQ(hex->batch.spans[0].span_id.ToHex(), "eee19b7ec3c1b174");
  // Base64 of the same ids (what a generic proto3 JSON printer emits).
  auto b64 = DecodeJsonRequest(
      OneSpan(R"("traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","parentSpanId":"")"));
  ASSERT_TRUE(b64.ok()) << b64.status().ToString();
  ASSERT_EQ(b64->batch.spans.size(), 1u) << b64->rejection_message;
  EXPECT_EQ(b64->batch.spans[0].trace_id.ToHex(), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(b64->batch.spans[0].span_id.ToHex(), "eee19b7ec3c1b174");
  EXPECT_TRUE(b64->batch.spans[0].is_root());
}

TEST(OtlpJsonDecoderTest, InvalidIdsRejectOnlyThatSpan) {
  const std::string body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ok1"},
    {"traceId":"zz8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"not hex",
     "attributes":[{"key":"k","value":{"intValue":1}}]},
    {"traceId":"00000000000000000000000000000000","spanId":"eee19b7ec3c1b174"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"abcd"},
    {"spanId":"eee19b7ec3c1b174"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"ok2",
     "parentSpanId":"0000000000000000"}
  ]}]}]})";
  auto decoded = DecodeJsonRequest(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->batch.spans.size(), 2u);
  EXPECT_EQ(decoded->batch.spans[0].name, "ok1");
  EXPECT_EQ(decoded->batch.spans[1].name, "ok2");
  EXPECT_TRUE(decoded->batch.spans[1].is_root());
  EXPECT_EQ(decoded->rejected_spans, 5u);
  EXPECT_TRUE(decoded->batch.attributes.empty());
  const std::string& msg = decoded->rejection_message;
  EXPECT_NE(msg.find("span #1: trace id \"zz8efff798038103d269b633813fc60c\" is neither hex nor "
                     "base64"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("span #2: trace id is all zeros"), std::string::npos) << msg;
}

TEST(OtlpJsonDecoderTest, IntegersAsStringsOrNumbersAndEnumsAsNamesOrInts) {
  auto decoded = DecodeJsonRequest(OneSpan(std::string(kIds) + R"(,
      "startTimeUnixNano":1544712660000000000,"endTimeUnixNano":"1544712661000000000",
      "kind":"SPAN_KIND_CLIENT","status":{"code":"STATUS_CODE_ERROR","message":"bad"},
      "flags":257,"droppedAttributesCount":"3",
      "attributes":[{"key":"a","value":{"intValue":-42}},{"key":"b","value":{"intValue":"-9223372036854775808"}},
                    {"key":"c","value":{"intValue":1e3}}])"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const model::SpanBatch& batch = decoded->batch;
  const model::Span& span = batch.spans[0];
  EXPECT_EQ(span.start_time_unix_nano, 1544712660000000000ull);
  EXPECT_EQ(span.end_time_unix_nano, 1544712661000000000ull);
  EXPECT_EQ(span.kind, model::SpanKind::kClient);
  EXPECT_EQ(span.status_code, model::StatusCode::kError);
  EXPECT_EQ(span.status_message, "bad");
  EXPECT_EQ(span.flags, 257u);
  EXPECT_EQ(span.dropped_attributes_count, 3u);
  EXPECT_EQ(batch.attributes[0].value.int_value, -42);
  EXPECT_EQ(batch.attributes[1].value.int_value, INT64_MIN);
  EXPECT_EQ(batch.attributes[2].value.int_value, 1000);
}

TEST(OtlpJsonDecoderTest, SpecialDoublesBytesAndCompositeValues) {
  auto decoded = DecodeJsonRequest(OneSpan(std::string(kIds) + R"(,"attributes":[
      {"key":"nan","value":{"doubleValue":"NaN"}},
      {"key":"inf","value":{"doubleValue":"Infinity"}},
      {"key":"ninf","value":{"doubleValue":"-Infinity"}},
      {"key":"d","value":{"doubleValue":2.5}},
      {"key":"bytes","value":{"bytesValue":"aGkh"}},
      {"key":"arr","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"},{"boolValue":true},
          {"arrayValue":{"values":[{"doubleValue":"NaN"}]}},{},{"kvlistValue":{"values":[{"value":{"stringValue":"v"},"key":"k"}]}}]}}},
      {"key":"kv","value":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}},{"key":"e"}]}}},
      {"key":"empty","value":{}},
      {"key":"novalue"},
      {"key":"esc","value":{"stringValue":"\u00e9\n\"\\"}}])"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const auto& a = decoded->batch.attributes;
  ASSERT_EQ(a.size(), 10u);
  EXPECT_TRUE(std::isnan(a[0].value.double_value));
  EXPECT_EQ(a[1].value.double_value, INFINITY);
  EXPECT_EQ(a[2].value.double_value, -INFINITY);
  EXPECT_EQ(a[3].value.double_value, 2.5);
  EXPECT_EQ(a[4].value.type, model::ValueType::kBytes);
  EXPECT_EQ(a[4].value.str, "hi!");
  EXPECT_EQ(a[5].value.type, model::ValueType::kArray);
  EXPECT_EQ(a[5].value.str, R"(["a",1,true,["NaN"],null,{"k":"v"}])");
  EXPECT_EQ(a[6].value.type, model::ValueType::kKvList);
  EXPECT_EQ(a[6].value.str, R"({"k":"v","e":null})");
  EXPECT_EQ(a[7].value.type, model::ValueType::kEmpty);
  EXPECT_EQ(a[8].value.type, model::ValueType::kEmpty);
  EXPECT_EQ(a[9].value.str, "\xc3\xa9\n\"\\");
}

TEST(OtlpJsonDecoderTest, UnknownFieldsAndNullsAreIgnored) {
  auto decoded = DecodeJsonRequest(R"({"extra":{"deep":[1,{"x":null}]},"resourceSpans":[{
      "resource":{"attributes":null,"novel":true},"scopeSpans":[{"scope":null,"spans":[{
      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
      "futureField":{"a":[1,2,3]},"name":null,"events":[{"name":"e","timeUnixNano":"5","zzz":1}],
      "links":null,"status":null}],"more":"x"}]}],"trailer":123})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->batch.spans.size(), 1u);
  EXPECT_EQ(decoded->batch.spans[0].name, "");
  EXPECT_EQ(decoded->batch.events[0].name, "e");
  EXPECT_EQ(decoded->batch.events[0].time_unix_nano, 5u);
}

TEST(OtlpJsonDecoderTest, SnakeCaseKeysAndOldInstrumentationLibrarySpansAreAccepted) {
  auto decoded = DecodeJsonRequest(R"({"resource_spans":[{"instrumentationLibrarySpans":[{
      "instrumentationLibrary":{"name":"old"},"spans":[{"trace_id":"5b8efff798038103d269b633813fc60c",
      "span_id":"eee19b7ec3c1b174","start_time_unix_nano":"7"}]}]}]})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->batch.spans.size(), 1u);
  EXPECT_EQ(decoded->batch.scopes[0].name, "old");
  EXPECT_EQ(decoded->batch.spans[0].start_time_unix_nano, 7u);
}

TEST(OtlpJsonDecoderTest, ResourceAfterScopeSpansStillApplies) {
  auto decoded =
      DecodeJsonRequest(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{)" + std::string(kIds) +
                        R"(}],"scope":{"name":"late"}}],"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"late-svc"}}]}}]})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->batch.ServiceNameOf(decoded->batch.spans[0]), "late-svc");
  EXPECT_EQ(decoded->batch.scopes[decoded->batch.spans[0].scope_index].name, "late");
}

TEST(OtlpJsonDecoderTest, EmptyRequestsDecodeToNoSpans) {
  for (const char* body : {"{}", R"({"resourceSpans":[]})", R"({"resourceSpans":null})", " {} "}) {
    auto decoded = DecodeJsonRequest(body);
    ASSERT_TRUE(decoded.ok()) << body << ": " << decoded.status().ToString();
    EXPECT_TRUE(decoded->batch.spans.empty());
  }
}

TEST(OtlpJsonDecoderTest, MalformedBodiesAreInvalidArgumentWithALocation) {
  const char* cases[] = {
      "",
      "[]",
      "not json",
      R"({"resourceSpans":{}})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":5}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"12x"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":-1}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"flags":"99999999999"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"b","value":{"bytesValue":"!!"}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"d","value":{"doubleValue":"fast"}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"b","value":{"boolValue":"yes"}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x"}]}]}]} trailing)",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x"]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"unterminated}]}]}]})",
  };
  for (const char* body : cases) {
    auto decoded = DecodeJsonRequest(body);
    ASSERT_FALSE(decoded.ok()) << "accepted: " << body;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_NE(decoded.status().message().find("OTLP/JSON"), std::string_view::npos);
  }
  auto typed = DecodeJsonRequest(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":5}]}]}]})");
  EXPECT_NE(typed.status().message().find("byte offset"), std::string_view::npos)
      << typed.status().message();
  EXPECT_NE(typed.status().message().find("Span.name"), std::string_view::npos)
      << typed.status().message();
}

TEST(OtlpJsonDecoderTest, TruncatedBodyAtAnyOffsetNeverCrashes) {
  std::string json = testing::ToOtlpJson(testing::RealisticRequest());
  for (size_t n = 0; n < json.size(); ++n) {
    auto decoded = DecodeJsonRequest(std::string_view(json).substr(0, n));
    if (decoded.ok()) {
      testing::ExpectStructurallySound(decoded->batch);
    } else {
      EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    }
  }
  auto full = DecodeJsonRequest(json);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->batch.spans.size(), 6u);
}

TEST(OtlpJsonDecoderTest, NestingDeeperThanTheLimitIsRejected) {
  std::string value = R"({"intValue":"1"})";
  for (int i = 0; i < 100; ++i) value = R"({"arrayValue":{"values":[)" + value + "]}}";
  auto decoded = DecodeJsonRequest(
      OneSpan(std::string(kIds) + R"(,"attributes":[{"key":"deep","value":)" + value + "}]"));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("nest"), std::string_view::npos)
      << decoded.status().message();
}

TEST(OtlpJsonDecoderTest, LinkWithBadIdsIsDroppedAndCounted) {
  auto decoded = DecodeJsonRequest(OneSpan(std::string(kIds) + R"(,"droppedLinksCount":2,"links":[
      {"traceId":"xyz","spanId":"eee19b7ec3c1b174","attributes":[{"key":"gone"}]},
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b170","flags":1}])"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const model::Span& span = decoded->batch.spans[0];
  EXPECT_EQ(span.links.count, 1u);
  EXPECT_EQ(span.dropped_links_count, 3u);
  EXPECT_EQ(decoded->batch.links[span.links.begin].span_id.ToHex(), "eee19b7ec3c1b170");
  EXPECT_TRUE(decoded->batch.attributes.empty());
}

}  // namespace
}  // namespace ariadne::receivers::otlp
