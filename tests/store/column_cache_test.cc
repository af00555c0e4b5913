// ColumnCache with per-column entries: questions with different columns share a block's cached
// columns without growing entries to their union, and the block a lookup assembles from cached
// parts equals what ReadBlockColumns decodes from the file.
#include "store/embedded/column_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "columnar/batch_codec.h"
#include "columnar/block.h"
#include "common/env.h"
#include "tests/common/random_spans.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

using columnar::ApproximateBytes;
using columnar::Block;
using columnar::BlockBuilder;
using columnar::BlockMeta;
using columnar::ColumnSet;

struct FileBlock {
  std::string path;
  BlockMeta meta;
};

FileBlock WriteBlock(const std::string& dir, uint64_t seed, size_t spans) {
  testing::RandomSpans gen(seed);
  model::SpanBatch batch = gen.Batch(spans);
  BlockBuilder builder("prod");
  builder.Append(batch);
  std::shared_ptr<const Block> sealed = builder.Seal();
  BlockMeta meta = sealed->ComputeMeta();
  meta.id = seed;
  FileBlock f;
  f.path = dir + "/" + std::to_string(seed) + ".blk";
  EXPECT_TRUE(WriteFileAtomically(Env::Default(), f.path, EncodeBlockFile(*sealed, meta)).ok());
  f.meta = *columnar::ReadBlockMeta(Env::Default(), f.path);
  return f;
}

ColumnSet Fixed(uint32_t bits) {
  ColumnSet c;
  c.fixed = bits;
  return c;
}

// Every column of `a` and `b`, compared as the executor sees them; the tables through the rows
// that reference them (materialized spans, encoded).
void ExpectSameBlock(const Block& a, const Block& b, const ColumnSet& columns) {
  ASSERT_EQ(a.num_rows, b.num_rows);
  EXPECT_EQ(a.environment, b.environment);
  ColumnSet closed = columns;
  closed.Close();
  auto has = [&](uint32_t bit) { return closed.Has(bit); };
  // A file read may decode more than asked (the "name" section carries the resource column in
  // format 3); only the asked columns are compared, and they must all be there.
  if (has(ColumnSet::kTraceId)) EXPECT_EQ(a.trace_id, b.trace_id);
  if (has(ColumnSet::kSpanId)) EXPECT_EQ(a.span_id, b.span_id);
  if (has(ColumnSet::kParentSpanId)) EXPECT_EQ(a.parent_span_id, b.parent_span_id);
  if (has(ColumnSet::kStart)) EXPECT_EQ(a.start_unix_nano, b.start_unix_nano);
  if (has(ColumnSet::kEnd)) EXPECT_EQ(a.end_unix_nano, b.end_unix_nano);
  if (has(ColumnSet::kName)) {
    EXPECT_EQ(a.name.codes, b.name.codes);
    EXPECT_EQ(a.name.dict, b.name.dict);
  }
  if (has(ColumnSet::kKind)) EXPECT_EQ(a.kind, b.kind);
  if (has(ColumnSet::kStatusCode)) EXPECT_EQ(a.status_code, b.status_code);
  if (has(ColumnSet::kStatusMessage)) {
    EXPECT_EQ(a.status_message.codes, b.status_message.codes);
    EXPECT_EQ(a.status_message.dict, b.status_message.dict);
  }
  if (has(ColumnSet::kTraceState)) EXPECT_EQ(a.trace_state.codes, b.trace_state.codes);
  if (has(ColumnSet::kFlagsDropped)) {
    EXPECT_EQ(a.flags, b.flags);
    EXPECT_EQ(a.dropped_attributes, b.dropped_attributes);
    EXPECT_EQ(a.dropped_events, b.dropped_events);
    EXPECT_EQ(a.dropped_links, b.dropped_links);
  }
  if (has(ColumnSet::kResourceScope)) {
    EXPECT_EQ(a.resource, b.resource);
    EXPECT_EQ(a.scope, b.scope);
    EXPECT_EQ(a.tables.resources.size(), b.tables.resources.size());
    EXPECT_EQ(a.tables.scopes.size(), b.tables.scopes.size());
  }
  if (has(ColumnSet::kEventsLinks)) {
    EXPECT_EQ(a.events.size(), b.events.size());
    EXPECT_EQ(a.tables.events.size(), b.tables.events.size());
    EXPECT_EQ(a.tables.links.size(), b.tables.links.size());
  }
  ASSERT_EQ(a.attributes.size(), b.attributes.size());
  for (size_t i = 0; i < a.attributes.size(); ++i) {
    EXPECT_EQ(a.attributes[i].key, b.attributes[i].key);
    EXPECT_EQ(a.attributes[i].rows, b.attributes[i].rows);
    EXPECT_EQ(a.attributes[i].types, b.attributes[i].types);
    EXPECT_EQ(a.attributes[i].values, b.attributes[i].values);
    EXPECT_EQ(a.attributes[i].dict, b.attributes[i].dict);
  }
  if (columns.Contains(ColumnSet::All())) {
    std::vector<uint32_t> rows(a.num_rows);
    for (uint32_t r = 0; r < rows.size(); ++r) rows[r] = r;
    model::SpanBatch out_a, out_b;
    a.Materialize(rows, &out_a);
    b.Materialize(rows, &out_b);
    std::string enc_a, enc_b;
    columnar::EncodeSpanBatch(out_a, &enc_a);
    columnar::EncodeSpanBatch(out_b, &enc_b);
    EXPECT_EQ(enc_a, enc_b) << "materialized spans differ";
  } else if (columns.Has(ColumnSet::kResourceScope)) {
    for (size_t r = 0; r < a.num_rows; ++r) ASSERT_EQ(a.ServiceName(r), b.ServiceName(r));
  }
}

