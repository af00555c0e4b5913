// The X-Ray segment decoder against docs/xray-mapping.md, one test per mapping row.
#include "receivers/xray/segment_decoder.h"

#include <string>

#include <gtest/gtest.h>

#include "model/xray_attributes.h"

namespace ariadne::receivers::xray {
namespace {

namespace attr = model::xray;

model::SpanBatch Decode(const std::string& doc) {
  model::SpanBatch batch;
  auto result = DecodeSegmentDocument(doc, &batch);
  EXPECT_TRUE(result.ok()) << result.status().ToString() << "\n" << doc;
  return batch;
}

const model::Value* SpanAttr(const model::SpanBatch& b, size_t span, std::string_view key) {
  return b.FindAttribute(b.spans[span].attributes, key);
}
std::string SpanStr(const model::SpanBatch& b, size_t span, std::string_view key) {
  const model::Value* v = SpanAttr(b, span, key);
  return v ? std::string(v->str) : "<absent>";
}
std::string ResStr(const model::SpanBatch& b, size_t span, std::string_view key) {
  const model::Value* v =
      b.FindAttribute(b.resources[b.spans[span].resource_index].attributes, key);
  return v ? std::string(v->str) : "<absent>";
}

constexpr char kTrace[] = "1-5759e988-bd862e3fe1be46a994272793";

TEST(XraySegmentDecoderTest, InvalidUtf8IsRepairedAndCountedNotRejected) {
  const std::string fixed = "\xEF\xBF\xBD";
  const std::string doc =
      "{\"name\":\"svc\xb8\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" + std::string(kTrace) +
      "\",\"start_time\":1,\"end_time\":2,\"annotations\":{\"k\":\"v\xC0\xAF\"}}";
  model::SpanBatch batch;
  uint64_t replaced = 0;
  auto result = DecodeSegmentDocument(doc, &batch, DecodeLimits{}, nullptr, &replaced);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.ServiceNameOf(batch.spans[0]), "svc" + fixed);
  EXPECT_EQ(SpanStr(batch, 0, "annotation.k"), "v" + fixed + fixed);
  EXPECT_EQ(replaced, 3u);  // 0xB8, then the two subparts of the overlong C0 AF
  // A \u escape of a lone surrogate is not JSON simdjson accepts: the document is refused.
  model::SpanBatch refused;
  EXPECT_FALSE(DecodeSegmentDocument(R"({"name":"a\udc00","id":"70de5b6f19ff9a0a","trace_id":")" +
                                         std::string(kTrace) + R"(","start_time":1,"end_time":2})",
                                     &refused)
                   .ok());
}

TEST(XraySegmentDecoderTest, DeeplyNestedDocumentsAreRefusedNotAStackOverflow) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  model::SpanBatch batch;
  EXPECT_FALSE(DecodeSegmentDocument(R"({"name":"a","metadata":{"x":)" + deep + "}}", &batch).ok());
  // Subsegments inside subsegments: past simdjson's depth (5,000) and past the decoder's own
  // limit of 64 (300, which simdjson accepts).
  for (int levels : {5000, 300}) {
    std::string doc = R"({"name":"a","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                      R"(","start_time":1,"end_time":2,"subsegments":[)";
    for (int i = 0; i < levels; ++i) {
      doc += R"({"name":"s","id":"70de5b6f19ff9a0b","start_time":1,"end_time":2,"subsegments":[)";
    }
    for (int i = 0; i < levels; ++i) doc += "]}";
    doc += "]}";
    EXPECT_FALSE(DecodeSegmentDocument(doc, &batch).ok()) << levels;
  }
}

