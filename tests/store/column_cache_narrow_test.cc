// Narrowed cache parts (column_parts.h: CachedPart): the column cache keeps end times as 32-bit
// durations, start times as 32-bit offsets, resource/scope indices and dictionary codes as bytes
// and attribute columns as one type with 16- or 32-bit values (without row numbers when every row
// has the key), and widens them again on every lookup. These tests check that
// - every narrowed unit, widened, equals what ReadBlockColumns decodes from the file (with the
//   exceptions: spans that end before they start or last longer than 2^32 ns, attribute values
//   of 2^16 and more, keys on every row, mixed types), and that narrowing makes the parts smaller;
// - a working set that does not fit as plain parts fits narrowed, so repeated questions stop
//   reading the file (the 10M-span regression of issue #11);
// - blocks handed out stay valid and unchanged while other threads evict and re-read the same
//   columns (run under ASan: build-asan).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "columnar/block.h"
#include "common/env.h"
#include "store/embedded/column_cache.h"
#include "store/embedded/column_parts.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

using columnar::ApproximateBytes;
using columnar::Block;
using columnar::BlockBuilder;
using columnar::BlockMeta;
using columnar::ColumnSet;

constexpr uint64_t kBase = 1'700'000'000'000'000'000ULL;

// `n` spans over 6 services and 40 span names; a few spans end before they start or last
// longer than 2^32 ns; `flag` is bool, `code` a small int, `big` an int past 2^16 on some rows,
// `mixed` int or string.
model::SpanBatch MakeBatch(size_t n, uint64_t seed) {
  model::SpanBatch b;
  auto text = [&](const std::string& s) { return b.arena.Copy(s); };
  for (int r = 0; r < 6; ++r) {
    const uint32_t begin = static_cast<uint32_t>(b.attributes.size());
    b.attributes.push_back(
        {text("service.name"), model::Value::String(text("svc-" + std::to_string(r)))});
    b.resources.push_back(model::Resource{{begin, 1}, 0, {}});
  }
  b.scopes.push_back(model::Scope{text("test"), text("1"), {0, 0}, 0, {}});
  for (size_t i = 0; i < n; ++i) {
    const uint64_t id = seed * 1'000'000 + i;
    model::Span s;
    const uint64_t trace = id / 4 + 1, span = id + 1;
    std::memcpy(s.trace_id.bytes.data(), &trace, 8);
    std::memcpy(s.span_id.bytes.data(), &span, 8);
    s.resource_index = static_cast<uint32_t>(i % 6);
    s.name = text("op-" + std::to_string(i % 40));
    s.start_time_unix_nano = kBase + i * 1'000'000;
    s.end_time_unix_nano = s.start_time_unix_nano + (i * 7919) % 50'000'000;
    if (i % 500 == 3) s.end_time_unix_nano = s.start_time_unix_nano - 5;             // before start
    if (i % 700 == 9) s.end_time_unix_nano = s.start_time_unix_nano + (6ULL << 30);  // > 2^32 ns
    s.attributes.begin = static_cast<uint32_t>(b.attributes.size());
    if (i % 3 != 0) b.attributes.push_back({text("flag"), model::Value::Bool(i % 5 < 2)});
    if (i % 2 == 0)
      b.attributes.push_back({text("code"), model::Value::Int(static_cast<int64_t>(200 + i % 4))});
    b.attributes.push_back(
        {text("big"), model::Value::Int(i % 100 == 0 ? 70000 : static_cast<int64_t>(i % 9))});
    if (i % 4 == 0) {
      b.attributes.push_back({text("mixed"), model::Value::Int(5)});
    } else if (i % 4 == 1) {
      b.attributes.push_back({text("mixed"), model::Value::String(text("five"))});
    }
    s.attributes.count = static_cast<uint32_t>(b.attributes.size()) - s.attributes.begin;
    b.spans.push_back(s);
  }
  return b;
}

struct FileBlock {
  std::string path;
  BlockMeta meta;
};

FileBlock WriteBlock(const std::string& dir, uint64_t id, size_t spans) {
  BlockBuilder builder("prod");
  builder.Append(MakeBatch(spans, id));
  std::shared_ptr<const Block> sealed = builder.Seal();
  BlockMeta meta = sealed->ComputeMeta();
  meta.id = id;
  FileBlock f;
  f.path = dir + "/" + std::to_string(id) + ".blk";
  EXPECT_TRUE(WriteFileAtomically(Env::Default(), f.path, EncodeBlockFile(*sealed, meta)).ok());
  f.meta = *columnar::ReadBlockMeta(Env::Default(), f.path);
  return f;
}

