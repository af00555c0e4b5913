#include "columnar/block.h"
#include "common/env_wrapper.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <sstream>

#include "columnar/coding.h"
#include "store/embedded/column_cache.h"
#include "store/embedded/column_parts.h"
#include "tests/store/store_test_util.h"

#include "tests/common/random_spans.h"
#include "tests/common/span_equality.h"

namespace ariadne::columnar {
namespace {

using store::embedded::ColumnCache;

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
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss);
    }
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

// Counts the bytes read through it; everything else goes to the POSIX Env.
class CountingEnv : public EnvWrapper {
 public:
  Result<std::string> ReadFile(const std::string& p) override {
    auto r = target()->ReadFile(p);
    if (r.ok()) bytes_read += r->size();
    return r;
  }
  Result<std::string> ReadFileRange(const std::string& p, uint64_t offset, size_t n) override {
    auto r = target()->ReadFileRange(p, offset, n);
    if (r.ok()) bytes_read += r->size();
    reads++;
    return r;
  }

  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> reads{0};
};

struct WrittenBlock {
  std::string path;
  std::string file;
  std::shared_ptr<const Block> sealed;
  model::SpanBatch batch;
};

WrittenBlock WriteBlock(const std::string& dir, uint64_t seed, size_t spans) {
  WrittenBlock w;
  testing::RandomSpans gen(seed);
  w.batch = gen.Batch(spans);
  BlockBuilder builder("prod");
  builder.Append(w.batch);
  w.sealed = builder.Seal();
  BlockMeta meta = w.sealed->ComputeMeta();
  meta.id = seed;
  w.file = EncodeBlockFile(*w.sealed, meta);
  w.path = dir + "/" + std::to_string(seed) + ".blk";
  EXPECT_TRUE(WriteFileAtomically(Env::Default(), w.path, w.file).ok());
  return w;
}

// Compaction writes with a stronger zstd level than sealing (block.h): the same block takes fewer
// bytes, and the file decodes to exactly the block the seal-level file holds.
TEST(BlockTest, CompactionLevelWritesSmallerFilesThatDecodeToTheSameBlock) {
  testing::RandomSpans gen(33);
  model::SpanBatch batch = gen.Batch(4000);
  BlockBuilder builder("prod");
  builder.Append(batch);
  std::shared_ptr<const Block> sealed = builder.Seal();
  BlockMeta meta = sealed->ComputeMeta();
  meta.id = 33;
  const std::string seal_file = EncodeBlockFile(*sealed, meta, kSealZstdLevel);
  const std::string compacted_file = EncodeBlockFile(*sealed, meta, kCompactionZstdLevel);
  EXPECT_LT(compacted_file.size(), seal_file.size());
  Result<std::shared_ptr<const Block>> decoded = DecodeBlockFile(compacted_file);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectBlockHoldsBatch(**decoded, batch);
  // Written again at the seal level, the decoded block gives the seal-level file byte for byte.
  EXPECT_EQ(EncodeBlockFile(**decoded, meta, kSealZstdLevel), seal_file);
}

TEST(BlockReadTest, ReadBlockMetaReadsOnlyTheFooterAndMeta) {
  testing::TempDir dir;
  WrittenBlock w = WriteBlock(dir.path(), 31, 3000);
  CountingEnv env;
  Result<BlockMeta> meta = ReadBlockMeta(&env, w.path);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  Result<BlockMeta> whole = DecodeBlockMeta(w.file);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(meta->num_rows, w.batch.spans.size());
  EXPECT_EQ(meta->format_version, 5u);
  EXPECT_TRUE(meta->has_stats);
  EXPECT_EQ(meta->file_bytes, w.file.size());
  EXPECT_EQ(meta->sections.size(), whole->sections.size());
  EXPECT_EQ(meta->stats.size(), whole->stats.size());
  EXPECT_EQ(meta->names, whole->names);
  EXPECT_EQ(env.reads.load(), 3u);  // header, footer, meta + directory
  // The meta holds the bloom filter and statistics; the column sections are most of the file.
  uint64_t sections = 0;
  for (const SectionInfo& s : meta->sections) sections += s.compressed;
  EXPECT_EQ(env.bytes_read.load(), w.file.size() - sections);
}

