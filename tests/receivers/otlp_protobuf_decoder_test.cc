// The hand-written OTLP protobuf walker against libprotobuf as the oracle.

#include <gtest/gtest.h>

#include <random>

#include "otlp_test_util.h"
#include "receivers/otlp/otlp_codec.h"

namespace ariadne::receivers::otlp {
namespace {

using testing::ExportTraceServiceRequest;

std::shared_ptr<const std::string> Share(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

Result<DecodedRequest> Decode(const std::string& bytes) {
  return DecodeProtobufRequest(Share(bytes));
}

// Wire-format builders for hand-crafted bodies.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>(v | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string Len(int field, const std::string& payload) {
  return Varint(static_cast<uint64_t>(field) << 3 | 2) + Varint(payload.size()) + payload;
}
std::string VarintField(int field, uint64_t v) {
  return Varint(static_cast<uint64_t>(field) << 3) + Varint(v);
}
std::string SpanIds(char trace_byte, char span_byte) {
  return Len(1, std::string(16, trace_byte)) + Len(2, std::string(8, span_byte));
}
// ExportTraceServiceRequest{ResourceSpans{ScopeSpans{spans...}}}
std::string RequestWithSpans(const std::vector<std::string>& spans) {
  std::string scope_spans;
  for (const auto& s : spans) scope_spans += Len(2, s);
  return Len(1, Len(2, scope_spans));
}

TEST(OtlpProtobufDecoderTest, InvalidUtf8IsReplacedAndCounted) {
  const std::string bad = "\xb8\xff";  // two invalid subparts → two U+FFFD
  const std::string fixed = "\xEF\xBF\xBD\xEF\xBF\xBD";
  auto kv = [](const std::string& key, const std::string& value) {
    return Len(1, key) + Len(2, Len(1, value));
  };
  std::string span = SpanIds('\x01', '\x02') + Len(5, "op" + bad) +
                     Len(9, kv("k" + bad, "v" + bad)) + Len(9, kv("arr", "")) +
                     Len(15, Len(2, "msg" + bad));
  // An array value holding a bad string renders as JSON with U+FFFD too.
  span += Len(9, Len(1, "list") + Len(2, Len(5, Len(1, Len(1, "a" + bad)))));
  std::string resource = Len(1, Len(1, kv("service.name", "svc" + bad)));
  std::string body = Len(1, resource + Len(2, Len(1, Len(1, "scope" + bad)) + Len(2, span)));
  auto decoded = Decode(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const model::SpanBatch& batch = decoded->batch;
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.spans[0].name, "op" + fixed);
  EXPECT_EQ(batch.spans[0].status_message, "msg" + fixed);
  EXPECT_EQ(batch.ServiceNameOf(batch.spans[0]), "svc" + fixed);
  EXPECT_EQ(batch.scopes[0].name, "scope" + fixed);
  EXPECT_EQ(batch.attributes[batch.spans[0].attributes.begin].key, "k" + fixed);
  EXPECT_EQ(batch.FindAttribute(batch.spans[0].attributes, "k" + fixed)->str, "v" + fixed);
  EXPECT_EQ(batch.FindAttribute(batch.spans[0].attributes, "list")->str, "[\"a" + fixed + "\"]");
  // op, k, v, msg, svc, scope, a: 7 strings, 2 replacements each.
  EXPECT_EQ(decoded->invalid_utf8_replaced, 14u);

  auto clean = Decode(RequestWithSpans({SpanIds('\x01', '\x02') + Len(5, "caf\xC3\xA9")}));
  ASSERT_TRUE(clean.ok());
  EXPECT_EQ(clean->batch.spans[0].name, "caf\xC3\xA9");
  EXPECT_EQ(clean->invalid_utf8_replaced, 0u);
}

TEST(OtlpProtobufDecoderTest, RealisticRequestMatchesLibprotobufFieldByField) {
  ExportTraceServiceRequest req = testing::RealisticRequest();
  auto decoded = Decode(req.SerializeAsString());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  testing::ExpectMatches(req, *decoded, "realistic");

  // A few fields spelled out, so the test also reads as documentation.
  const model::SpanBatch& batch = decoded->batch;
  ASSERT_EQ(batch.spans.size(), 6u);
  EXPECT_EQ(batch.ServiceNameOf(batch.spans[0]), "backend-flask");
  EXPECT_EQ(batch.spans[0].name, "GET /api/activities/home");
  EXPECT_EQ(batch.spans[0].kind, model::SpanKind::kServer);
  EXPECT_TRUE(batch.spans[0].is_root());
  EXPECT_EQ(batch.spans[1].parent_span_id.ToHex(), "eee19b7ec3c1b170");
  EXPECT_EQ(batch.spans[0].trace_id.ToHex(), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(batch.spans[3].status_code, model::StatusCode::kError);
  EXPECT_EQ(batch.spans[3].status_message, "upstream timed out");
  const model::Value* tags = batch.FindAttribute(batch.spans[0].attributes, "tags");
  ASSERT_NE(tags, nullptr);
  EXPECT_EQ(tags->type, model::ValueType::kArray);
  EXPECT_EQ(tags->str, R"(["a",1,true,{"k":"v"}])");
  const model::Value* raw = batch.FindAttribute(batch.spans[0].attributes, "raw");
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(raw->str, std::string("\x00\xff\x10", 3));
  EXPECT_EQ(batch.FindAttribute(batch.spans[0].attributes, "empty")->type,
            model::ValueType::kEmpty);
  EXPECT_EQ(batch.links[0].flags, 0x301u);
  EXPECT_EQ(batch.scopes[0].name, "opentelemetry.instrumentation.flask");
  EXPECT_EQ(batch.resources[0].schema_url, "https://opentelemetry.io/schemas/1.21.0");
  EXPECT_EQ(decoded->rejected_spans, 0u);
  EXPECT_TRUE(decoded->rejection_message.empty());
}

TEST(OtlpProtobufDecoderTest, RandomRequestsMatchWhatLibprotobufParsed) {
  uint64_t spans = 0, rejected = 0, attributes = 0, with_unknown = 0;
  for (uint64_t seed = 1; seed <= 1500; ++seed) {
    ExportTraceServiceRequest generated = testing::RandomRequest(seed);
    std::string bytes = generated.SerializeAsString();
    ExportTraceServiceRequest parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes)) << "seed " << seed;
    auto decoded = Decode(bytes);
    ASSERT_TRUE(decoded.ok()) << "seed " << seed << ": " << decoded.status().ToString();
    testing::ExpectMatches(parsed, *decoded, "seed " + std::to_string(seed));
    spans += decoded->batch.spans.size();
    rejected += decoded->rejected_spans;
    attributes += decoded->batch.attributes.size();
    ExportTraceServiceRequest known_only = parsed;
    known_only.DiscardUnknownFields();
    with_unknown += known_only.ByteSizeLong() != bytes.size();
    if (::testing::Test::HasFailure()) break;
  }
  // The generator really exercised the interesting paths.
  EXPECT_GT(spans, 5000u);
  EXPECT_GT(rejected, 200u);
  EXPECT_GT(attributes, 20000u);
  EXPECT_GT(with_unknown, 50u);
}

TEST(OtlpProtobufDecoderTest, StringsPointIntoTheRetainedBody) {
  auto body = Share(testing::RealisticRequest().SerializeAsString());
  const char* begin = body->data();
  const char* end = begin + body->size();
  auto decoded = DecodeProtobufRequest(body);
  ASSERT_TRUE(decoded.ok());
  EXPECT_GE(body.use_count(), 2);  // the batch keeps the body alive
  std::string_view name = decoded->batch.spans[0].name;
  EXPECT_TRUE(name.data() >= begin && name.data() + name.size() <= end);
  body.reset();
  EXPECT_EQ(name, "GET /api/activities/home");  // still valid: the arena owns the body
  // Moving the batch keeps the views valid too.
  model::SpanBatch moved = std::move(decoded->batch);
  EXPECT_EQ(moved.spans[0].name, "GET /api/activities/home");
}

TEST(OtlpProtobufDecoderTest, EmptyBodyIsAnEmptyRequest) {
  auto decoded = Decode("");
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->batch.spans.empty());
  EXPECT_EQ(decoded->rejected_spans, 0u);
}