TEST(XraySegmentDecoderTest, SegmentBecomesServerSpanWithServiceNameAndTimes) {
  auto b = Decode(R"({"name":"backend-flask","id":"70de5b6f19ff9a0a","trace_id":")" +
                  std::string(kTrace) +
                  R"(","start_time":1.478293361271E9,"end_time":1478293361.449,
                     "service":{"version":"1.2.3","runtime":"CPython","runtime_version":"3.11"},
                     "user":"alice","origin":"AWS::EC2::Instance"})");
  ASSERT_EQ(b.spans.size(), 1u);
  const model::Span& s = b.spans[0];
  EXPECT_EQ(s.kind, model::SpanKind::kServer);
  EXPECT_EQ(s.name, "backend-flask");
  EXPECT_EQ(s.trace_id.ToHex(), "5759e988bd862e3fe1be46a994272793");
  EXPECT_EQ(s.span_id.ToHex(), "70de5b6f19ff9a0a");
  EXPECT_TRUE(s.parent_span_id.IsZero());
  EXPECT_EQ(s.start_time_unix_nano, 1478293361271000000ull);
  EXPECT_EQ(s.end_time_unix_nano, 1478293361449000000ull);
  EXPECT_EQ(ResStr(b, 0, attr::kServiceName), "backend-flask");
  EXPECT_EQ(ResStr(b, 0, attr::kServiceVersion), "1.2.3");
  EXPECT_EQ(ResStr(b, 0, attr::kProcessRuntimeName), "CPython");
  EXPECT_EQ(ResStr(b, 0, attr::kOrigin), "AWS::EC2::Instance");
  EXPECT_EQ(ResStr(b, 0, attr::kCloudPlatform), "aws_ec2");
  EXPECT_EQ(SpanStr(b, 0, attr::kUser), "alice");
  EXPECT_EQ(SpanStr(b, 0, attr::kType), "segment");
  EXPECT_EQ(model::FormatXrayTraceId(s.trace_id), kTrace);
}

TEST(XraySegmentDecoderTest, HttpRequestAndResponseBecomeSemconvAttributes) {
  auto b = Decode(R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                  R"(","start_time":1478293361.0,"end_time":1478293362.0,"error":true,
      "http":{"request":{"method":"GET","url":"http://localhost:4567/api/x","user_agent":"curl/8",
      "client_ip":"10.0.0.1","x_forwarded_for":true},"response":{"status":404,"content_length":12}}})");
  EXPECT_EQ(SpanStr(b, 0, attr::kHttpMethod), "GET");
  EXPECT_EQ(SpanStr(b, 0, attr::kHttpUrl), "http://localhost:4567/api/x");
  EXPECT_EQ(SpanStr(b, 0, attr::kHttpUserAgent), "curl/8");
  EXPECT_EQ(SpanStr(b, 0, attr::kHttpClientIp), "10.0.0.1");
  EXPECT_TRUE(SpanAttr(b, 0, attr::kHttpXForwardedFor)->bool_value);
  EXPECT_EQ(SpanAttr(b, 0, attr::kHttpStatus)->int_value, 404);
  EXPECT_EQ(SpanAttr(b, 0, attr::kHttpContentLength)->int_value, 12);
  EXPECT_TRUE(SpanAttr(b, 0, attr::kError)->bool_value);
  EXPECT_EQ(b.spans[0].status_code, model::StatusCode::kError);
}

// Integers out of int64's range (found by the fuzzer: 8.62e202 as a status) are left out rather
// than converted, which is undefined behaviour; the rest of the document is kept.
TEST(XraySegmentDecoderTest, IntegerFieldsOutOfRangeAreLeftOut) {
  auto b = Decode(R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                  R"(","start_time":1478293361.0,"end_time":1478293362.0,
      "http":{"request":{"method":"GET"},"response":{"status":862e200,"content_length":-1e300}},
      "cause":{"exceptions":[{"id":"1111111111111111","type":"E","truncated":1e40,
      "stack":[{"label":"f","path":"a.py","line":9e99}]}]}})");
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_EQ(SpanStr(b, 0, attr::kHttpMethod), "GET");
  EXPECT_EQ(SpanAttr(b, 0, attr::kHttpStatus), nullptr);
  EXPECT_EQ(SpanAttr(b, 0, attr::kHttpContentLength), nullptr);
  ASSERT_EQ(b.spans[0].events.count, 1u);
  const model::Event& e = b.events[b.spans[0].events.begin];
  EXPECT_EQ(b.FindAttribute(e.attributes, attr::kExceptionTruncated), nullptr);
}