ColumnSet Columns(uint32_t bits, std::vector<std::string> keys = {}) {
  ColumnSet c;
  c.fixed = bits;
  c.attributes.insert(keys.begin(), keys.end());
  return c;
}

std::shared_ptr<const Block> Read(const FileBlock& f, const ColumnSet& c) {
  auto r = columnar::ReadBlockColumns(Env::Default(), f.path, f.meta, c);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

// The columns the question `c` reads, equal in `a` and `b`.
void ExpectSame(const Block& a, const Block& b, const ColumnSet& c) {
  ASSERT_EQ(a.num_rows, b.num_rows);
  if (c.Has(ColumnSet::kStart)) EXPECT_EQ(a.start_unix_nano, b.start_unix_nano);
  if (c.Has(ColumnSet::kEnd)) EXPECT_EQ(a.end_unix_nano, b.end_unix_nano);
  if (c.Has(ColumnSet::kName)) {
    EXPECT_EQ(a.name.codes, b.name.codes);
    EXPECT_EQ(a.name.dict, b.name.dict);
  }
  if (c.Has(ColumnSet::kTraceState)) {
    EXPECT_EQ(a.trace_state.codes, b.trace_state.codes);
    EXPECT_EQ(a.trace_state.dict, b.trace_state.dict);
  }
  if (c.Has(ColumnSet::kResourceScope)) {
    EXPECT_EQ(a.resource, b.resource);
    EXPECT_EQ(a.scope, b.scope);
    ASSERT_EQ(a.tables.resources.size(), b.tables.resources.size());
    for (size_t r = 0; r < a.num_rows; ++r) ASSERT_EQ(a.ServiceName(r), b.ServiceName(r));
  }
  ASSERT_EQ(a.attributes.size(), b.attributes.size());
  for (size_t i = 0; i < a.attributes.size(); ++i) {
    EXPECT_EQ(a.attributes[i].key, b.attributes[i].key);
    EXPECT_EQ(a.attributes[i].rows, b.attributes[i].rows);
    EXPECT_EQ(a.attributes[i].types, b.attributes[i].types);
    EXPECT_EQ(a.attributes[i].values, b.attributes[i].values);
    EXPECT_EQ(a.attributes[i].dict, b.attributes[i].dict);
  }
}

// ExpectSame for other threads: whether the columns `c` asks for are equal (a file read may
// decode more than asked, so only those count).
bool SameAsked(const Block& a, const Block& b, const ColumnSet& asked) {
  ColumnSet c = asked;
  c.Close();
  if (a.num_rows != b.num_rows) return false;
  if (c.Has(ColumnSet::kStart) && a.start_unix_nano != b.start_unix_nano) return false;
  if (c.Has(ColumnSet::kEnd) && a.end_unix_nano != b.end_unix_nano) return false;
  if (c.Has(ColumnSet::kName) && (a.name.codes != b.name.codes || a.name.dict != b.name.dict))
    return false;
  if (c.Has(ColumnSet::kTraceState) && a.trace_state.codes != b.trace_state.codes) return false;
  if (c.Has(ColumnSet::kResourceScope) && (a.resource != b.resource || a.scope != b.scope))
    return false;
  if (a.attributes.size() != b.attributes.size()) return false;
  for (size_t i = 0; i < a.attributes.size(); ++i) {
    const auto& x = a.attributes[i];
    const auto& y = b.attributes[i];
    if (x.key != y.key || x.rows != y.rows || x.types != y.types || x.values != y.values ||
        x.dict != y.dict)
      return false;
  }
  return true;
}

// Gives `block` an int column "n" on every row with value r * 37 % 65536 on row r (`rows` of them
// distinct as long as rows ≤ 65536).
void AttributeColumnOf(Block* block, uint32_t rows) {
  columnar::AttributeColumn column;
  column.key = "n";
  for (uint32_t r = 0; r < rows; ++r) {
    column.rows.push_back(r);
    column.types.push_back(model::ValueType::kInt);
    column.values.push_back(uint64_t{r} * 37 % 65536);
  }
  block->attributes.push_back(std::move(column));
}

TEST(ColumnCacheNarrowTest, NarrowedPartsWidenToTheDecodedColumnsAndAreSmaller) {
  testing::TempDir dir;
  const FileBlock f = WriteBlock(dir.path(), 1, 4000);
  const std::shared_ptr<const Block> all = Read(f, ColumnSet::All());
  ASSERT_NE(all, nullptr);
  struct Case {
    ColumnUnit unit;
    CachedPart::Narrowed want;
  };
  const std::vector<Case> cases = {
      {{ColumnSet::kEnd, false, {}}, CachedPart::Narrowed::kEnd},
      {{ColumnSet::kResourceScope, false, {}}, CachedPart::Narrowed::kResourceScope},
      {{ColumnSet::kName, false, {}}, CachedPart::Narrowed::kDictCodes},
      {{ColumnSet::kTraceState, false, {}}, CachedPart::Narrowed::kDictCodes},
      {{0, false, "flag"}, CachedPart::Narrowed::kAttribute},
      {{0, false, "code"}, CachedPart::Narrowed::kAttribute},
      {{0, false, "big"}, CachedPart::Narrowed::kAttribute},  // 32-bit values, on every row
      {{0, false, "mixed"}, CachedPart::Narrowed::kNone},     // two types
      {{ColumnSet::kStart, false, {}}, CachedPart::Narrowed::kStart},  // 4 s: 32-bit offsets
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.unit.CacheKey());
    std::shared_ptr<const CachedPart> part = MakeCachedPart(*all, c.unit);
    EXPECT_EQ(part->narrowed, c.want);
    // Widened into a block that has the start times (as the cache assembles: kStart first).
    Block widened;
    widened.environment = all->environment;
    widened.num_rows = all->num_rows;
    widened.start_unix_nano = all->start_unix_nano;
    AddCachedPart(*part, c.unit, &widened);
    ExpectSame(widened, *CopyPart(*all, c.unit), c.unit.AsSet());
    if (c.want != CachedPart::Narrowed::kNone)
      EXPECT_LT(part->Bytes(), ApproximateBytes(*CopyPart(*all, c.unit)));
  }
  // "big" (70000 on some rows, on every row) keeps 32-bit values and no row numbers; "flag" (on
  // two rows of three) 16-bit values and its row numbers.
  std::shared_ptr<const CachedPart> big = MakeCachedPart(*all, {0, false, "big"});
  EXPECT_TRUE(big->attribute_every_row);
  EXPECT_TRUE(big->attribute_values.empty());
  EXPECT_EQ(big->attribute_values32.size(), all->num_rows);
  EXPECT_TRUE(big->block->attributes[0].rows.empty());
  std::shared_ptr<const CachedPart> flag = MakeCachedPart(*all, {0, false, "flag"});
  EXPECT_FALSE(flag->attribute_every_row);
  EXPECT_FALSE(flag->attribute_codes.empty());  // two distinct values: one byte per entry
  EXPECT_FALSE(flag->block->attributes[0].rows.empty());
  // The end-time exceptions are real: some spans end before they start, some last > 2^32 ns.
  std::shared_ptr<const CachedPart> end = MakeCachedPart(*all, {ColumnSet::kEnd, false, {}});
  EXPECT_GE(end->end_exceptions.size(), 10u);
}