TEST(BlockReadTest, ReadBlockColumnsDecodesOnlyTheColumnsAskedFor) {
  testing::TempDir dir;
  WrittenBlock w = WriteBlock(dir.path(), 32, 2000);
  Result<BlockMeta> meta = ReadBlockMeta(Env::Default(), w.path);
  ASSERT_TRUE(meta.ok());
  ColumnSet needed;
  needed.fixed = ColumnSet::kEnd | ColumnSet::kName;
  needed.attributes = {"http.status_code", "not.there"};
  CountingEnv env;
  Result<std::shared_ptr<const Block>> part = ReadBlockColumns(&env, w.path, *meta, needed);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  const Block& b = **part;
  EXPECT_EQ(b.num_rows, w.sealed->num_rows);
  EXPECT_EQ(b.start_unix_nano, w.sealed->start_unix_nano);  // kEnd needs the start times
  EXPECT_EQ(b.end_unix_nano, w.sealed->end_unix_nano);
  ASSERT_EQ(b.name.codes.size(), w.sealed->name.codes.size());
  for (size_t r = 0; r < b.num_rows; ++r) EXPECT_EQ(b.name.at(r), w.sealed->name.at(r));
  EXPECT_TRUE(b.trace_id.empty());
  EXPECT_TRUE(b.span_id.empty());
  EXPECT_TRUE(b.scope.empty());  // (the resources come with the names from format version 3 on)
  EXPECT_TRUE(b.trace_state.codes.empty());
  EXPECT_TRUE(b.events.empty());
  ASSERT_EQ(b.attributes.size(), 1u);
  EXPECT_EQ(b.attributes[0].key, "http.status_code");
  EXPECT_LT(env.bytes_read.load(), w.file.size() / 2);
  // Every column: the same as decoding the whole file.
  Result<std::shared_ptr<const Block>> all =
      ReadBlockColumns(Env::Default(), w.path, *meta, ColumnSet::All());
  ASSERT_TRUE(all.ok());
  ExpectBlockHoldsBatch(**all, w.batch);
  // A damaged section is DataLoss when (and only when) it is read.
  std::string bad = w.file;
  const SectionInfo* trace_ids = nullptr;
  for (const SectionInfo& s : meta->sections)
    if (s.name == "trace_id") trace_ids = &s;
  ASSERT_NE(trace_ids, nullptr);
  bad[trace_ids->offset + 3] ^= 0x5A;
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), w.path, bad).ok());
  EXPECT_TRUE(ReadBlockColumns(Env::Default(), w.path, *meta, needed).ok());
  needed.fixed |= ColumnSet::kTraceId;
  Result<std::shared_ptr<const Block>> damaged =
      ReadBlockColumns(Env::Default(), w.path, *meta, needed);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss);
}

// A block file an older encoder wrote (tests/store/testdata/NAME, made from RandomSpans(seed) with
// 300 spans) reads whole and by column with the meta it was written with. Returns the whole block.
struct OldBlockFixture {
  const char* name;
  uint32_t format_version;
  uint64_t seed;
  const char* environment;
  uint64_t id;
  bool has_stats;
};

