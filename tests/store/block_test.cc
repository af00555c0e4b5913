#include "store/embedded/block.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/common/random_spans.h"
#include "tests/common/span_equality.h"

namespace ariadne::store::embedded {
namespace {

using SpanKey = std::pair<model::TraceId, model::SpanId>;

std::map<SpanKey, size_t> IndexSpans(const model::SpanBatch& b) {
  std::map<SpanKey, size_t> index;
  for (size_t i = 0; i < b.spans.size(); ++i) index[{b.spans[i].trace_id, b.spans[i].span_id}] = i;
  return index;
}

void ExpectBlockHoldsBatch(const Block& block, const model::SpanBatch& original) {
  std::vector<uint32_t> all(block.num_rows);
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  model::SpanBatch out;
  block.Materialize(all, &out);
  ASSERT_EQ(out.spans.size(), original.spans.size());
  auto index = IndexSpans(original);
  for (const model::Span& s : out.spans) {
    auto it = index.find({s.trace_id, s.span_id});
    ASSERT_NE(it, index.end());
    testing::ExpectSameSpan(original, original.spans[it->second], out, s);
  }
}

TEST(BlockTest, HeadMaterializesEverySpanItWasGiven) {
  testing::RandomSpans gen(1);
  model::SpanBatch batch = gen.Batch(500);
  BlockBuilder builder("prod");
  builder.Append(batch);
  ExpectBlockHoldsBatch(builder.block(), batch);
  std::vector<uint32_t> rows = builder.RowsOfTrace(batch.spans[0].trace_id);
  EXPECT_FALSE(rows.empty());
  for (uint32_t row : rows) EXPECT_EQ(builder.block().trace_id[row], batch.spans[0].trace_id);
}

TEST(BlockTest, SealedBlockIsSortedByTraceAndKeepsEveryField) {
  testing::RandomSpans gen(2);
  model::SpanBatch batch = gen.Batch(800);
  BlockBuilder builder("prod");
  builder.Append(batch);
  std::shared_ptr<const Block> sealed = builder.Seal();
  for (size_t r = 1; r < sealed->num_rows; ++r)
    EXPECT_FALSE(sealed->trace_id[r] < sealed->trace_id[r - 1]);
  ExpectBlockHoldsBatch(*sealed, batch);
  std::vector<uint32_t> rows = sealed->SortedRowsOfTrace(batch.spans[5].trace_id);
  EXPECT_EQ(rows.size(), builder.RowsOfTrace(batch.spans[5].trace_id).size());
}

TEST(BlockTest, FileRoundTripPreservesEverySpanAndTheMeta) {
  testing::RandomSpans gen(3);
  model::SpanBatch first = gen.Batch(700);
  model::SpanBatch second = gen.Batch(300);
  BlockBuilder builder("staging");
  builder.Append(first);
  builder.Append(second);
  std::shared_ptr<const Block> sealed = builder.Seal();
  BlockMeta meta = sealed->ComputeMeta();
  meta.id = 42;
  meta.checkpoint = 7;
  std::string file = EncodeBlockFile(*sealed, meta);

  Result<BlockMeta> read_meta = DecodeBlockMeta(file);
  ASSERT_TRUE(read_meta.ok()) << read_meta.status().ToString();
  EXPECT_EQ(read_meta->id, 42u);
  EXPECT_EQ(read_meta->checkpoint, 7u);
  EXPECT_EQ(read_meta->environment, "staging");
  EXPECT_EQ(read_meta->num_rows, first.spans.size() + second.spans.size());
  EXPECT_EQ(read_meta->min_start_unix_nano, meta.min_start_unix_nano);
  EXPECT_EQ(read_meta->services.size(), meta.services.size());
  for (const model::Span& s : first.spans) EXPECT_TRUE(read_meta->bloom.MayContain(s.trace_id));

  Result<std::shared_ptr<const Block>> decoded = DecodeBlockFile(file);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  model::SpanBatch both = first.Clone();
  for (size_t i = 0; i < second.spans.size(); ++i) {
    uint32_t r = both.CopyResourceFrom(second, second.spans[i].resource_index);
    uint32_t s = both.CopyScopeFrom(second, second.spans[i].scope_index);
    both.CopySpanFrom(second, i, r, s);
  }
  ExpectBlockHoldsBatch(**decoded, both);
}

TEST(BlockTest, BloomFilterRejectsMostAbsentTraces) {
  testing::RandomSpans gen(4);
  BlockBuilder builder("prod");
  builder.Append(gen.Batch(5000));
  BlockMeta meta = builder.Seal()->ComputeMeta();
  testing::RandomSpans other(999);
  model::SpanBatch absent = other.Batch(2000);
  int false_positives = 0;
  for (const model::Span& s : absent.spans) false_positives += meta.bloom.MayContain(s.trace_id);
  EXPECT_LT(false_positives, 2000 / 50);  // ~1% expected at 10 bits per trace
}

TEST(BlockTest, CorruptFilesAreReportedAsDataLoss) {
  testing::RandomSpans gen(5);
  BlockBuilder builder("prod");
  builder.Append(gen.Batch(100));
  std::shared_ptr<const Block> sealed = builder.Seal();
  std::string file = EncodeBlockFile(*sealed, sealed->ComputeMeta());
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) {
    std::string bad = file;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    Result<std::shared_ptr<const Block>> decoded = DecodeBlockFile(bad);
    if (!decoded.ok()) EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss);
  }
  EXPECT_FALSE(DecodeBlockFile(file.substr(0, file.size() / 2)).ok());
}