// Start times narrow to 32-bit offsets from the block's first start; the few rows 2^32 ns or more
// after it come back exactly as exceptions, and a block where many rows are that far keeps them
// as read.
TEST(ColumnCacheNarrowTest, StartTimesPastTwoToTheThirtyTwoNanosAreExceptions) {
  testing::TempDir dir;
  const ColumnUnit start_unit{ColumnSet::kStart, false, {}};
  for (size_t spans : {size_t{4000}, size_t{4350}, size_t{9000}}) {
    SCOPED_TRACE(spans);
    // 1 ms apart: 4,000 spans fit 2^32 ns (≈ 4.29 s); of 4,350 the last ≈ 55 are exceptions
    // (< 1/64); of 9,000 more than half are, so the part stays as read.
    const FileBlock f = WriteBlock(dir.path(), spans, spans);
    const std::shared_ptr<const Block> all = Read(f, ColumnSet::All());
    ASSERT_NE(all, nullptr);
    std::shared_ptr<const CachedPart> part = MakeCachedPart(*all, start_unit);
    EXPECT_EQ(part->narrowed,
              spans == 9000 ? CachedPart::Narrowed::kNone : CachedPart::Narrowed::kStart);
    if (spans == 4350) EXPECT_GT(part->start_exceptions.size(), 40u);
    if (spans == 4000) EXPECT_TRUE(part->start_exceptions.empty());
    // Widened alone and followed by the narrowed end times (bit order), equal to the file's.
    Block widened;
    widened.environment = all->environment;
    widened.num_rows = all->num_rows;
    AddCachedPart(*part, start_unit, &widened);
    const ColumnUnit end_unit{ColumnSet::kEnd, false, {}};
    AddCachedPart(*MakeCachedPart(*all, end_unit), end_unit, &widened);
    EXPECT_EQ(widened.start_unix_nano, all->start_unix_nano);
    EXPECT_EQ(widened.end_unix_nano, all->end_unix_nano);
  }
}