std::shared_ptr<const Block> ExpectOldBlockFileReads(const OldBlockFixture& fixture,
                                                     model::SpanBatch* batch) {
  const std::string path =
      std::string(ARIADNE_SOURCE_DIR) + "/tests/store/testdata/" + fixture.name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string file = buffer.str();
  EXPECT_GE(file.size(), 12u) << path;
  if (file.size() < 12) return nullptr;
  EXPECT_EQ(DecodeFixed32(file.data() + 8), fixture.format_version) << "the fixture's version";
  testing::RandomSpans gen(fixture.seed);
  *batch = gen.Batch(300);
  Result<std::shared_ptr<const Block>> whole = DecodeBlockFile(file);
  EXPECT_TRUE(whole.ok()) << whole.status().ToString();
  if (!whole.ok()) return nullptr;
  ExpectBlockHoldsBatch(**whole, *batch);
  Result<BlockMeta> meta = ReadBlockMeta(Env::Default(), path);
  EXPECT_TRUE(meta.ok()) << meta.status().ToString();
  if (!meta.ok()) return nullptr;
  EXPECT_EQ(meta->format_version, fixture.format_version);
  EXPECT_EQ(meta->has_stats, fixture.has_stats);
  EXPECT_EQ(meta->id, fixture.id);
  EXPECT_EQ(meta->environment, fixture.environment);
  EXPECT_EQ(meta->num_rows, batch->spans.size());
  Result<std::shared_ptr<const Block>> all =
      ReadBlockColumns(Env::Default(), path, *meta, ColumnSet::All());
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  if (all.ok()) ExpectBlockHoldsBatch(**all, *batch);
  return *whole;
}

// Version 1: before column statistics, so nothing is pruned by them.
TEST(BlockReadTest, VersionOneFileStillReads) {
  model::SpanBatch batch;
  ExpectOldBlockFileReads({"block_v1.blk", 1, 1101, "legacy", 7, false}, &batch);
}

// Version 2: varint columns, before integer columns; read with its statistics.
TEST(BlockReadTest, VersionTwoFileStillReads) {
  model::SpanBatch batch;
  std::shared_ptr<const Block> whole =
      ExpectOldBlockFileReads({"block_v2.blk", 2, 1102, "legacy2", 8, true}, &batch);
  ASSERT_NE(whole, nullptr);
  // Written again by the current encoder, the same block reads back the same.
  BlockMeta again = whole->ComputeMeta();
  Result<std::shared_ptr<const Block>> rewritten = DecodeBlockFile(EncodeBlockFile(*whole, again));
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  ExpectBlockHoldsBatch(**rewritten, batch);
}

// Version 3: integer columns, a meta without optional fields (no pre-aggregates); the sections are
// those of version 4. (The fixture is a version-4 file without optional fields, with the header's
// version set to 3: byte for byte what the version-3 encoder wrote.)
TEST(BlockReadTest, VersionThreeFileStillReads) {
  model::SpanBatch batch;
  std::shared_ptr<const Block> whole =
      ExpectOldBlockFileReads({"block_v3.blk", 3, 1103, "legacy3", 9, true}, &batch);
  ASSERT_NE(whole, nullptr);
  Result<BlockMeta> meta = ReadBlockMeta(
      Env::Default(), std::string(ARIADNE_SOURCE_DIR) + "/tests/store/testdata/block_v3.blk");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->pre_aggregates, nullptr);
}