TEST(OtlpProtobufDecoderTest, NullBodyIsInvalidArgument) {
  auto decoded = DecodeProtobufRequest(nullptr);
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
}

TEST(OtlpProtobufDecoderTest, TruncatedBodyAtAnyOffsetNeverCrashesAndAgreesWithLibprotobuf) {
  std::string bytes = testing::RealisticRequest().SerializeAsString();
  int accepted = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::string prefix = bytes.substr(0, n);
    ExportTraceServiceRequest oracle;
    bool oracle_ok = oracle.ParseFromString(prefix);
    auto decoded = Decode(prefix);
    ASSERT_EQ(decoded.ok(), oracle_ok)
        << "prefix of " << n << " bytes: " << decoded.status().ToString();
    if (decoded.ok()) {
      ++accepted;
      testing::ExpectMatches(oracle, *decoded, "prefix " + std::to_string(n));
      testing::ExpectStructurallySound(decoded->batch);
    } else {
      EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(decoded.status().message().find("byte offset"), std::string_view::npos);
    }
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GE(accepted, 2);  // the empty prefix and the boundary after the first ResourceSpans
}

TEST(OtlpProtobufDecoderTest, GarbledBodiesNeverCrash) {
  std::mt19937_64 rng(7);
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    std::string bytes = testing::RandomRequest(seed).SerializeAsString();
    if (bytes.empty()) continue;
    for (int round = 0; round < 20; ++round) {
      std::string garbled = bytes;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) garbled[rng() % garbled.size()] = static_cast<char>(rng());
      auto decoded = Decode(garbled);
      if (decoded.ok()) {
        testing::ExpectStructurallySound(decoded->batch);
      } else {
        EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
      }
    }
  }
}

