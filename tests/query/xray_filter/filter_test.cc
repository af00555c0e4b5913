// The X-Ray filter expression language: parser (every documented example, error positions) and
// evaluator over traces decoded from real segment documents.
#include "query/xray_filter/filter.h"

#include <string>

#include <gtest/gtest.h>

#include "receivers/xray/segment_decoder.h"

namespace ariadne::query::xray_filter {
namespace {

TEST(XrayFilterParserTest, DocumentedExamplesParse) {
  const char* examples[] = {
      "responsetime > 5",
      "duration >= 5 AND duration <= 8",
      "http.status != 200",
      "http.url CONTAINS \"/api/game/\"",
      "annotation.gameid = \"817DL6VO\"",
      "annotation.age > 29",
      "!annotation.age",
      "service(\"api.example.com\") { fault }",
      "service() { fault }",
      "edge(\"api.example.com\", \"backend.example.com\") { error }",
      "service(id(name: \"random-name\", type: \"AWS::Lambda::Function\")) { error }",
      "http.url BEGINSWITH \"http://api.example.com/\" AND http.url CONTAINS \"/v2/\" AND "
      "!service(\"api.example.com\")",
      "fault = true AND http.url CONTAINS \"example/game\" AND responsetime >= 5",
      "group.name = \"high_response_time\" AND user = \"alice\"",
      "rootcause.responsetime.service { last and type = \"AWS::DynamoDB\" }",
      "ok !partial duration <3",
      "responseTime > 1 and http.method = \"GET\" or (error)",
      "rootcause.fault.exception { name = \"ZeroDivisionError\" }",
      "rootcause.json = #[{ \"Services\": [ { \"Name\": \"x\" } ] }]",
      "http.status IN (404, 500)",
      "NOT fault",
      "user CONTAINS \"\"",
      "service(\"$backend-flask\")",
      "service(\"-flask\")",
      "",
  };
  for (const char* text : examples) {
    auto filter = Filter::Parse(text);
    EXPECT_TRUE(filter.ok()) << text << ": " << filter.status().ToString();
  }
}

struct BadCase {
  const char* text;
  size_t column;
  const char* says;
};

TEST(XrayFilterParserTest, ErrorsPointAtTheColumnAndSayWhatWasExpected) {
  const BadCase cases[] = {
      {"responsetime >", 15, "expected a value"},
      {"responsetime > \"slow\"", 14, "expected a number"},
      {"http.url > 5", 10, "is a string"},
      {"fault = 3", 7, "boolean keyword"},
      {"responsetime", 13, "expected a comparison"},
      {"bogus = 1", 1, "unknown keyword 'bogus'"},
      {"service(\"a\"", 12, "expected ')'"},
      {"service(\"a\") { fault", 21, "expected '}'"},
      {"(fault", 7, "expected ')'"},
      {"http.url = \"abc", 12, "unterminated string"},
      {"fault AND", 10, "expected a filter term"},
      {"fault ) ", 7, "expected AND, OR or the end"},
      {"edge(\"a\")", 9, "expected ','"},
      {"service(id(colour: \"x\"))", 12, "expected name, type or account.id"},
      {"rootcause.fault.bogus", 1, "unknown root-cause keyword"},
      {"duration ~ 3", 10, "unexpected character '~'"},
  };
  for (const BadCase& c : cases) {
    auto filter = Filter::Parse(c.text);
    ASSERT_FALSE(filter.ok()) << c.text;
    std::string message(filter.status().message());
    EXPECT_NE(message.find("column " + std::to_string(c.column) + ":"), std::string::npos)
        << c.text << " → " << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << c.text << " → " << message;
    EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(XrayFilterParserTest, NestingAndLengthAreBounded) {
  auto nested = [](const std::string& open, int levels, const std::string& close) {
    std::string text;
    for (int i = 0; i < levels; ++i) text += open;
    text += "ok";
    for (int i = 0; i < levels; ++i) text += close;
    return text;
  };
  // 20,000 '(' used to overflow the stack; the length limit refuses it before parsing.
  auto huge = Filter::Parse(std::string(20000, '('));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(huge.status().message().find("limit is 4096 bytes"), std::string::npos)
      << huge.status().message();

  EXPECT_TRUE(Filter::Parse(nested("(", 60, ")")).ok());
  for (const std::string& text :
       {nested("(", 100, ")"), nested("!", 100, ""), nested("NOT ", 100, ""),
        nested("service(\"a\") { ", 100, " }"), std::string(4000, '(')}) {
    auto filter = Filter::Parse(text);
    ASSERT_FALSE(filter.ok()) << text.substr(0, 40);
    EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(filter.status().message().find("nests deeper than 64 levels"), std::string::npos)
        << filter.status().message();
  }
}

TEST(XrayFilterParserTest, ReferencedServicesListsSelectorNames) {
  auto filter = Filter::Parse("service(\"$backend-flask\") OR edge(\"a\", id(name: \"b\"))");
  ASSERT_TRUE(filter.ok());
  auto names = filter->ReferencedServices();
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], "$backend-flask");
}

// A trace: frontend (segment, GET /api/game/1, 200, 6 s) → backend (segment, 500 fault with a
// ZeroDivisionError, annotation gameid/age, user alice) → DynamoDB (aws subsegment, inferred).
constexpr char kFrontend[] = R"({"name":"api.example.com","id":"1000000000000001",
  "trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":1000.0,"end_time":1006.0,
  "http":{"request":{"method":"GET","url":"http://api.example.com/api/game/1","user_agent":"curl",
  "client_ip":"10.1.1.1"},"response":{"status":200}},
  "subsegments":[{"name":"backend.example.com","id":"1000000000000002","namespace":"remote",
    "start_time":1000.5,"end_time":1005.5,"fault":true,
    "http":{"request":{"method":"POST","url":"http://backend.example.com/x"},"response":{"status":500}}}]})";
