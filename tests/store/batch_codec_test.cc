#include "columnar/batch_codec.h"

#include <gtest/gtest.h>

#include "tests/common/random_spans.h"
#include "tests/common/span_equality.h"

namespace ariadne::columnar {
namespace {

TEST(BatchCodecTest, RandomBatchesRoundTripFieldForField) {
  testing::RandomSpans gen(7);
  for (int round = 0; round < 20; ++round) {
    model::SpanBatch batch = gen.Batch(50 + round * 10);
    std::string bytes;
    EncodeSpanBatch(batch, &bytes);
    Result<model::SpanBatch> decoded = DecodeSpanBatch(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ASSERT_EQ(decoded->spans.size(), batch.spans.size());
    for (size_t i = 0; i < batch.spans.size(); ++i)
      testing::ExpectSameSpan(batch, batch.spans[i], *decoded, decoded->spans[i]);
  }
}

TEST(BatchCodecTest, EveryTruncationIsRejectedWithoutCrashing) {
  testing::RandomSpans gen(8);
  model::SpanBatch batch = gen.Batch(5);
  std::string bytes;
  EncodeSpanBatch(batch, &bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    Result<model::SpanBatch> decoded = DecodeSpanBatch(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(decoded.ok()) << "cut at " << cut;
  }
}

TEST(BatchCodecTest, CorruptIndexesAreDataLossNotUndefinedBehaviour) {
  testing::RandomSpans gen(9);
  model::SpanBatch batch = gen.Batch(3);
  std::string bytes;
  EncodeSpanBatch(batch, &bytes);
  std::mt19937 rng(1);
  int failures = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string mutated = bytes;
    mutated[rng() % mutated.size()] ^= static_cast<char>(1 + rng() % 255);
    Result<model::SpanBatch> decoded = DecodeSpanBatch(mutated);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss);
      ++failures;
    } else {
      for (const model::Span& s : decoded->spans) {
        EXPECT_LT(s.resource_index, decoded->resources.size());
        EXPECT_LE(s.attributes.end(), decoded->attributes.size());
      }
    }
  }
  EXPECT_GT(failures, 0);
}

}  // namespace
}  // namespace ariadne::columnar