TEST(XraySegmentDecoderTest, AwsSegmentFieldsGoToTheResourceAndSamplingRuleToTheSpan) {
  auto b = Decode(R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                  R"(","start_time":1478293361.0,"end_time":1478293362.0,
      "aws":{"account_id":"123456789012","ec2":{"instance_id":"i-0b5a4678fc325bg98",
      "availability_zone":"us-west-2c","instance_size":"t3.micro","ami_id":"ami-1"},
      "ecs":{"container":"backend"},"elastic_beanstalk":{"environment_name":"prod",
      "version_label":"v7","deployment_id":3},
      "xray":{"sdk":"X-Ray for Python","sdk_version":"2.15.0","sampling_rule_name":"Cruddur"}}})");
  EXPECT_EQ(ResStr(b, 0, attr::kCloudAccountId), "123456789012");
  EXPECT_EQ(ResStr(b, 0, attr::kHostId), "i-0b5a4678fc325bg98");
  EXPECT_EQ(ResStr(b, 0, attr::kCloudAvailabilityZone), "us-west-2c");
  EXPECT_EQ(ResStr(b, 0, attr::kHostType), "t3.micro");
  EXPECT_EQ(ResStr(b, 0, attr::kHostImageId), "ami-1");
  EXPECT_EQ(ResStr(b, 0, attr::kContainerName), "backend");
  EXPECT_EQ(ResStr(b, 0, attr::kDeploymentEnvironment), "prod");
  EXPECT_EQ(ResStr(b, 0, attr::kSdkName), "X-Ray for Python");
  EXPECT_EQ(ResStr(b, 0, attr::kSdkVersion), "2.15.0");
  EXPECT_EQ(SpanStr(b, 0, attr::kSamplingRuleName), "Cruddur");
  EXPECT_EQ(b.scopes[b.spans[0].scope_index].name, "X-Ray for Python");
}

TEST(XraySegmentDecoderTest, AnnotationsKeepTheirTypesAndMetadataBecomesJsonPerNamespace) {
  auto b = Decode(R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                  R"(","start_time":1478293361.0,"end_time":1478293362.0,
      "annotations":{"gameid":"817DL6VO","age":30,"ratio":0.5,"premium":true,"bad":{"x":1}},
      "metadata":{"default":{"items":[1,2],"who":"me"},"debug":{"n":1}}})");
  EXPECT_EQ(SpanStr(b, 0, "annotation.gameid"), "817DL6VO");
  EXPECT_EQ(SpanAttr(b, 0, "annotation.age")->int_value, 30);
  EXPECT_DOUBLE_EQ(SpanAttr(b, 0, "annotation.ratio")->double_value, 0.5);
  EXPECT_TRUE(SpanAttr(b, 0, "annotation.premium")->bool_value);
  EXPECT_EQ(SpanAttr(b, 0, "annotation.bad"), nullptr) << "objects are not annotation values";
  const model::Value* meta = SpanAttr(b, 0, "aws.xray.metadata.default");
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->type, model::ValueType::kKvList);
  EXPECT_EQ(meta->str, R"({"items":[1,2],"who":"me"})");
  EXPECT_EQ(SpanAttr(b, 0, "aws.xray.metadata.debug")->str, R"({"n":1})");
}

TEST(XraySegmentDecoderTest, NestedSubsegmentsAreFlattenedWithParentsAndKinds) {
  auto b = Decode(R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                  R"(","start_time":1478293361.0,"end_time":1478293362.0,"subsegments":[
      {"name":"handler","id":"1111111111111111","start_time":1478293361.1,"end_time":1478293361.9,
       "subsegments":[
         {"name":"DynamoDB","id":"2222222222222222","namespace":"aws","start_time":1478293361.2,
          "end_time":1478293361.3,"aws":{"operation":"PutItem","region":"us-east-1",
          "table_name":"scorekeep","retries":0,"request_id":"R1","resource_names":["t"],
          "custom":"x"}},
         {"name":"api.example.com","id":"3333333333333333","namespace":"remote",
          "start_time":1478293361.4,"end_time":1478293361.5,"http":{"request":{"traced":true}},
          "precursor_ids":["2222222222222222"]}]}]})");
  ASSERT_EQ(b.spans.size(), 4u);
  EXPECT_EQ(b.spans[1].kind, model::SpanKind::kInternal);
  EXPECT_EQ(b.spans[1].parent_span_id.ToHex(), "70de5b6f19ff9a0a");
  EXPECT_EQ(b.spans[2].kind, model::SpanKind::kClient);
  EXPECT_EQ(b.spans[2].parent_span_id.ToHex(), "1111111111111111");
  EXPECT_EQ(b.spans[3].kind, model::SpanKind::kClient);
  EXPECT_EQ(SpanStr(b, 2, attr::kNamespace), "aws");
  EXPECT_EQ(SpanStr(b, 2, attr::kAwsOperation), "PutItem");
  EXPECT_EQ(SpanStr(b, 2, attr::kAwsRegion), "us-east-1");
  EXPECT_EQ(SpanStr(b, 2, attr::kAwsTableName), "scorekeep");
  EXPECT_EQ(SpanStr(b, 2, attr::kAwsRequestId), "R1");
  EXPECT_EQ(SpanAttr(b, 2, attr::kAwsRetries)->int_value, 0);
  EXPECT_EQ(SpanAttr(b, 2, attr::kAwsResourceNames)->str, R"(["t"])");
  EXPECT_EQ(SpanStr(b, 2, "aws.custom"), "x");
  EXPECT_TRUE(SpanAttr(b, 3, attr::kTraced)->bool_value);
  EXPECT_EQ(SpanAttr(b, 3, attr::kPrecursorIds)->str, R"(["2222222222222222"])");
  EXPECT_EQ(SpanStr(b, 3, attr::kType), "subsegment");
  // Subsegments share their segment's resource (service.name).
  EXPECT_EQ(ResStr(b, 2, attr::kServiceName), "api");
}