TEST(OtlpProtobufDecoderTest, VarintLongerThanTenBytesIsRejectedWithOffset) {
  std::string body = Len(1, "") + std::string(11, '\x80') + "\x01";
  auto decoded = Decode(body);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("at byte offset 2"), std::string_view::npos)
      << decoded.status().message();
  EXPECT_NE(decoded.status().message().find("longer than 10 bytes"), std::string_view::npos);
}

TEST(OtlpProtobufDecoderTest, VarintCutOffByTheEndOfTheBodyIsRejected) {
  auto decoded = Decode("\x0a\x80");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("at byte offset 1"), std::string_view::npos)
      << decoded.status().message();
}

TEST(OtlpProtobufDecoderTest, LengthPastTheEnclosingMessageIsRejected) {
  // ResourceSpans claims 5 bytes but 1 follows.
  auto decoded = Decode(std::string("\x0a\x05\x00", 3));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("declares 5 bytes but only 1 remain"),
            std::string_view::npos)
      << decoded.status().message();
  // A nested length that fits the body but not its parent message.
  std::string nested = Len(1, "\x12\x10" + std::string(3, 'x')) + std::string(20, '\x00');
  auto decoded2 = Decode(nested);
  ASSERT_FALSE(decoded2.ok());
  EXPECT_NE(decoded2.status().message().find("field 2 of ResourceSpans declares 16 bytes"),
            std::string_view::npos)
      << decoded2.status().message();
  // A huge length must not wrap around.
  auto decoded3 = Decode("\x0a" + Varint(~0ull));
  EXPECT_FALSE(decoded3.ok());
}

TEST(OtlpProtobufDecoderTest, GroupWireTypesAreRejected) {
  std::string start_group = Varint(7 << 3 | 3) + Varint(7 << 3 | 4);
  auto decoded = Decode(RequestWithSpans({SpanIds(1, 2) + start_group}));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("group"), std::string_view::npos);
  auto end_group = Decode(Varint(9 << 3 | 4));
  EXPECT_FALSE(end_group.ok());
}

TEST(OtlpProtobufDecoderTest, InvalidWireTypesAndFieldNumberZeroAreRejected) {
  EXPECT_FALSE(Decode(Varint(1 << 3 | 6)).ok());
  EXPECT_FALSE(Decode(Varint(1 << 3 | 7)).ok());
  EXPECT_FALSE(Decode(Varint(0 << 3 | 0) + Varint(1)).ok());
  // Truncated fixed-width values.
  EXPECT_FALSE(Decode(RequestWithSpans({SpanIds(1, 2) + Varint(7 << 3 | 1) + "1234"})).ok());
  EXPECT_FALSE(Decode(RequestWithSpans({SpanIds(1, 2) + Varint(16 << 3 | 5) + "12"})).ok());
}

