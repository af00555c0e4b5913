// Segment documents rendered from the span model (spans that did not come as X-Ray documents).
#include "query/xray/documents.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/span_batch.h"

namespace ariadne::query::xray {
namespace {

// An OTLP server span whose attributes put scalars where the X-Ray document nests objects.
model::SpanBatch SpanWithClashingAttributes() {
  model::SpanBatch batch;
  batch.attributes.push_back({"service.name", model::Value::String("cart")});
  batch.attributes.push_back({"host.id", model::Value::String("i-0abc")});
  model::Resource resource;
  resource.attributes = {0, 2};
  batch.resources.push_back(resource);
  batch.scopes.push_back(model::Scope{});
  model::Span span;
  span.trace_id = *model::TraceId::FromHex("5759e988bd862e3fe1be46a994272793");
  span.span_id = *model::SpanId::FromHex("1111111111111111");
  span.kind = model::SpanKind::kServer;
  span.start_time_unix_nano = 1'000'000'000'000ull;
  span.end_time_unix_nano = 1'002'000'000'000ull;
  const uint32_t first = static_cast<uint32_t>(batch.attributes.size());
  batch.attributes.push_back({"aws.xray.cause.id", model::Value::String("0123456789abcdef")});
  batch.attributes.push_back({"aws.xray.cause.working_directory", model::Value::String("/app")});
  batch.attributes.push_back({"aws.ec2", model::Value::String("not an object")});
  batch.attributes.push_back({"aws.xray", model::Value::String("not an object")});
  batch.attributes.push_back({"aws.xray.sampling_rule_name", model::Value::String("Cruddur")});
  batch.attributes.push_back({"aws.xray.metadata.otel", model::Value::String("scalar")});
  batch.attributes.push_back({"app.feature", model::Value::Bool(true)});
  span.attributes = {first, static_cast<uint32_t>(batch.attributes.size()) - first};
  batch.spans.push_back(span);
  return batch;
}

TEST(SegmentDocumentsTest, ScalarAttributesWhereTheDocumentNestsObjectsStillRender) {
  model::SpanBatch batch = SpanWithClashingAttributes();
  std::vector<SegmentDocument> docs = EncodeSegmentDocuments(xray_filter::TraceView::Build(batch));
  ASSERT_EQ(docs.size(), 1u);
  nlohmann::json doc = nlohmann::json::parse(docs[0].document);
  EXPECT_EQ(doc["cause"]["working_directory"], "/app");
  EXPECT_EQ(doc["aws"]["ec2"]["instance_id"], "i-0abc");
  EXPECT_EQ(doc["aws"]["xray"]["sampling_rule_name"], "Cruddur");
  EXPECT_EQ(doc["metadata"]["otel"]["app.feature"], true);
}

}  // namespace
}  // namespace ariadne::query::xray