TEST(XraySegmentDecoderTest, SqlBecomesDbAttributes) {
  auto b = Decode(R"({"name":"db","id":"2222222222222222","type":"subsegment","trace_id":")" +
                  std::string(kTrace) + R"(","parent_id":"70de5b6f19ff9a0a",
      "start_time":1478293361.2,"end_time":1478293361.3,"namespace":"remote",
      "sql":{"url":"jdbc:postgresql://db/x","sanitized_query":"SELECT 1","database_type":"PostgreSQL",
      "database_version":"15","driver_version":"42","user":"app","preparation":"statement",
      "connection_string":"host=db"}})");
  EXPECT_EQ(SpanStr(b, 0, attr::kDbSystem), "PostgreSQL");
  EXPECT_EQ(SpanStr(b, 0, attr::kDbStatement), "SELECT 1");
  EXPECT_EQ(SpanStr(b, 0, attr::kDbUser), "app");
  EXPECT_EQ(SpanStr(b, 0, attr::kDbUrl), "jdbc:postgresql://db/x");
  EXPECT_EQ(SpanStr(b, 0, attr::kDbVersion), "15");
  EXPECT_EQ(SpanStr(b, 0, attr::kDbDriverVersion), "42");
  EXPECT_EQ(SpanStr(b, 0, attr::kDbPreparation), "statement");
  EXPECT_EQ(SpanStr(b, 0, attr::kDbConnectionString), "host=db");
}

TEST(XraySegmentDecoderTest, CauseObjectBecomesExceptionEventsAndErrorStatus) {
  auto b = Decode(R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                  R"(","start_time":1478293361.0,"end_time":1478293362.0,"fault":true,
      "cause":{"working_directory":"/app","paths":["/app/x.py"],"exceptions":[
        {"id":"aaaaaaaaaaaaaaaa","message":"division by zero","type":"ZeroDivisionError",
         "remote":false,"truncated":2,"skipped":1,"cause":"bbbbbbbbbbbbbbbb",
         "stack":[{"path":"/app/x.py","line":10,"label":"handler"}]}]}})");
  const model::Span& s = b.spans[0];
  EXPECT_EQ(s.status_code, model::StatusCode::kError);
  EXPECT_EQ(s.status_message, "division by zero");
  EXPECT_TRUE(SpanAttr(b, 0, attr::kFault)->bool_value);
  EXPECT_EQ(SpanStr(b, 0, attr::kCauseWorkingDirectory), "/app");
  EXPECT_EQ(SpanAttr(b, 0, attr::kCausePaths)->str, R"(["/app/x.py"])");
  ASSERT_EQ(s.events.count, 1u);
  const model::Event& e = b.events[s.events.begin];
  EXPECT_EQ(e.name, "exception");
  EXPECT_EQ(e.time_unix_nano, s.end_time_unix_nano);
  EXPECT_EQ(b.FindAttribute(e.attributes, attr::kExceptionType)->str, "ZeroDivisionError");
  EXPECT_EQ(b.FindAttribute(e.attributes, attr::kExceptionMessage)->str, "division by zero");
  EXPECT_EQ(b.FindAttribute(e.attributes, attr::kExceptionId)->str, "aaaaaaaaaaaaaaaa");
  EXPECT_EQ(b.FindAttribute(e.attributes, attr::kExceptionTruncated)->int_value, 2);
  EXPECT_EQ(b.FindAttribute(e.attributes, attr::kExceptionSkipped)->int_value, 1);
  EXPECT_EQ(b.FindAttribute(e.attributes, attr::kExceptionCause)->str, "bbbbbbbbbbbbbbbb");
  EXPECT_EQ(b.FindAttribute(e.attributes, attr::kExceptionStacktrace)->str,
            "  at handler (/app/x.py:10)\n");
}