TEST(BlockReadTest, StatisticsDescribeTheColumns) {
  model::SpanBatch b;
  uint32_t svc = 0;
  b.attributes.push_back({"service.name", model::Value::String("cart")});
  b.resources.push_back({{svc, 1}, 0, {}});
  b.scopes.push_back({});
  auto add_span = [&](uint8_t id, std::vector<model::KeyValue> attrs, uint64_t duration) {
    model::Span s;
    s.trace_id.bytes[0] = id;
    s.span_id.bytes[0] = id;
    s.start_time_unix_nano = 1000;
    s.end_time_unix_nano = 1000 + duration;
    s.attributes.begin = static_cast<uint32_t>(b.attributes.size());
    for (auto& kv : attrs) b.attributes.push_back(kv);
    s.attributes.count = static_cast<uint32_t>(attrs.size());
    b.spans.push_back(s);
  };
  add_span(1, {{"code", model::Value::Int(-5)}, {"route", model::Value::String("/a")}}, 10);
  add_span(2, {{"code", model::Value::Int(700)}, {"ratio", model::Value::Double(2.5)}}, 3000);
  add_span(3, {{"code", model::Value::Double(1.5)}, {"service.name", model::Value::String("x")}},
           7);
  add_span(4, {{"service.name", model::Value{}}}, 0);
  BlockBuilder builder("prod");
  builder.Append(b);
  BlockMeta meta = builder.Seal()->ComputeMeta();
  Result<BlockMeta> read = DecodeBlockMeta(EncodeBlockFile(*builder.Seal(), meta));
  ASSERT_TRUE(read.ok());
  const ColumnStats& code = read->stats.at("code");
  EXPECT_EQ(code.present_rows, 3u);
  EXPECT_TRUE(code.has_int && code.has_double);
  EXPECT_EQ(code.int_min, -5);
  EXPECT_EQ(code.int_max, 700);
  EXPECT_EQ(code.double_min, 1.5);
  EXPECT_FALSE(code.has_strings);
  const ColumnStats& route = read->stats.at("route");
  EXPECT_EQ(route.present_rows, 1u);
  EXPECT_TRUE(route.strings_complete);
  EXPECT_EQ(route.strings, std::vector<std::string>{"/a"});
  // service.name: "cart" from the resource, "x" from one span, and one span's empty value hides it.
  const ColumnStats& service = read->stats.at("service.name");
  EXPECT_EQ(service.present_rows, 3u);
  EXPECT_EQ(service.strings, (std::vector<std::string>{"cart", "x"}));
  EXPECT_EQ(read->min_duration_nano, 0u);
  EXPECT_EQ(read->max_duration_nano, 3000u);
  EXPECT_TRUE(read->names_complete);
  EXPECT_EQ(read->names, std::vector<std::string>{""});
}