// Three questions whose plain parts (all blocks) exceed the capacity but whose narrowed parts fit:
// after one round, repeating them reads nothing from the files.
TEST(ColumnCacheNarrowTest, WorkingSetThatFitsOnlyNarrowedStopsReadingFiles) {
  testing::TempDir dir;
  std::vector<FileBlock> blocks;
  for (uint64_t id = 1; id <= 4; ++id) blocks.push_back(WriteBlock(dir.path(), id, 3000));
  const std::vector<ColumnSet> questions = {
      Columns(ColumnSet::kStart | ColumnSet::kEnd | ColumnSet::kResourceScope |
              ColumnSet::kTraceState),
      Columns(ColumnSet::kStart | ColumnSet::kName | ColumnSet::kTraceState, {"code"}),
      Columns(ColumnSet::kStart | ColumnSet::kName | ColumnSet::kTraceState, {"flag"}),
  };
  ColumnSet all_asked;
  for (const ColumnSet& q : questions) all_asked.Add(q);
  uint64_t plain = 0;
  for (const FileBlock& f : blocks)
    for (const ColumnUnit& unit : UnitsOf(all_asked))
      plain += ApproximateBytes(*Read(f, unit.AsSet()));
  ColumnCache cache(plain * 7 / 10);  // plain parts would not fit
  std::atomic<int> loads{0};
  auto ask_all = [&] {
    for (const ColumnSet& q : questions) {
      for (const FileBlock& f : blocks) {
        auto got = cache.Get(f.meta.id, q, [&](const ColumnSet& c) {
          ++loads;
          return columnar::ReadBlockColumns(Env::Default(), f.path, f.meta, c);
        });
        ASSERT_TRUE(got.ok());
        ExpectSame(**got, *Read(f, q), q);
      }
    }
  };
  ask_all();
  ask_all();  // second use: promoted to the protected segment
  const int after_warm_up = loads.load();
  for (int round = 0; round < 3; ++round) ask_all();
  EXPECT_EQ(loads.load(), after_warm_up) << "narrowed parts of the working set did not all fit";
  EXPECT_EQ(cache.Stats().evictions, 0u);
  EXPECT_LE(cache.Stats().bytes, cache.Stats().capacity_bytes);
}

// Readers on several threads share narrowed parts while a tiny capacity and Erase evict them
// constantly; every block handed out stays valid and equal to the file's columns after eviction.
TEST(ColumnCacheNarrowTest, BlocksHandedOutSurviveEvictionByConcurrentReaders) {
  testing::TempDir dir;
  std::vector<FileBlock> blocks;
  for (uint64_t id = 1; id <= 3; ++id) blocks.push_back(WriteBlock(dir.path(), id, 1500));
  const std::vector<ColumnSet> questions = {
      Columns(ColumnSet::kStart | ColumnSet::kEnd | ColumnSet::kResourceScope),
      Columns(ColumnSet::kStart | ColumnSet::kName, {"code", "flag"}),
      Columns(ColumnSet::kEnd | ColumnSet::kTraceState, {"big"}),
  };
  ColumnCache cache(200'000);  // less than one block's columns: constant eviction
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        const FileBlock& f = blocks[(t + i) % blocks.size()];
        const ColumnSet& q = questions[(t * 7 + i) % questions.size()];
        auto got = cache.Get(f.meta.id, q, [&](const ColumnSet& c) {
          return columnar::ReadBlockColumns(Env::Default(), f.path, f.meta, c);
        });
        if (!got.ok()) {
          ++failures;
          continue;
        }
        std::shared_ptr<const Block> held = *got;
        cache.Erase(f.meta.id);  // evicts what `held` was assembled from
        std::this_thread::yield();
        std::shared_ptr<const Block> want = Read(f, q);
        if (!SameAsked(*held, *want, q)) ++failures;
      }
    });
  }
  std::thread resizer([&] {
    for (uint64_t capacity = 1; !stop.load(); capacity = capacity * 7 % 400'000 + 1) {
      cache.SetCapacity(capacity);
      std::this_thread::yield();
    }
  });
  for (std::thread& t : threads) t.join();
  stop = true;
  resizer.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(cache.Stats().hits + cache.Stats().misses, 0u);
}