constexpr char kBackend[] = R"({"name":"backend.example.com","id":"2000000000000001",
  "parent_id":"1000000000000002","origin":"AWS::EC2::Instance",
  "trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":1001.0,"end_time":1005.0,
  "user":"alice","fault":true,"annotations":{"gameid":"817DL6VO","age":30,"vip":true},
  "http":{"request":{"method":"POST","url":"http://backend.example.com/x"},"response":{"status":500}},
  "cause":{"exceptions":[{"id":"aaaaaaaaaaaaaaaa","type":"ZeroDivisionError","message":"division by zero"}]},
  "subsegments":[{"name":"DynamoDB","id":"2000000000000002","namespace":"aws","start_time":1002.0,
    "end_time":1004.5,"aws":{"operation":"GetItem"}}]})";

class XrayFilterEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* doc : {kFrontend, kBackend}) {
      ASSERT_TRUE(receivers::xray::DecodeSegmentDocument(doc, &batch_).ok());
    }
  }
  bool Matches(const std::string& text, const GroupResolver* groups = nullptr) {
    auto filter = Filter::Parse(text);
    EXPECT_TRUE(filter.ok()) << text << ": " << filter.status().ToString();
    if (!filter.ok()) return false;
    TraceView view = TraceView::Build(batch_);
    return filter->Matches(view, groups);
  }
  model::SpanBatch batch_;
};

TEST_F(XrayFilterEvalTest, TraceViewFindsSegmentsInferredNodeAndEdges) {
  TraceView view = TraceView::Build(batch_);
  ASSERT_GE(view.root(), 0);
  EXPECT_EQ(view.segments()[view.root()].name, "api.example.com");
  ASSERT_EQ(view.nodes().size(), 3u);
  EXPECT_EQ(view.nodes()[2].name, "DynamoDB");
  EXPECT_TRUE(view.nodes()[2].inferred);
  ASSERT_EQ(view.edges().size(), 2u);
  EXPECT_DOUBLE_EQ(view.duration(), 6.0);
  EXPECT_DOUBLE_EQ(view.response_time(), 6.0);
}

TEST_F(XrayFilterEvalTest, NumberKeywords) {
  EXPECT_TRUE(Matches("responsetime > 5"));
  EXPECT_FALSE(Matches("responsetime > 6.5"));
  EXPECT_TRUE(Matches("duration >= 5 AND duration <= 8"));
  EXPECT_FALSE(Matches("duration < 3"));
  EXPECT_FALSE(Matches("http.status != 200"));
  EXPECT_TRUE(Matches("http.status = 200"));
  EXPECT_TRUE(Matches("http.status IN (404, 200)"));
}