TEST(XraySegmentDecoderTest, CauseStringIsKeptAsExceptionId) {
  auto b = Decode(R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                  R"(","start_time":1478293361.0,"end_time":1478293362.0,"error":true,
                     "throttle":true,"cause":"aaaaaaaaaaaaaaaa"})");
  EXPECT_EQ(SpanStr(b, 0, attr::kCauseId), "aaaaaaaaaaaaaaaa");
  EXPECT_TRUE(SpanAttr(b, 0, attr::kThrottle)->bool_value);
  EXPECT_EQ(b.spans[0].status_code, model::StatusCode::kError);
  EXPECT_EQ(b.spans[0].events.count, 0u);
}

TEST(XraySegmentDecoderTest, IndependentSubsegmentUsesParentIdAndOwnTraceId) {
  auto b = Decode(R"({"type":"subsegment","name":"query","id":"4444444444444444","trace_id":")" +
                  std::string(kTrace) + R"(","parent_id":"70de5b6f19ff9a0a",
                     "start_time":1478293361.0,"end_time":1478293361.5})");
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_EQ(b.spans[0].parent_span_id.ToHex(), "70de5b6f19ff9a0a");
  EXPECT_EQ(b.spans[0].kind, model::SpanKind::kInternal);
  EXPECT_EQ(ResStr(b, 0, attr::kServiceName), "<absent>");
}

TEST(XraySegmentDecoderTest, TopLevelArrayOfSubsegmentsIsAccepted) {
  auto b = Decode(
      R"([{"type":"subsegment","name":"a","id":"4444444444444444","trace_id":")" +
      std::string(kTrace) + R"(","parent_id":"70de5b6f19ff9a0a","start_time":1478293361.0,
                     "end_time":1478293361.5},{"type":"subsegment","name":"b","id":"5555555555555555",
                     "trace_id":")" +
      std::string(kTrace) +
      R"(","parent_id":"70de5b6f19ff9a0a","start_time":1478293361.0,"end_time":1478293361.5}])");
  EXPECT_EQ(b.spans.size(), 2u);
}

TEST(XraySegmentDecoderTest, TheDocumentAsSentIsKeptOnItsTopEntityOnly) {
  // Whitespace goes; every token (number spellings, escapes, unknown keys) stays.
  auto b = Decode(R"({ "name" : "api", "id":"70de5b6f19ff9a0a", "trace_id":")" +
                  std::string(kTrace) + R"(",
      "start_time": 1.4782933610E9, "end_time":1478293361.50,
      "future": {"a": [1, 2.50, "x, ]}\"y"], "b": null},
      "subsegments": [{"name":"db","id":"4444444444444444","start_time":1478293361.1,
                       "end_time":1478293361.2}]})");
  ASSERT_EQ(b.spans.size(), 2u);
  const model::Value* doc = SpanAttr(b, 0, attr::kDocument);
  ASSERT_NE(doc, nullptr);
  EXPECT_EQ(doc->type, model::ValueType::kKvList);
  EXPECT_EQ(doc->str, R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":")" +
                          std::string(kTrace) +
                          R"(","start_time":1.4782933610E9,"end_time":1478293361.50,)"
                          R"("future":{"a":[1,2.50,"x, ]}\"y"],"b":null},)"
                          R"("subsegments":[{"name":"db","id":"4444444444444444",)"
                          R"("start_time":1478293361.1,"end_time":1478293361.2}]})");
  EXPECT_EQ(SpanAttr(b, 1, attr::kDocument), nullptr) << "embedded subsegments are inside it";
}