// The compact forms (the 100 M-span COUNTs): a trace state nobody sets keeps no codes, and an
// attribute column with at most 256 distinct 16-bit values one byte per entry. Both widen to the
// file's columns exactly, are smaller than the earlier narrowed forms, and WithEarlierForms (what
// trace reads get) turns them back into the earlier forms with the same values.
TEST(ColumnCacheNarrowTest, CompactFormsWidenExactlyAndConvertToTheEarlierForms) {
  testing::TempDir dir;
  const FileBlock f = WriteBlock(dir.path(), 1, 6000);
  const std::shared_ptr<const Block> all = Read(f, ColumnSet::All());
  ASSERT_NE(all, nullptr);
  ASSERT_EQ(all->trace_state.dict.size(), 1u);
  const ColumnUnit state{ColumnSet::kTraceState, false, {}};
  std::shared_ptr<const CachedPart> constant = MakeCachedPart(*all, state);
  EXPECT_TRUE(constant->dict_constant);
  EXPECT_TRUE(constant->bytes_a.empty());
  EXPECT_LT(constant->Bytes(), all->num_rows);  // not even a byte per row
  // code: 200 or 202 on every other row; big: 0..8 and 70000 (past 2^16: stays 32-bit).
  std::shared_ptr<const CachedPart> code = MakeCachedPart(*all, {0, false, "code"});
  EXPECT_EQ(code->attribute_table.size(), 2u);
  EXPECT_EQ(code->attribute_codes.size(), all->num_rows / 2);
  EXPECT_TRUE(code->attribute_values.empty());
  EXPECT_FALSE(MakeCachedPart(*all, {0, false, "big"})->Compact());
  EXPECT_FALSE(MakeCachedPart(*all, {ColumnSet::kName, false, {}})->Compact());  // 40 names
  for (const ColumnUnit& unit :
       {state, ColumnUnit{0, false, "code"}, ColumnUnit{0, false, "flag"}}) {
    SCOPED_TRACE(unit.CacheKey());
    std::shared_ptr<const CachedPart> part = MakeCachedPart(*all, unit);
    ASSERT_TRUE(part->Compact());
    std::shared_ptr<const CachedPart> earlier = WithEarlierForms(part);
    EXPECT_FALSE(earlier->Compact());
    EXPECT_EQ(earlier->narrowed, part->narrowed);
    EXPECT_GT(earlier->Bytes(), part->Bytes());
    if (unit.bit == ColumnSet::kTraceState) {
      EXPECT_EQ(earlier->bytes_a.size(), all->num_rows);
    } else {
      ASSERT_EQ(earlier->attribute_values.size(), part->attribute_codes.size());
      for (size_t e = 0; e < part->attribute_codes.size(); ++e)
        ASSERT_EQ(earlier->attribute_values[e], part->attribute_table[part->attribute_codes[e]]);
    }
    for (const auto& p : {part, earlier}) {
      Block widened;
      widened.environment = all->environment;
      widened.num_rows = all->num_rows;
      AddCachedPart(*p, unit, &widened);
      ExpectSame(widened, *CopyPart(*all, unit), unit.AsSet());
    }
  }
  // More than 256 distinct values below 2^16 keep 16 bits per entry.
  Block many;
  many.num_rows = 1000;
  AttributeColumnOf(&many, 1000);
  std::shared_ptr<const CachedPart> wide = MakeCachedPart(many, {0, false, "n"});
  EXPECT_EQ(wide->narrowed, CachedPart::Narrowed::kAttribute);
  EXPECT_FALSE(wide->Compact());
  EXPECT_EQ(wide->attribute_values.size(), 1000u);
  Block back;
  back.num_rows = 1000;
  AddCachedPart(*wide, {0, false, "n"}, &back);
  ExpectSame(back, many, Columns(0, {"n"}));
}

}  // namespace
}  // namespace ariadne::store::embedded