TEST_F(XrayFilterEvalTest, StringKeywordsUseTheRootSegment) {
  EXPECT_TRUE(Matches("http.url CONTAINS \"/api/game/\""));
  EXPECT_TRUE(Matches("http.url BEGINSWITH \"http://api.example.com/\""));
  EXPECT_TRUE(Matches("http.url ENDSWITH \"/1\""));
  EXPECT_FALSE(Matches("http.url CONTAINS \"/API/\"")) << "values are case-sensitive";
  EXPECT_TRUE(Matches("http.method = \"GET\""));
  EXPECT_TRUE(Matches("http.useragent = \"curl\" AND http.clientip = \"10.1.1.1\""));
  EXPECT_TRUE(Matches("user = \"alice\""));
  EXPECT_FALSE(Matches("user = \"bob\""));
  EXPECT_TRUE(Matches("user CONTAINS \"\""));
}

TEST_F(XrayFilterEvalTest, BooleanKeywordsAreAboutTheRootSegment) {
  EXPECT_TRUE(Matches("ok"));
  EXPECT_FALSE(Matches("fault"));
  EXPECT_TRUE(Matches("!fault"));
  EXPECT_TRUE(Matches("fault = false"));
  EXPECT_TRUE(Matches("ok !partial duration <7"));
}

TEST_F(XrayFilterEvalTest, AnnotationsByType) {
  EXPECT_TRUE(Matches("annotation.gameid = \"817DL6VO\""));
  EXPECT_TRUE(Matches("annotation.age > 29"));
  EXPECT_FALSE(Matches("annotation.age > 30"));
  EXPECT_FALSE(Matches("!annotation.age"));
  EXPECT_TRUE(Matches("!annotation.missing"));
  EXPECT_TRUE(Matches("annotation.vip"));
  EXPECT_TRUE(Matches("annotation.vip = true"));
}

TEST_F(XrayFilterEvalTest, ServiceAndEdgeSubFilters) {
  EXPECT_TRUE(Matches("service(\"backend.example.com\") { fault }"));
  EXPECT_FALSE(Matches("service(\"api.example.com\") { fault }"));
  EXPECT_TRUE(Matches("service() { fault }"));
  EXPECT_TRUE(Matches("service(\"DynamoDB\")")) << "inferred nodes are services too";
  EXPECT_TRUE(Matches("edge(\"api.example.com\", \"backend.example.com\") { fault }"));
  EXPECT_FALSE(Matches("edge(\"backend.example.com\", \"api.example.com\")"));
  EXPECT_TRUE(
      Matches("service(id(name: \"backend.example.com\", type: \"AWS::EC2::Instance\")) { "
              "fault AND responsetime = 4 AND http.method = \"POST\" }"));
  EXPECT_FALSE(Matches("service(id(name: \"backend.example.com\", type: \"AWS::Lambda\"))"));
  EXPECT_FALSE(
      Matches("http.url BEGINSWITH \"http://api.example.com/\" AND "
              "!service(\"api.example.com\")"));
  EXPECT_FALSE(Matches("service(\"$backend-flask\")"));
  EXPECT_FALSE(Matches("service(\"-flask\")"));
}

TEST_F(XrayFilterEvalTest, RootCauses) {
  EXPECT_TRUE(Matches("rootcause.fault.service { name = \"backend.example.com\" }"));
  EXPECT_TRUE(
      Matches("rootcause.fault.exception { name = \"ZeroDivisionError\" AND "
              "message CONTAINS \"zero\" }"));
  EXPECT_FALSE(Matches("rootcause.error.service"));
  EXPECT_TRUE(Matches("rootcause.responsetime.service { name = \"DynamoDB\" }"));
}