TEST(OtlpProtobufDecoderTest, UnknownFieldsOfEveryWireTypeAreSkipped) {
  std::string unknown = VarintField(200, 123456789) + Varint(201 << 3 | 1) + "12345678" +
                        Varint(202 << 3 | 5) + "1234" + Len(203, "whatever");
  std::string span = unknown + SpanIds(1, 2) + unknown + Len(5, "named") + unknown;
  std::string body = unknown + Len(1, unknown + Len(2, unknown + Len(2, span) + unknown)) + unknown;
  auto decoded = Decode(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->batch.spans.size(), 1u);
  EXPECT_EQ(decoded->batch.spans[0].name, "named");
}

TEST(OtlpProtobufDecoderTest, InvalidIdsRejectOnlyThatSpanAndNeighboursSurvive) {
  std::vector<std::string> spans = {
      SpanIds(1, 1) + Len(5, "first ok"),
      Len(1, std::string(15, 1)) + Len(2, std::string(8, 1)) +
          Len(9, Len(1, "k")),                                 // 15-byte trace
      Len(1, std::string(16, 0)) + Len(2, std::string(8, 1)),  // zero trace
      Len(1, std::string(16, 1)) + Len(2, std::string(7, 1)),  // 7-byte span
      Len(1, std::string(16, 1)) + Len(2, std::string(8, 0)),  // zero span
      SpanIds(1, 1) + Len(4, std::string(4, 9)),               // 4-byte parent
      SpanIds(2, 2) + Len(4, std::string(8, 0)) + Len(5, "zero parent is root"),
      Len(2, std::string(8, 3)) + Len(5, "no trace id"),
      SpanIds(3, 3) + Len(5, "last ok"),
  };
  auto decoded = Decode(RequestWithSpans(spans));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const model::SpanBatch& batch = decoded->batch;
  ASSERT_EQ(batch.spans.size(), 3u);
  EXPECT_EQ(batch.spans[0].name, "first ok");
  EXPECT_EQ(batch.spans[1].name, "zero parent is root");
  EXPECT_TRUE(batch.spans[1].is_root());
  EXPECT_EQ(batch.spans[2].name, "last ok");
  EXPECT_EQ(decoded->rejected_spans, 6u);
  const std::string& msg = decoded->rejection_message;
  EXPECT_NE(msg.find("6 spans rejected"), std::string::npos) << msg;
  EXPECT_NE(msg.find("span #1: trace id must be 16 bytes, got 15"), std::string::npos) << msg;
  EXPECT_NE(msg.find("span #2: trace id is all zeros"), std::string::npos) << msg;
  EXPECT_NE(msg.find("span #3: span id must be 8 bytes, got 7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("and 3 more"), std::string::npos) << msg;
  // The rejected span's attribute did not stay behind.
  EXPECT_TRUE(batch.attributes.empty());
}

TEST(OtlpProtobufDecoderTest, RejectedSpanLeavesNoAttributesEventsOrLinksBehind) {
  std::string event = Len(11, Len(2, "ev") + Len(3, Len(1, "ek")));
  std::string link =
      Len(13, Len(1, std::string(16, 5)) + Len(2, std::string(8, 5)) + Len(4, Len(1, "lk")));
  std::string bad = Len(9, Len(1, "a")) + event + link + Len(2, std::string(8, 1));  // no trace id
  std::string good = SpanIds(1, 1) + Len(9, Len(1, "good")) + event + link;
  auto decoded = Decode(RequestWithSpans({bad, good}));
  ASSERT_TRUE(decoded.ok());
  const model::SpanBatch& batch = decoded->batch;
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.links.size(), 1u);
  EXPECT_EQ(batch.attributes.size(), 3u);  // good, ek, lk
  EXPECT_EQ(batch.attributes[batch.spans[0].attributes.begin].key, "good");
}

TEST(OtlpProtobufDecoderTest, SpanWithoutResourceOrScopeGetsEmptyOnes) {
  auto decoded = Decode(RequestWithSpans({SpanIds(1, 2)}));
  ASSERT_TRUE(decoded.ok());
  const model::SpanBatch& batch = decoded->batch;
  ASSERT_EQ(batch.spans.size(), 1u);
  ASSERT_EQ(batch.resources.size(), 1u);
  ASSERT_EQ(batch.scopes.size(), 1u);
  EXPECT_EQ(batch.resources[0].attributes.count, 0u);
  EXPECT_EQ(batch.scopes[0].name, "");
  EXPECT_EQ(batch.ServiceNameOf(batch.spans[0]), "");
}

TEST(OtlpProtobufDecoderTest, SpanAttributesInterleavedWithEventsStayContiguous) {
  std::string span =
      SpanIds(1, 2) + Len(9, Len(1, "a1")) + Len(11, Len(2, "ev") + Len(3, Len(1, "e1"))) +
      Len(9, Len(1, "a2")) +
      Len(13, Len(1, std::string(16, 7)) + Len(2, std::string(8, 7)) + Len(4, Len(1, "l1"))) +
      Len(9, Len(1, "a3"));
  ExportTraceServiceRequest oracle;
  std::string body = RequestWithSpans({span});
  ASSERT_TRUE(oracle.ParseFromString(body));
  auto decoded = Decode(body);
  ASSERT_TRUE(decoded.ok());
  testing::ExpectMatches(oracle, *decoded, "interleaved");
  const model::SpanBatch& batch = decoded->batch;
  model::Range r = batch.spans[0].attributes;
  ASSERT_EQ(r.count, 3u);
  EXPECT_EQ(batch.attributes[r.begin].key, "a1");
  EXPECT_EQ(batch.attributes[r.begin + 2].key, "a3");
}

TEST(OtlpProtobufDecoderTest, ResourceAfterScopeSpansAndRepeatedMessagesMergeLikeLibprotobuf) {
  std::string resource1 = Len(1, Len(1, "service.name") + Len(2, Len(1, "svc")));
  std::string resource2 = Len(1, Len(1, "host") + Len(2, Len(1, "h1"))) + VarintField(2, 4);
  std::string scope_spans = Len(
      2, SpanIds(1, 2) + Len(15, Len(2, "m1") + VarintField(3, 2)) + Len(15, VarintField(3, 1)));
  // ResourceSpans: scope_spans first, then the resource in two pieces, schema url twice.
  std::string rs =
      Len(2, scope_spans) + Len(1, resource1) + Len(3, "u1") + Len(1, resource2) + Len(3, "u2");
  std::string body = Len(1, rs);
  ExportTraceServiceRequest oracle;
  ASSERT_TRUE(oracle.ParseFromString(body));
  auto decoded = Decode(body);
  ASSERT_TRUE(decoded.ok());
  testing::ExpectMatches(oracle, *decoded, "merge");
  EXPECT_EQ(decoded->batch.ServiceNameOf(decoded->batch.spans[0]), "svc");
  EXPECT_EQ(decoded->batch.resources[0].schema_url, "u2");
  EXPECT_EQ(decoded->batch.spans[0].status_code, model::StatusCode::kOk);
  EXPECT_EQ(decoded->batch.spans[0].status_message, "m1");
}

TEST(OtlpProtobufDecoderTest, OneofTakesTheLastVariantAndConsecutiveArraysConcatenate) {
  auto any = [](const std::string& fields) { return Len(2, fields); };  // KeyValue.value
  std::string arr1 = Len(5, Len(1, VarintField(3, 1)));
  std::string arr2 = Len(5, Len(1, VarintField(3, 2)));
  std::vector<std::string> attributes = {
      Len(1, "last-wins") + any(Len(1, "s") + VarintField(2, 1)),
      Len(1, "arrays-merge") + any(arr1 + arr2),
      Len(1, "string-resets-array") + any(arr1 + Len(1, "s") + arr2),
      Len(1, "strindex-is-absent") + any(Len(1, "s") + VarintField(8, 3)),
  };
  std::string span = SpanIds(1, 2);
  for (const auto& a : attributes) span += Len(9, a);
  std::string body = RequestWithSpans({span});
  ExportTraceServiceRequest oracle;
  ASSERT_TRUE(oracle.ParseFromString(body));
  auto decoded = Decode(body);
  ASSERT_TRUE(decoded.ok());
  testing::ExpectMatches(oracle, *decoded, "oneof");
  const model::SpanBatch& batch = decoded->batch;
  EXPECT_EQ(batch.attributes[0].value.type, model::ValueType::kBool);
  EXPECT_EQ(batch.attributes[1].value.str, "[1,2]");
  EXPECT_EQ(batch.attributes[2].value.str, "[2]");
  EXPECT_EQ(batch.attributes[3].value.type, model::ValueType::kEmpty);
}

TEST(OtlpProtobufDecoderTest, KnownFieldWithWrongWireTypeIsSkippedLikeLibprotobuf) {
  std::string span = SpanIds(1, 2) + Len(5, "real name") + VarintField(5, 9) +  // name as varint
                     Len(7, "12345678");                                        // start as LEN
  auto decoded = Decode(RequestWithSpans({span}));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->batch.spans[0].name, "real name");
  EXPECT_EQ(decoded->batch.spans[0].start_time_unix_nano, 0u);
}