// Regression (docs/PERFORMANCE.md, "After v3"): one entry per block grew to the union of every
// question's columns, so one question over a third column made the entries of every block too
// big for the cache, whole blocks were evicted and the two usual questions missed from then on.
TEST(ColumnCachePerColumnTest, QuestionsWithDisjointColumnsShareBlocksWithoutThrashing) {
  testing::TempDir dir;
  std::vector<FileBlock> blocks;
  for (uint64_t i = 1; i <= 6; ++i) blocks.push_back(WriteBlock(dir.path(), i, 1500));
  const ColumnSet q1 = Fixed(ColumnSet::kStart);
  const ColumnSet q2 = Fixed(ColumnSet::kStatusCode | ColumnSet::kKind);
  const ColumnSet q3 = Fixed(ColumnSet::kTraceId);  // a one-off question, bigger than both
  uint64_t hot = 0;  // bytes of q1's and q2's columns in every block, one part per column
  for (const FileBlock& b : blocks)
    for (uint32_t bit : {ColumnSet::kStart, ColumnSet::kStatusCode, ColumnSet::kKind})
      hot += ApproximateBytes(**ReadBlockColumns(Env::Default(), b.path, b.meta, Fixed(bit)));
  // The protected segment (80 %) holds the columns q1 and q2 use; q3's do not fit beside them.
  ColumnCache cache(hot * 13 / 10);
  std::vector<ColumnSet> asked;
  auto ask = [&](const ColumnSet& q) {
    for (size_t i = 0; i < blocks.size(); ++i) {
      auto r = cache.Get(blocks[i].meta.id, q, [&](const ColumnSet& c) {
        asked.push_back(c);
        return ReadBlockColumns(Env::Default(), blocks[i].path, blocks[i].meta, c);
      });
      ASSERT_TRUE(r.ok());
      ASSERT_EQ((*r)->num_rows, blocks[i].meta.num_rows);
    }
  };
  for (int round = 0; round < 2; ++round) {
    ask(q1);
    ask(q2);
  }
  // Warm-up read each column once, and never re-read what was held.
  ASSERT_EQ(asked.size(), 2 * blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_EQ(asked[i].fixed, q1.fixed);
    EXPECT_EQ(asked[blocks.size() + i].fixed, q2.fixed);
  }
  ask(q3);
  EXPECT_GT(cache.Stats().evictions, 0u) << "q3's columns were meant not to fit";
  const uint64_t misses = cache.Stats().misses;
  asked.clear();
  for (int round = 0; round < 3; ++round) {
    ask(q1);
    ask(q2);
  }
  EXPECT_EQ(cache.Stats().misses, misses) << "the usual questions missed after warm-up";
  EXPECT_TRUE(asked.empty());
  EXPECT_LE(cache.Stats().bytes, cache.Stats().capacity_bytes);
}

// Differential: whatever the cache held before, the block a lookup hands out equals a decode of
// the same columns from the file.
TEST(ColumnCachePerColumnTest, AssembledBlockEqualsReadBlockColumns) {
  testing::TempDir dir;
  FileBlock block = WriteBlock(dir.path(), 7, 900);
  ColumnSet attr_a;
  attr_a.attributes = {"http.status_code", "no.such.key"};
  ColumnSet attr_b = Fixed(ColumnSet::kResourceScope | ColumnSet::kEnd);
  attr_b.attributes = {"http.route", "user.id"};
  const std::vector<ColumnSet> sequence = {
      Fixed(ColumnSet::kStart),
      attr_a,
      Fixed(ColumnSet::kParentSpanId | ColumnSet::kName),
      attr_b,
      Fixed(ColumnSet::kEventsLinks | ColumnSet::kTraceId),
      Fixed(ColumnSet::kResourceScope | ColumnSet::kEventsLinks | ColumnSet::kStatusMessage),
      ColumnSet::All(),
      Fixed(ColumnSet::kAllFixed),
      attr_b,
      ColumnSet::All(),
  };
  for (uint64_t capacity : {uint64_t{1} << 30, uint64_t{40000}}) {  // everything kept / evicting
    ColumnCache cache(capacity);
    for (const ColumnSet& q : sequence) {
      auto got = cache.Get(block.meta.id, q, [&](const ColumnSet& c) {
        return ReadBlockColumns(Env::Default(), block.path, block.meta, c);
      });
      ASSERT_TRUE(got.ok());
      auto want = ReadBlockColumns(Env::Default(), block.path, block.meta, q);
      ASSERT_TRUE(want.ok());
      SCOPED_TRACE("capacity " + std::to_string(capacity) + ", columns " + std::to_string(q.fixed) +
                   "+" + std::to_string(q.attributes.size()));
      ExpectSameBlock(**got, **want, q);
    }
    EXPECT_GT(cache.Stats().hits, 0u);
    EXPECT_LE(cache.Stats().bytes, capacity);
  }
}