TEST(XraySegmentDecoderTest, EachElementOfAnArrayDocumentKeepsItsOwnText) {
  const std::string a =
      R"({"type":"subsegment","name":"a,[b]","id":"4444444444444444","trace_id":")" +
      std::string(kTrace) +
      R"(","parent_id":"70de5b6f19ff9a0a","start_time":1478293361.0,)"
      R"("end_time":1478293361.5,"metadata":{"m":{"s":"\\\"]},{["}}})";
  const std::string c =
      R"({"type":"subsegment","name":"c","id":"5555555555555555","trace_id":")" +
      std::string(kTrace) +
      R"(","parent_id":"4444444444444444","start_time":1478293361.0,)"
      R"("end_time":1478293361.5,"subsegments":[{"name":"d",)"
      R"("id":"6666666666666666","start_time":1478293361.1,"end_time":1478293361.2}]})";
  auto b = Decode("[ " + a + " ,\n " + c + " ]");
  ASSERT_EQ(b.spans.size(), 3u);
  EXPECT_EQ(SpanStr(b, 0, attr::kDocument), a);
  EXPECT_EQ(SpanStr(b, 1, attr::kDocument), c);
  EXPECT_EQ(SpanStr(b, 2, attr::kDocument), "<absent>");
}

TEST(XraySegmentDecoderTest, ARepairedDocumentIsKeptRepaired) {
  auto b = Decode(R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                  R"(","start_time":1478293361.0,"end_time":1478293361.5,"user":"a)" + "\xff" +
                  R"(b"})");
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_NE(SpanStr(b, 0, attr::kDocument)
                .find("\"user\":\"a\xEF\xBF\xBD"
                      "b\""),
            std::string::npos);
}

TEST(XraySegmentDecoderTest, InProgressSegmentIsStoredWithZeroDurationAndFlag) {
  auto b = Decode(R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                  R"(","start_time":1478293361.0,"in_progress":true})");
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_EQ(b.spans[0].end_time_unix_nano, b.spans[0].start_time_unix_nano);
  EXPECT_TRUE(SpanAttr(b, 0, attr::kInProgress)->bool_value);
}

TEST(XraySegmentDecoderTest, SegmentParentIdFromUpstreamBecomesParentSpanId) {
  auto b = Decode(R"({"name":"api","id":"70de5b6f19ff9a0a","parent_id":"53995c3f42cd8ad8",
                     "trace_id":")" +
                  std::string(kTrace) + R"(","start_time":1478293361.0,"end_time":1478293362.0})");
  EXPECT_EQ(b.spans[0].parent_span_id.ToHex(), "53995c3f42cd8ad8");
  EXPECT_EQ(b.spans[0].kind, model::SpanKind::kServer);
}

struct BadDoc {
  const char* doc;
  const char* code;
  const char* message_part;
};

TEST(XraySegmentDecoderTest, BadDocumentsAreRejectedWithTheFieldNamedAndBatchUntouched) {
  const BadDoc cases[] = {
      {"{not json", "InvalidJson", "not valid JSON"},
      {R"({"id":"70de5b6f19ff9a0a","trace_id":"1-5759e988-bd862e3fe1be46a994272793",
          "start_time":1,"end_time":2})",
       "MissingField", "'name'"},
      {R"({"name":"a","id":"xyz","trace_id":"1-5759e988-bd862e3fe1be46a994272793",
          "start_time":1,"end_time":2})",
       "InvalidId", "'id'"},
      {R"({"name":"a","id":"70de5b6f19ff9a0a","trace_id":"nope","start_time":1,"end_time":2})",
       "InvalidTraceId", "'trace_id'"},
      {R"({"name":"a","id":"70de5b6f19ff9a0a","start_time":1,"end_time":2})", "MissingField",
       "'trace_id'"},
      {R"({"name":"a","id":"70de5b6f19ff9a0a","trace_id":"1-5759e988-bd862e3fe1be46a994272793",
          "start_time":1})",
       "MissingField", "end_time"},
      {R"({"name":"a","id":"70de5b6f19ff9a0a","trace_id":"1-5759e988-bd862e3fe1be46a994272793",
          "end_time":1})",
       "MissingField", "start_time"},
      {R"({"type":"subsegment","name":"a","id":"70de5b6f19ff9a0a",
          "trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":1,"end_time":2})",
       "MissingField", "parent_id"},
      {R"([1,2])", "InvalidDocument", "subsegment objects"},
      {R"("str")", "InvalidDocument", "JSON object"},
  };
  for (const BadDoc& c : cases) {
    model::SpanBatch batch =
        Decode(R"({"name":"keep","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
               R"(","start_time":1478293361.0,"end_time":1478293362.0})");
    DecodeError error;
    auto result = DecodeSegmentDocument(c.doc, &batch, {}, &error);
    EXPECT_FALSE(result.ok()) << c.doc;
    EXPECT_EQ(error.error_code, c.code) << c.doc;
    EXPECT_NE(error.message.find(c.message_part), std::string::npos) << error.message;
    EXPECT_EQ(batch.spans.size(), 1u) << "a failed document must not leave spans behind";
  }
}