TEST(OtlpProtobufDecoderTest, LinkWithBadIdsIsDroppedAndCounted) {
  std::string good_link = Len(13, Len(1, std::string(16, 4)) + Len(2, std::string(8, 4)));
  std::string bad_link =
      Len(13, Len(1, std::string(3, 4)) + Len(2, std::string(8, 4)) + Len(4, Len(1, "gone")));
  std::string span = SpanIds(1, 2) + bad_link + VarintField(14, 10) + good_link;
  auto decoded = Decode(RequestWithSpans({span}));
  ASSERT_TRUE(decoded.ok());
  const model::SpanBatch& batch = decoded->batch;
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.spans[0].links.count, 1u);
  EXPECT_EQ(batch.spans[0].dropped_links_count, 11u);
  EXPECT_TRUE(batch.attributes.empty());
  EXPECT_EQ(decoded->rejected_spans, 0u);
}

TEST(OtlpProtobufDecoderTest, ArraysAndKvListsRenderAsCompactJson) {
  testing::AnyValue v;
  auto* arr = v.mutable_array_value();
  arr->add_values()->set_string_value("q\"uote\\ \n\x01 \xc3\xa9");
  arr->add_values()->set_int_value(-5);
  arr->add_values()->set_double_value(1.5);
  arr->add_values()->set_double_value(std::numeric_limits<double>::infinity());
  arr->add_values()->set_bytes_value("hi!");
  arr->add_values();  // empty
  auto* inner = arr->add_values()->mutable_array_value();
  inner->add_values()->set_bool_value(false);
  auto* kv = arr->add_values()->mutable_kvlist_value()->add_values();
  kv->set_key("n");
  kv->mutable_value()->mutable_kvlist_value();
  ExportTraceServiceRequest req;
  auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, 1));
  span->set_span_id(std::string(8, 1));
  auto* attr = span->add_attributes();
  attr->set_key("a");
  *attr->mutable_value() = v;
  auto decoded = Decode(req.SerializeAsString());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->batch.attributes[0].value.str,
            R"(["q\"uote\\ \n\u0001 é",-5,1.5,"Infinity","aGkh",null,[false],{"n":{}}])");
}