// Regression (100 M spans, issue 11): the same question scanned more blocks than the cache holds,
// in the same order each time, so every entry was evicted before its next use and no warm query
// ever hit. Admission keeps a stable subset instead: about capacity / working set of the lookups
// hit from the second scan on. A question over columns never asked before still gets them kept
// (evicting the scan's), and the bytes counted are exactly the bytes of the parts held.
TEST(ColumnCachePerColumnTest, RepeatedScanLargerThanTheCacheKeepsAStableSubset) {
  testing::TempDir dir;
  std::vector<FileBlock> blocks;
  for (uint64_t i = 1; i <= 12; ++i) blocks.push_back(WriteBlock(dir.path(), i, 1500));
  const ColumnSet start = Fixed(ColumnSet::kStart);
  const ColumnUnit start_unit{ColumnSet::kStart, false, {}};
  std::vector<uint64_t> part_bytes;  // as the cache charges each block's start times
  for (const FileBlock& b : blocks)
    part_bytes.push_back(
        MakeCachedPart(**ReadBlockColumns(Env::Default(), b.path, b.meta, start), start_unit)
            ->Bytes());
  const uint64_t largest = *std::max_element(part_bytes.begin(), part_bytes.end());
  ColumnCache cache(largest * 4 + largest / 2);  // four of the twelve blocks' start times
  std::vector<int> loads(blocks.size());
  auto scan = [&](const ColumnSet& q, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      auto r = cache.Get(blocks[i].meta.id, q, [&](const ColumnSet& c) {
        ++loads[i];
        return ReadBlockColumns(Env::Default(), blocks[i].path, blocks[i].meta, c);
      });
      ASSERT_TRUE(r.ok());
      ASSERT_EQ((*r)->num_rows, blocks[i].meta.num_rows);
      if (q.Has(ColumnSet::kStart))
        EXPECT_EQ((*r)->start_unix_nano,
                  (*ReadBlockColumns(Env::Default(), blocks[i].path, blocks[i].meta, start))
                      ->start_unix_nano);
      EXPECT_LE(cache.Stats().bytes, cache.Stats().capacity_bytes);
    }
  };
  scan(start, blocks.size());  // cold: every block read once
  uint64_t hits = cache.Stats().hits;
  EXPECT_EQ(hits, 0u);
  for (int round = 0; round < 4; ++round) {
    scan(start, blocks.size());
    const uint64_t round_hits = cache.Stats().hits - hits;
    hits = cache.Stats().hits;
    EXPECT_GE(round_hits, 3u) << "round " << round << ": the scan thrashed the cache";
  }
  EXPECT_GT(cache.Stats().rejected, 0u);
  // The held entries: exactly the blocks whose start times a lookup finds without the loader.
  auto held = [&](size_t i) {
    auto r = cache.Get(blocks[i].meta.id, start, [](const ColumnSet&) {
      return Result<std::shared_ptr<const Block>>(Status::NotFound("not held"));
    });
    return r.ok();
  };
  uint64_t held_bytes = 0;
  size_t held_count = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (!held(i)) continue;
    held_bytes += part_bytes[i];
    ++held_count;
  }
  EXPECT_GE(held_count, 3u);
  EXPECT_EQ(cache.Stats().entries, held_count);
  EXPECT_EQ(cache.Stats().bytes, held_bytes) << "bytes counted differ from the parts held";
  // A question over columns never asked (two blocks' status codes) is kept, evicting what the
  // scan held, and then hits.
  const ColumnSet status = Fixed(ColumnSet::kStatusCode);
  std::fill(loads.begin(), loads.end(), 0);
  scan(status, 2);
  scan(status, 2);
  scan(status, 2);
  EXPECT_EQ(loads[0], 1);
  EXPECT_EQ(loads[1], 1);
  cache.SetCapacity(0);
  EXPECT_EQ(cache.Stats().bytes, 0u);
  EXPECT_EQ(cache.Stats().entries, 0u);
}

}  // namespace
}  // namespace ariadne::store::embedded
