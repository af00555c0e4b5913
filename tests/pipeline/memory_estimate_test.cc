// The ingest memory estimates against the heap they stand for, measured with glibc's allocator
// statistics (mallinfo2: bytes in use, in arenas and mmap'd chunks) around the real decoders and
// the real head builder:
//   - EstimateBatchBytes (pipeline/inflight_budget.h) of a decoded batch is within ±25 % of the
//   heap
//     the decoder allocated for it: realistic OTLP protobuf (ariadne-gen's spans) and X-Ray
//     segment documents (PutTraceSegments merges many into one batch);
//   - kHeadBytesPerSpan (cli/memory_budget.h), from which the head share's seal size follows, is
//     within ±25 % of the heap a live head holds per realistic span plus the sorted copy sealing
//     makes of it (a head share holds three heads' worth: live, sealing and its sorted copy).
// Figures go to stdout (docs/PERFORMANCE.md, ingest section, quotes them).
#include <malloc.h>

#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "cli/memory_budget.h"
#include "columnar/block.h"
#include "pipeline/inflight_budget.h"
#include "receivers/otlp/otlp_codec.h"
#include "receivers/xray/segment_decoder.h"
#include "tools/gen/otlp_request.h"
#include "tools/gen/realistic_spans.h"

namespace ariadne::pipeline {
namespace {

// Bytes the allocator has handed out and not had back (all arenas, mmap'd chunks included).
size_t HeapInUse() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

bool UnderSanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
  return true;
#endif
#endif
  return false;
}

void ExpectWithin25Percent(double estimate, double measured, const std::string& what) {
  std::printf("%s: estimate %.0f bytes, measured %.0f bytes (ratio %.2f)\n", what.c_str(), estimate,
              measured, estimate / measured);
  EXPECT_GE(estimate, measured * 0.75) << what << ": estimate too low";
  EXPECT_LE(estimate, measured * 1.25) << what << ": estimate too high";
}

class MemoryEstimateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (UnderSanitizer()) GTEST_SKIP() << "the sanitizer's allocator does not keep mallinfo2";
  }
};

TEST_F(MemoryEstimateTest, OtlpProtobufBatchEstimateIsWithinAQuarterOfTheHeap) {
  gen::RealisticSpans spans(7);
  {
    // The first decode may set up what the decoder keeps for later ones: not the batch's memory.
    auto warm = receivers::otlp::DecodeProtobufRequest(
        std::make_shared<const std::string>(gen::EncodeOtlpRequest(spans.Batch(10))));
    ASSERT_TRUE(warm.ok());
  }
  for (size_t size : {100, 1000, 5000}) {
    auto body = std::make_shared<const std::string>(gen::EncodeOtlpRequest(spans.Batch(size)));
    const size_t before = HeapInUse();
    auto decoded = receivers::otlp::DecodeProtobufRequest(body);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    const size_t measured = HeapInUse() - before;
    // The batch retains the body (zero-copy); the pipeline counts it as the request's bytes.
    ExpectWithin25Percent(static_cast<double>(EstimateBatchBytes(decoded->batch)),
                          static_cast<double>(measured),
                          "OTLP protobuf, " + std::to_string(decoded->batch.spans.size()) +
                              " spans (body " + std::to_string(body->size()) + " bytes)");
  }
}