TEST(OtlpProtobufDecoderTest, NestingDeeperThanTheLimitIsRejected) {
  std::string value = VarintField(3, 1);  // AnyValue{int_value: 1}
  for (int i = 0; i < 100; ++i) value = Len(5, Len(1, value));
  std::string span = SpanIds(1, 2) + Len(9, Len(1, "deep") + Len(2, value));
  auto decoded = Decode(RequestWithSpans({span}));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("nest deeper"), std::string_view::npos);
  // 60 levels are fine.
  std::string ok_value = VarintField(3, 1);
  for (int i = 0; i < 60; ++i) ok_value = Len(5, Len(1, ok_value));
  EXPECT_TRUE(
      Decode(RequestWithSpans({SpanIds(1, 2) + Len(9, Len(1, "d") + Len(2, ok_value))})).ok());
}

TEST(OtlpProtobufDecoderTest, UnknownEnumValuesMapToUnspecifiedAndUnset) {
  std::string span = SpanIds(1, 2) + VarintField(6, 17) + Len(15, VarintField(3, 9));
  auto decoded = Decode(RequestWithSpans({span}));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->batch.spans[0].kind, model::SpanKind::kUnspecified);
  EXPECT_EQ(decoded->batch.spans[0].status_code, model::StatusCode::kUnset);
}

}  // namespace
}  // namespace ariadne::receivers::otlp
