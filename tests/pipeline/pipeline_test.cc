// Pipeline over the real embedded store in a temporary directory.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>

#include "store/embedded/embedded_store.h"
#include "test_batches.h"

namespace ariadne::pipeline {
namespace {

using testing::AddSpan;
using testing::kNow;
using testing::NewBatch;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ariadne-pipeline-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    Open(1 << 20);
  }
  void TearDown() override {
    pipeline_.reset();
    if (store_) (void)store_->Close();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open(size_t max_pending_spans) {
    pipeline_.reset();
    if (store_) (void)store_->Close();
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = dir_;
    options.max_pending_spans = max_pending_spans;
    auto store = store::embedded::OpenEmbeddedStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    PipelineOptions pipeline_options;
    pipeline_options.clock = [] { return kNow; };
    pipeline_ = std::make_unique<Pipeline>(store_.get(), &metrics_, pipeline_options);
  }
  SubmitResult SubmitAndWait(std::string env, model::SpanBatch batch, uint64_t prior = 0,
                             std::string prior_message = "") {
    std::promise<SubmitResult> promise;
    pipeline_->Submit(std::move(env), std::move(batch), prior, std::move(prior_message),
                      [&](SubmitResult result) { promise.set_value(std::move(result)); });
    return promise.get_future().get();
  }

  std::string dir_;
  IngestMetrics metrics_;
  std::unique_ptr<store::SpanStore> store_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, ValidSpansAreStoredDurablyAndInvalidOnesReported) {
  auto batch = NewBatch("checkout");
  AddSpan(batch, 1, kNow - 1000, kNow);
  AddSpan(batch, 2, kNow, kNow - 1000);  // end before start
  AddSpan(batch, 3, kNow - 500, kNow);
  SubmitResult result = SubmitAndWait("prod", std::move(batch), 2, "2 spans had invalid ids");
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_EQ(result.accepted_spans, 2u);
  EXPECT_EQ(result.rejected_spans, 3u);
  EXPECT_NE(result.message.find("2 spans had invalid ids"), std::string::npos);
  EXPECT_NE(result.message.find("end time before start time"), std::string::npos);

  auto trace = store_->GetTrace(testing::TraceIdOf(1));
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->spans.spans.size(), 2u);
  for (const std::string& env : trace->environments) EXPECT_EQ(env, "prod");
  EXPECT_EQ(trace->spans.ServiceNameOf(trace->spans.spans[0]), "checkout");

  EXPECT_EQ(metrics_.received(), 5u);
  EXPECT_EQ(metrics_.accepted(), 2u);
  EXPECT_EQ(metrics_.rejected(RejectReason::kDecode), 2u);
  EXPECT_EQ(metrics_.rejected(RejectReason::kEndBeforeStart), 1u);
  EXPECT_EQ(metrics_.rejected_total(), 3u);
}

TEST_F(PipelineTest, BatchWithNothingValidSucceedsWithoutTouchingTheStore) {
  auto batch = NewBatch();
  AddSpan(batch, 1, 0, kNow);
  SubmitResult result = SubmitAndWait("default", std::move(batch));
  EXPECT_TRUE(result.status.ok());
  EXPECT_EQ(result.accepted_spans, 0u);
  EXPECT_EQ(result.rejected_spans, 1u);
  EXPECT_EQ(store_->Admin()->Stats().batches_appended, 0u);
  EXPECT_TRUE(store_->GetTrace(testing::TraceIdOf(1)).status().IsNotFound());
}

TEST_F(PipelineTest, AcknowledgedSpansSurviveReopeningTheStore) {
  auto batch = NewBatch();
  AddSpan(batch, 7, kNow - 10, kNow, /*trace=*/9);
  ASSERT_TRUE(SubmitAndWait("default", std::move(batch)).status.ok());
  Open(1 << 20);
  auto trace = store_->GetTrace(testing::TraceIdOf(9));
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->spans.spans.size(), 1u);
}

TEST_F(PipelineTest, AFullStoreIsReportedAsRetryable) {
  Open(/*max_pending_spans=*/1);
  auto batch = NewBatch();
  AddSpan(batch, 1, kNow - 10, kNow);
  AddSpan(batch, 2, kNow - 10, kNow);
  SubmitResult result = SubmitAndWait("default", std::move(batch));
  EXPECT_EQ(result.status.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(IsRetryable(result.status));
  EXPECT_EQ(metrics_.failed(), 2u);
  EXPECT_EQ(metrics_.accepted(), 0u);
}

TEST(IngestMetricsTest, PrometheusTextHasEveryCounter) {
  IngestMetrics metrics;
  metrics.AddReceived(10);
  metrics.AddAccepted(7);
  metrics.AddRejected(RejectReason::kEndBeforeStart, 3);
  metrics.RecordRequest("otlp_http", 200);
  metrics.RecordRequest("otlp_http", 200);
  metrics.RecordRequest("otlp_http", 401);
  std::string text;
  metrics.AppendPrometheus(&text);
  EXPECT_NE(text.find("ariadne_spans_received_total 10\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ariadne_spans_accepted_total 7\n"), std::string::npos);
  EXPECT_NE(text.find("ariadne_spans_rejected_total{reason=\"end_before_start\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("ariadne_ingest_requests_total{receiver=\"otlp_http\",code=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("ariadne_ingest_requests_total{receiver=\"otlp_http\",code=\"401\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(metrics.requests("otlp_http", 200), 2u);
}

}  // namespace
}  // namespace ariadne::pipeline