TEST_F(XrayFilterEvalTest, GroupReferencesResolveThroughTheResolver) {
  GroupResolver groups = [](std::string_view name, bool) -> std::optional<std::string> {
    if (name == "slow") return std::string("responsetime > 5");
    if (name == "loop") return std::string("group.name = \"loop\"");
    return std::nullopt;
  };
  EXPECT_TRUE(Matches("group.name = \"slow\" AND user = \"alice\"", &groups));
  EXPECT_FALSE(Matches("group.name = \"nope\"", &groups));
  EXPECT_FALSE(Matches("group.name = \"loop\"", &groups)) << "cycles end as no match";
}

TEST_F(XrayFilterEvalTest, InProgressDuplicateLosesToCompleteDocument) {
  model::SpanBatch batch;
  const char* in_progress = R"({"name":"svc","id":"3000000000000001","in_progress":true,
    "trace_id":"1-5759e988-bd862e3fe1be46a994272794","start_time":1000.0})";
  const char* complete = R"({"name":"svc","id":"3000000000000001","fault":true,
    "trace_id":"1-5759e988-bd862e3fe1be46a994272794","start_time":1000.0,"end_time":1003.0})";
  ASSERT_TRUE(receivers::xray::DecodeSegmentDocument(in_progress, &batch).ok());
  TraceView partial = TraceView::Build(batch);
  EXPECT_TRUE(partial.partial());
  ASSERT_TRUE(receivers::xray::DecodeSegmentDocument(complete, &batch).ok());
  TraceView view = TraceView::Build(batch);
  EXPECT_FALSE(view.partial());
  EXPECT_EQ(view.spans().size(), 1u);
  EXPECT_DOUBLE_EQ(view.response_time(), 3.0);
  auto filter = Filter::Parse("fault AND !partial");
  EXPECT_TRUE(filter->Matches(view));
}

TEST(XrayFilterOtlpTest, OtlpSpansAnswerTheSameKeywords) {
  // An OTLP-style trace: server span with semconv http attributes, status 503.
  model::SpanBatch batch;
  model::Resource resource;
  resource.attributes = {0, 1};
  batch.attributes.push_back({"service.name", model::Value::String("cart")});
  batch.resources.push_back(resource);
  batch.scopes.push_back(model::Scope{});
  model::Span span;
  span.trace_id = *model::TraceId::FromHex("5759e988bd862e3fe1be46a994272793");
  span.span_id = *model::SpanId::FromHex("1111111111111111");
  span.kind = model::SpanKind::kServer;
  span.start_time_unix_nano = 1'000'000'000'000ull;
  span.end_time_unix_nano = 1'002'000'000'000ull;
  span.attributes = {1, 2};
  batch.attributes.push_back({"http.request.method", model::Value::String("PUT")});
  batch.attributes.push_back({"http.response.status_code", model::Value::Int(503)});
  batch.spans.push_back(span);
  TraceView view = TraceView::Build(batch);
  for (const char* text : {"service(\"cart\") { fault }", "http.status = 503",
                           "http.method = \"PUT\" AND responsetime = 2", "fault AND !error"}) {
    auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter.ok());
    EXPECT_TRUE(filter->Matches(view)) << text;
  }
}

}  // namespace
}  // namespace ariadne::query::xray_filter

namespace ariadne::query::xray_filter {
namespace {

TEST(XrayFilterParserTest, EveryPrefixOfValidExpressionsParsesOrFailsWithAColumn) {
  const char* texts[] = {
      "service(id(name: \"a\", type: \"b\")) { fault AND responsetime >= 5 } OR !edge(\"a\", "
      "\"b\")",
      "rootcause.fault.exception { name = \"x\" } and annotation.k IN (1, \"s\", true)",
      "rootcause.json = #[{ \"a\": [1, \"]\"] }] OR (http.url CONTAINS \"\\\"q\\\"\")",
  };
  for (const char* text : texts) {
    std::string full(text);
    ASSERT_TRUE(Filter::Parse(full).ok()) << full;
    for (size_t cut = 0; cut < full.size(); ++cut) {
      auto filter = Filter::Parse(full.substr(0, cut));
      if (!filter.ok()) {
        EXPECT_NE(std::string(filter.status().message()).find("at column "), std::string::npos)
            << full.substr(0, cut);
      }
    }
  }
}

}  // namespace
}  // namespace ariadne::query::xray_filter
