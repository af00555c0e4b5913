// Response encoders, parsed back with libprotobuf (binary and JSON).

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "receivers/otlp/otlp_codec.h"

namespace ariadne::receivers::otlp {
namespace {

using ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;

TEST(OtlpEncodersTest, FullSuccessIsAnEmptyMessageAndEmptyJsonObject) {
  EXPECT_EQ(EncodeProtobufResponse(0, ""), "");
  EXPECT_EQ(EncodeJsonResponse(0, ""), "{}");
  ExportTraceServiceResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(EncodeProtobufResponse(0, "")));
  EXPECT_FALSE(parsed.has_partial_success());
}

TEST(OtlpEncodersTest, PartialSuccessParsesBackWithLibprotobuf) {
  const std::string message = "2 spans rejected: span #1: trace id is all zeros; \"quoted\"\n é";
  ExportTraceServiceResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(EncodeProtobufResponse(2, message)));
  ASSERT_TRUE(parsed.has_partial_success());
  EXPECT_EQ(parsed.partial_success().rejected_spans(), 2);
  EXPECT_EQ(parsed.partial_success().error_message(), message);

  std::string json = EncodeJsonResponse(2, message);
  EXPECT_EQ(json.rfind(R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":)", 0), 0u) << json;
  ExportTraceServiceResponse from_json;
  auto status = google::protobuf::util::JsonStringToMessage(json, &from_json);
  ASSERT_TRUE(status.ok()) << status.ToString() << " " << json;
  EXPECT_EQ(from_json.partial_success().rejected_spans(), 2);
  EXPECT_EQ(from_json.partial_success().error_message(), message);
}

TEST(OtlpEncodersTest, WarningWithoutRejectedSpansKeepsPartialSuccessSet) {
  ExportTraceServiceResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(EncodeProtobufResponse(0, "slow down")));
  ASSERT_TRUE(parsed.has_partial_success());
  EXPECT_EQ(parsed.partial_success().rejected_spans(), 0);
  EXPECT_EQ(parsed.partial_success().error_message(), "slow down");
  EXPECT_EQ(EncodeJsonResponse(0, "slow down"),
            R"({"partialSuccess":{"errorMessage":"slow down"}})");
  // Large counts survive too.
  ASSERT_TRUE(parsed.ParseFromString(EncodeProtobufResponse(1ull << 40, "")));
  EXPECT_EQ(parsed.partial_success().rejected_spans(), 1ll << 40);
  EXPECT_EQ(EncodeJsonResponse(1ull << 40, ""),
            R"({"partialSuccess":{"rejectedSpans":"1099511627776"}})");
}

TEST(OtlpEncodersTest, StatusParsesBackWithLibprotobuf) {
  for (int32_t code : {3, 8, 14, 0, -1}) {
    const std::string message = "bad body at byte offset 12: \"x\"\t\x01";
    google::rpc::Status parsed;
    ASSERT_TRUE(parsed.ParseFromString(EncodeProtobufStatus(code, message)));
    EXPECT_EQ(parsed.code(), code);
    EXPECT_EQ(parsed.message(), message);
    EXPECT_EQ(parsed.details_size(), 0);

    google::rpc::Status from_json;
    std::string json = EncodeJsonStatus(code, message);
    auto status = google::protobuf::util::JsonStringToMessage(json, &from_json);
    ASSERT_TRUE(status.ok()) << status.ToString() << " " << json;
    EXPECT_EQ(from_json.code(), code);
    EXPECT_EQ(from_json.message(), message);
  }
  EXPECT_EQ(EncodeJsonStatus(3, "bad"), R"({"code":3,"message":"bad"})");
}

}  // namespace
}  // namespace ariadne::receivers::otlp