TEST(XraySegmentDecoderTest, DeepNestingIsRejectedNotCrashed) {
  std::string doc = R"({"name":"a","id":"70de5b6f19ff9a0a","trace_id":")" + std::string(kTrace) +
                    R"(","start_time":1,"end_time":2)";
  for (int i = 0; i < 100; ++i) {
    doc += R"(,"subsegments":[{"name":"s","id":"1111111111111111","start_time":1,"end_time":2)";
  }
  for (int i = 0; i < 100; ++i) doc += "}]";
  doc += "}";
  model::SpanBatch batch;
  DecodeError error;
  EXPECT_FALSE(DecodeSegmentDocument(doc, &batch, {}, &error).ok());
  EXPECT_EQ(batch.spans.size(), 0u);
}

TEST(XrayDaemonDatagramTest, AcceptsBothHeaderSpellings) {
  for (std::string header :
       {R"({"format": "json", "version": 1})", R"({"format":"json","version":1})",
        R"({ "version" : 1 , "format" : "JSON" })"}) {
    const std::string datagram = header + "\n{\"a\":1}";  // the result points into it
    auto body = SplitDaemonDatagram(datagram);
    ASSERT_TRUE(body.ok()) << header;
    EXPECT_EQ(*body, "{\"a\":1}");
  }
}

TEST(XrayDaemonDatagramTest, RejectsMissingNewlineEmptyBodyAndBadHeader) {
  auto no_newline = SplitDaemonDatagram(R"({"format":"json","version":1})");
  EXPECT_EQ(no_newline.status().message().substr(0, 14), "missing_header");
  auto empty = SplitDaemonDatagram("{\"format\":\"json\",\"version\":1}\n");
  EXPECT_EQ(empty.status().message().substr(0, 14), "missing_header");
  auto bad = SplitDaemonDatagram("{\"format\":\"xml\",\"version\":1}\n{}");
  EXPECT_EQ(bad.status().message().substr(0, 10), "bad_header");
  auto v2 = SplitDaemonDatagram("{\"format\":\"json\",\"version\":2}\n{}");
  EXPECT_EQ(v2.status().message().substr(0, 10), "bad_header");
  auto garbage = SplitDaemonDatagram("hello\n{}");
  EXPECT_EQ(garbage.status().message().substr(0, 10), "bad_header");
}

}  // namespace
}  // namespace ariadne::receivers::xray

namespace ariadne::receivers::xray {
namespace {

TEST(XraySegmentDecoderTest, EveryTruncationAndByteFlipIsAnErrorOrAValidBatchNeverACrash) {
  const std::string doc =
      R"({"name":"api","id":"70de5b6f19ff9a0a","trace_id":"1-5759e988-bd862e3fe1be46a994272793",
      "start_time":1478293361.0,"end_time":1478293362.0,"fault":true,"annotations":{"a":1},
      "http":{"request":{"method":"GET"},"response":{"status":500}},
      "cause":{"exceptions":[{"id":"aaaaaaaaaaaaaaaa","stack":[{"path":"p","line":1}]}]},
      "subsegments":[{"name":"s","id":"1111111111111111","start_time":1478293361.1,
      "end_time":1478293361.2,"namespace":"aws","sql":{"url":"u"},"metadata":{"m":{"x":[1]}}}]})";
  uint64_t seed = 42;
  for (size_t cut = 0; cut <= doc.size(); ++cut) {
    model::SpanBatch batch;
    auto result = DecodeSegmentDocument(doc.substr(0, cut), &batch);
    if (!result.ok()) {
      EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
      EXPECT_TRUE(batch.spans.empty());
    }
  }
  for (int round = 0; round < 2000; ++round) {
    std::string mutated = doc;
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    mutated[(seed >> 33) % mutated.size()] = static_cast<char>(seed >> 17);
    model::SpanBatch batch;
    auto result = DecodeSegmentDocument(mutated, &batch);
    if (result.ok()) {
      EXPECT_EQ(*result, batch.spans.size());
    }
  }
}

}  // namespace
}  // namespace ariadne::receivers::xray