// A segment with an HTTP block, AWS fields, annotations, metadata and two subsegments: the shape
// the AWS SDKs send.
std::string SegmentDocument(int n) {
  char trace[64];
  std::snprintf(trace, sizeof(trace), "1-5f84c7a1-%024x", n + 1);
  char id[17];
  std::snprintf(id, sizeof(id), "%016x", 0x1000 + n * 4);
  char sub1[17];
  std::snprintf(sub1, sizeof(sub1), "%016x", 0x1000 + n * 4 + 1);
  char sub2[17];
  std::snprintf(sub2, sizeof(sub2), "%016x", 0x1000 + n * 4 + 2);
  const double start = 1764000000.0 + n * 0.01;
  std::string doc =
      R"({"name":"checkout-)" + std::to_string(n % 20) + R"(","id":")" + id + R"(","trace_id":")" +
      trace + R"(","start_time":)" + std::to_string(start) + R"(,"end_time":)" +
      std::to_string(start + 0.042) +
      R"(,"origin":"AWS::ECS::Container","http":{"request":{"method":"POST",)"
      R"("url":"https://api.example.com/cart/)" +
      std::to_string(n) + R"(/checkout","client_ip":"10.0.)" + std::to_string(n % 250) +
      R"(.7","user_agent":"Mozilla/5.0 X11 Linux x86_64"},)"
      R"("response":{"status":200,"content_length":)" +
      std::to_string(300 + n % 700) +
      R"(}},"aws":{"ecs":{"container":"checkout-7d9f"},"xray":{"sdk":"X-Ray for Java",)"
      R"("sdk_version":"2.4.0"}},"annotations":{"customer_tier":"gold","cart_items":)" +
      std::to_string(n % 9) + R"(,"user_id":"user-)" + std::to_string(n % 10000) +
      R"("},"metadata":{"debug":{"region":"eu-west-1","retries":0}},)"
      R"("subsegments":[{"name":"DynamoDB","id":")" +
      sub1 + R"(","start_time":)" + std::to_string(start + 0.001) + R"(,"end_time":)" +
      std::to_string(start + 0.011) +
      R"(,"namespace":"aws","aws":{"operation":"GetItem","table_name":"carts",)"
      R"("region":"eu-west-1","request_id":"R)" +
      std::to_string(n) +
      R"(ABCDEFGHIJ"},"http":{"response":{"status":200}}},{"name":"payments.internal",)"
      R"("id":")" +
      sub2 + R"(","start_time":)" + std::to_string(start + 0.012) + R"(,"end_time":)" +
      std::to_string(start + 0.040) +
      R"(,"namespace":"remote","http":{"request":{"method":"POST",)"
      R"("url":"http://payments.internal/charge"},"response":{"status":200}}}]})";
  return doc;
}

TEST_F(MemoryEstimateTest, XRaySegmentBatchEstimateIsWithinAQuarterOfTheHeap) {
  {
    // The first decode sets up the JSON parser the decoder keeps per thread: not the batch's.
    model::SpanBatch warm;
    ASSERT_TRUE(receivers::xray::DecodeSegmentDocument(SegmentDocument(0), &warm).ok());
  }
  for (int documents : {10, 100, 1000}) {
    std::vector<std::string> texts;
    for (int i = 0; i < documents; ++i) texts.push_back(SegmentDocument(i));
    const size_t before = HeapInUse();
    model::SpanBatch batch;
    for (const std::string& text : texts) {
      auto decoded = receivers::xray::DecodeSegmentDocument(text, &batch);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString() << "\n" << text;
    }
    const size_t measured = HeapInUse() - before;
    ExpectWithin25Percent(static_cast<double>(EstimateBatchBytes(batch)),
                          static_cast<double>(measured),
                          "X-Ray, " + std::to_string(documents) + " documents, " +
                              std::to_string(batch.spans.size()) + " spans");
  }
}

TEST_F(MemoryEstimateTest, HeadBytesPerSpanIsWithinAQuarterOfALiveHeadAndItsSealedCopy) {
  gen::RealisticSpans spans(11);
  constexpr size_t kSpans = 40000;
  std::vector<model::SpanBatch> batches;
  size_t total = 0;
  while (total < kSpans) {
    batches.push_back(spans.Batch(500));
    total += batches.back().spans.size();
  }
  const size_t before = HeapInUse();
  auto head = std::make_unique<columnar::BlockBuilder>("default");
  for (const model::SpanBatch& b : batches) head->Append(b);
  const size_t live = HeapInUse() - before;
  std::shared_ptr<const columnar::Block> sealed = head->Seal();
  const size_t both = HeapInUse() - before;
  std::printf(
      "head: %zu spans, live head %zu bytes (%.0f per span), with its sorted copy %zu bytes "
      "(%.0f per span); ApproximateBytes(live) %llu\n",
      total, live, static_cast<double>(live) / total, both, static_cast<double>(both) / total,
      static_cast<unsigned long long>(columnar::ApproximateBytes(head->block())));
  // The head share is three heads' worth (memory_budget.h): the live one, the one being sealed
  // and the sealed copy; per span that is one live head plus (live head + copy) in sealing.
  ExpectWithin25Percent(static_cast<double>(cli::kHeadBytesPerSpan) * 3,
                        static_cast<double>(live + both) / total,
                        "head bytes per span (live + sealing + sorted copy)");
}

}  // namespace
}  // namespace ariadne::pipeline