TEST(BlockTest, DuplicateAttributeKeyInOneSpanKeepsTheLastValue) {
  model::SpanBatch b;
  b.resources.push_back({});
  b.scopes.push_back({});
  b.attributes.push_back({"k", model::Value::Int(1)});
  b.attributes.push_back({"k", model::Value::String(b.arena.Copy("two"))});
  model::Span s;
  s.trace_id.bytes[0] = 1;
  s.span_id.bytes[0] = 1;
  s.attributes = {0, 2};
  b.spans.push_back(s);
  BlockBuilder builder("prod");
  builder.Append(b);
  model::SpanBatch out;
  builder.block().Materialize({0}, &out);
  ASSERT_EQ(out.spans[0].attributes.count, 1u);
  EXPECT_EQ(out.attributes[0].value.str, "two");
}

// Regression (issue 10, item 6): the attribute dictionary switches to raw strings once it holds
// more than 16,384 distinct values; the switch freed the map while the code of the value being
// appended was still read from it (heap use after free under ASan, a wrong code otherwise).
TEST(BlockTest, HighCardinalityStringAttributeKeepsEveryValueAcrossTheRawSwitch) {
  constexpr size_t kSpans = 40000;  // well past the 16,384-value switch
  model::SpanBatch b;
  b.resources.push_back({});
  b.scopes.push_back({});
  for (size_t i = 0; i < kSpans; ++i) {
    model::Span s;
    s.trace_id.bytes[0] = 1;
    s.trace_id.bytes[1] = static_cast<uint8_t>(i);
    s.trace_id.bytes[2] = static_cast<uint8_t>(i >> 8);
    s.trace_id.bytes[3] = static_cast<uint8_t>(i >> 16);
    s.span_id.bytes[0] = 1;
    s.attributes = {static_cast<uint32_t>(b.attributes.size()), 2};
    b.attributes.push_back(
        {"request.id", model::Value::String(b.arena.Copy("req-" + std::to_string(i)))});
    b.attributes.push_back(
        {"http.route", model::Value::String(b.arena.Copy("/r" + std::to_string(i % 7)))});
    b.spans.push_back(s);
  }
  BlockBuilder builder("prod");
  builder.Append(b);
  ExpectBlockHoldsBatch(builder.block(), b);
  std::shared_ptr<const Block> sealed = builder.Seal();
  ExpectBlockHoldsBatch(*sealed, b);
  Result<std::shared_ptr<const Block>> decoded =
      DecodeBlockFile(EncodeBlockFile(*sealed, sealed->ComputeMeta()));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectBlockHoldsBatch(**decoded, b);
}

}  // namespace
}  // namespace ariadne::store::embedded