TEST(ColumnCacheTest, BoundedInBytesLeastRecentlyUsedGoesFirst) {
  testing::TempDir dir;
  std::vector<WrittenBlock> blocks;
  std::vector<BlockMeta> metas;
  for (uint64_t i = 1; i <= 6; ++i) {
    blocks.push_back(WriteBlock(dir.path(), i, 1500));
    metas.push_back(*ReadBlockMeta(Env::Default(), blocks.back().path));
  }
  ColumnSet start;
  start.fixed = ColumnSet::kStart;
  // What the cache charges for one block's start times (kept narrowed: column_parts.h).
  const uint64_t one = store::embedded::MakeCachedPart(
                           **ReadBlockColumns(Env::Default(), blocks[0].path, metas[0], start),
                           store::embedded::ColumnUnit{ColumnSet::kStart, false, {}})
                           ->Bytes();
  ColumnCache cache(one * 3 + one / 2);  // room for three blocks' start times
  int loads = 0;
  auto get = [&](size_t i, const ColumnSet& cols) {
    auto r = cache.Get(i + 1, cols, [&](const ColumnSet& c) {
      ++loads;
      return ReadBlockColumns(Env::Default(), blocks[i].path, metas[i], c);
    });
    EXPECT_TRUE(r.ok());
    return *r;
  };
  for (size_t i = 0; i < 6; ++i) {
    get(i, start);
    EXPECT_LE(cache.Stats().bytes, cache.Stats().capacity_bytes);
  }
  EXPECT_EQ(loads, 6);
  EXPECT_EQ(cache.Stats().entries, 3u);
  EXPECT_EQ(cache.Stats().evictions, 3u);
  get(5, start);  // kept: no load
  EXPECT_EQ(loads, 6);
  get(0, start);  // evicted: loads again
  EXPECT_EQ(loads, 7);
  EXPECT_EQ(cache.Stats().hits, 1u);
  EXPECT_EQ(cache.Stats().misses, 7u);
  // Asking for more columns decodes the missing ones together with those the entry held.
  ColumnSet more = start;
  more.attributes = {"http.status_code"};
  std::shared_ptr<const Block> b = get(0, more);
  EXPECT_EQ(loads, 8);
  EXPECT_EQ(b->start_unix_nano, blocks[0].sealed->start_unix_nano);
  ASSERT_EQ(b->attributes.size(), 1u);
  get(0, start);
  get(0, more);
  EXPECT_EQ(loads, 8);
  // A block bigger than the whole cache is handed out but not kept.
  ColumnCache tiny(100);
  auto r = tiny.Get(1, start, [&](const ColumnSet& c) {
    return ReadBlockColumns(Env::Default(), blocks[0].path, metas[0], c);
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->start_unix_nano.size(), blocks[0].sealed->num_rows);
  EXPECT_EQ(tiny.Stats().bytes, 0u);
  EXPECT_EQ(tiny.Stats().entries, 0u);
}

// Regression: the cache was plain LRU, so one query over more blocks than fit evicted the blocks
// every query used, and each later query missed on all of them.
TEST(ColumnCacheTest, OneOffScanLargerThanTheCacheKeepsBlocksUsedTwice) {
  testing::TempDir dir;
  std::vector<WrittenBlock> blocks;
  std::vector<BlockMeta> metas;
  for (uint64_t i = 1; i <= 12; ++i) {
    blocks.push_back(WriteBlock(dir.path(), i, 1500));
    metas.push_back(*ReadBlockMeta(Env::Default(), blocks.back().path));
  }
  ColumnSet start;
  start.fixed = ColumnSet::kStart;
  uint64_t largest = 0;
  for (size_t i = 0; i < blocks.size(); ++i)
    largest =
        std::max(largest, store::embedded::MakeCachedPart(
                              **ReadBlockColumns(Env::Default(), blocks[i].path, metas[i], start),
                              store::embedded::ColumnUnit{ColumnSet::kStart, false, {}})
                              ->Bytes());        // as the cache charges it (narrowed)
  ColumnCache cache(largest * 4 + largest / 2);  // room for four blocks' start times
  std::vector<int> loads(blocks.size());
  auto get = [&](size_t i) {
    auto r = cache.Get(i + 1, start, [&](const ColumnSet& c) {
      ++loads[i];
      return ReadBlockColumns(Env::Default(), blocks[i].path, metas[i], c);
    });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->start_unix_nano, blocks[i].sealed->start_unix_nano);
    EXPECT_LE(cache.Stats().bytes, cache.Stats().capacity_bytes);
  };
  // The hot set: blocks 0 and 1, each used twice.
  for (int round = 0; round < 2; ++round) {
    get(0);
    get(1);
  }
  EXPECT_EQ(loads[0], 1);
  EXPECT_EQ(loads[1], 1);
  EXPECT_GT(cache.Stats().protected_bytes, 0u);
  // One query scans ten other blocks once: more than twice what the cache holds.
  for (size_t i = 2; i < blocks.size(); ++i) get(i);
  EXPECT_GE(cache.Stats().evictions, 6u) << "the scan did not fit";
  // The hot set is still in memory.
  const uint64_t hits_before = cache.Stats().hits;
  get(0);
  get(1);
  EXPECT_EQ(loads[0], 1) << "a one-off scan evicted a block used twice";
  EXPECT_EQ(loads[1], 1) << "a one-off scan evicted a block used twice";
  EXPECT_EQ(cache.Stats().hits, hits_before + 2);
  // Erase and a smaller capacity keep the byte accounting exact.
  cache.Erase(1);
  cache.SetCapacity(largest + largest / 2);
  EXPECT_LE(cache.Stats().bytes, cache.Stats().capacity_bytes);
  EXPECT_LE(cache.Stats().protected_bytes, cache.Stats().bytes);
  cache.SetCapacity(0);
  EXPECT_EQ(cache.Stats().bytes, 0u);
  EXPECT_EQ(cache.Stats().protected_bytes, 0u);
  EXPECT_EQ(cache.Stats().entries, 0u);
}

}  // namespace
}  // namespace ariadne::columnar
