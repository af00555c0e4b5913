// Differential tests of the read path: for many random specs over blocks with different contents,
//   (a) the executor over whole decoded blocks, and
//   (b) the executor over only the blocks BlockMayMatch keeps, each holding only the columns
//       ColumnsForBlock names (ColumnsForQuery, less the resource/scope unit where no resource
//       carries a filtered key; read with ReadBlockColumns from real block files),
// give identical results; SelectRows over ColumnsForSelect columns selects the same rows as over
// whole blocks, and no row of a pruned block is ever selected.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "columnar/block.h"
#include "common/env.h"
#include "query/exec/block_pruning.h"
#include "query/exec/column_needs.h"
#include "query/exec/executor.h"
#include "tests/common/random_spans.h"
#include "tests/store/store_test_util.h"

namespace ariadne::query {
namespace {

using ariadne::Env;
using columnar::Block;
using columnar::BlockBuilder;
using columnar::BlockMeta;

// Appends `kv` to span `s` of `b` (re-homing its attributes at the end of the table).
void AddAttribute(model::SpanBatch* b, size_t s, model::KeyValue kv) {
  model::Span& span = b->spans[s];
  const model::Range old = span.attributes;
  const uint32_t begin = static_cast<uint32_t>(b->attributes.size());
  for (uint32_t a = old.begin; a < old.end(); ++a) b->attributes.push_back(b->attributes[a]);
  kv.key = b->arena.Copy(kv.key);
  kv.value.str = b->arena.Copy(kv.value.str);
  b->attributes.push_back(kv);
  span.attributes = {begin, old.count + 1};
}

struct StoredBlock {
  std::string path;
  BlockMeta meta;  // as read back with ReadBlockMeta (sections included)
  std::shared_ptr<const Block> full;
};

// Blocks that differ in services, names, attribute keys, error rates and time, with some odd
// values: span attributes that override the resource's service.name, NaN, numbers as text, empty
// values.
std::vector<StoredBlock> MakeBlocks(const std::string& dir, uint64_t* lo, uint64_t* hi) {
  std::vector<StoredBlock> blocks;
  *lo = UINT64_MAX;
  *hi = 0;
  for (int i = 0; i < 10; ++i) {
    testing::RandomSpanOptions o;
    o.services = 1 + i % 4;
    o.names = 1 + (i * 7) % 20;
    o.attributes_per_span = i % 3 == 0 ? 2 : 10;
    o.error_probability = i % 2 ? 0.0 : 0.2;
    o.base_time_unix_nano =
        1'764'000'000'000'000'000ULL + static_cast<uint64_t>(i) * 3'600'000'000'000ULL;
    testing::RandomSpans gen(100 + i, o);
    model::SpanBatch batch = gen.Batch(300 + 40 * i);
    for (size_t s = 0; s < batch.spans.size(); s += 11) {
      switch ((s / 11 + i) % 6) {
        case 0:
          if (i == 3) AddAttribute(&batch, s, {"service.name", model::Value::String("svc-x")});
          break;
        case 1:
          if (i == 4)
            AddAttribute(
                &batch, s,
                {"app.ratio", model::Value::Double(std::numeric_limits<double>::quiet_NaN())});
          break;
        case 2:
          if (i >= 6) AddAttribute(&batch, s, {"http.status_code", model::Value::String("503")});
          break;
        case 3:
          if (i % 4 == 1) AddAttribute(&batch, s, {"k.empty", model::Value{}});
          break;
        case 4:
          if (i == 5) AddAttribute(&batch, s, {"SampleRate", model::Value::Int(4)});
          break;
        default:
          break;
      }
    }
    for (const model::Span& s : batch.spans) {
      *lo = std::min(*lo, s.start_time_unix_nano);
      *hi = std::max(*hi, s.start_time_unix_nano);
    }
    BlockBuilder builder(i % 3 == 2 ? "dev" : "prod");
    builder.Append(batch);
    std::shared_ptr<const Block> sealed = builder.Seal();
    BlockMeta meta = sealed->ComputeMeta();
    meta.id = static_cast<uint64_t>(i + 1);
    StoredBlock stored;
    stored.path = dir + "/" + std::to_string(i) + ".blk";
    EXPECT_TRUE(ariadne::WriteFileAtomically(Env::Default(), stored.path,
                                             columnar::EncodeBlockFile(*sealed, meta))
                    .ok());
    Result<BlockMeta> read = columnar::ReadBlockMeta(Env::Default(), stored.path);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    stored.meta = std::move(*read);
    stored.full = sealed;
    blocks.push_back(std::move(stored));
  }
  return blocks;
}

struct Column {
  const char* name;
  std::vector<Literal> samples;
};

const std::vector<Column>& Columns() {
  static const std::vector<Column> columns = {
      {"service.name", {std::string("svc-0"), std::string("svc-3"), std::string("svc-x")}},
      {"name",
       {std::string("op-1"), std::string("op-12"), std::string("op"), std::string("op-19")}},
      {"http.status_code",
       {int64_t{200}, int64_t{503}, std::string("503"), 250.5, int64_t{600}, int64_t{100}}},
      {"user.id", {std::string("user-42"), std::string("user-1"), std::string("user-9999")}},
      {"app.ratio", {10.0, int64_t{50}, 100.25, 1000.0, -1.0}},
      {"app.cached", {true, false, std::string("true")}},
      {"duration_ms", {1.0, 10.0, int64_t{25}, 49.0, 60.0, 0.0005}},
      {"error", {true, false}},
      {"status_code", {int64_t{0}, int64_t{2}, int64_t{1}}},
      {"span.kind", {std::string("server"), std::string("client"), std::string("internal")}},
      {"type", {std::string("server"), std::string("producer")}},
      {"http.route", {std::string("/api/r1"), std::string("/api/r2")}},
      {"http.route.5", {std::string("/api/r1"), std::string("/api/r2")}},
      {"host.name", {std::string("host-1"), std::string("host-2")}},
      {"status_message", {std::string("upstream failed")}},
      {"k.empty", {std::string("x")}},
      {"trace.trace_id", {std::string("00")}},
      {"span.num_events", {int64_t{0}, int64_t{1}}},
      {"library.name", {std::string("ariadne.test")}},
      {"missing.column", {std::string("x"), int64_t{1}}},
  };
  return columns;
}

QuerySpec RandomSpec(std::mt19937& rng, uint64_t start, uint64_t end) {
  QuerySpec spec;
  spec.start_unix_nano = start;
  spec.end_unix_nano = end;
  spec.granularity_seconds = std::max<uint64_t>(1, (end - start) / 1'000'000'000ULL / 10 + 1);
  spec.limit = kMaxLimit;
  auto pick = [&](size_t n) { return rng() % n; };
  if (pick(5) == 0) spec.environment = pick(2) ? "prod" : "dev";
  if (pick(6) == 0) spec.dataset = pick(2) ? "svc-2" : "svc-0";
  const auto& cols = Columns();
  const size_t nfilters = pick(4);
  for (size_t i = 0; i < nfilters; ++i) {
    const Column& col = cols[pick(cols.size())];
    Filter f;
    f.column = col.name;
    f.op = static_cast<FilterOp>(pick(16));
    const bool text = f.op >= FilterOp::kStartsWith && f.op <= FilterOp::kDoesNotContain;
    if (f.op == FilterOp::kExists || f.op == FilterOp::kDoesNotExist) {
    } else if (f.op == FilterOp::kIn || f.op == FilterOp::kNotIn) {
      for (size_t k = 0; k <= pick(3); ++k)
        f.values.push_back(col.samples[pick(col.samples.size())]);
    } else {
      Literal lit = col.samples[pick(col.samples.size())];
      if (text && !std::holds_alternative<std::string>(lit)) lit = std::string("op-1");
      f.values.push_back(lit);
    }
    spec.filters.push_back(f);
  }
  spec.filter_or = pick(3) == 0;
  static const char* kBreakdowns[] = {"service.name",   "name",           "http.status_code",
                                      "app.cached",     "error",          "span.kind",
                                      "user.id",        "library.name",   "trace.parent_id",
                                      "span.num_links", "status_message", "host.name"};
  for (size_t i = 0, n = pick(3); i < n; ++i)
    spec.breakdowns.push_back(kBreakdowns[pick(std::size(kBreakdowns))]);
  static const char* kNumeric[] = {"duration_ms",    "http.status_code", "app.ratio",
                                   "missing.column", "status_code",      "span.num_events"};
  struct OpName {
    CalcOp op;
    const char* name;
    double p;
  };
  static const OpName kCalcs[] = {{CalcOp::kCount, "COUNT", 0},
                                  {CalcOp::kSum, "SUM", 0},
                                  {CalcOp::kAvg, "AVG", 0},
                                  {CalcOp::kMin, "MIN", 0},
                                  {CalcOp::kMax, "MAX", 0},
                                  {CalcOp::kCountDistinct, "COUNT_DISTINCT", 0},
                                  {CalcOp::kPercentile, "P99", 0.99},
                                  {CalcOp::kHeatmap, "HEATMAP", 0},
                                  {CalcOp::kConcurrency, "CONCURRENCY", 0}};
  for (size_t i = 0, n = 1 + pick(3); i < n; ++i) {
    const OpName& o = kCalcs[pick(std::size(kCalcs))];
    Calculation c;
    c.op = o.op;
    c.op_name = o.name;
    c.percentile = o.p;
    if (o.op != CalcOp::kCount && o.op != CalcOp::kConcurrency)
      c.column = kNumeric[pick(std::size(kNumeric))];
    c.label = CalculationLabel(c);
    spec.calculations.push_back(c);
  }
  return spec;
}

// The answer without the scan counters (which differ by design).
std::string Answer(const QuerySpec& spec, const QueryResult& r) {
  nlohmann::json j = nlohmann::json::parse(ResultToJson(spec, r));
  return j["data"].dump();
}

TEST(ReadPathDifferentialTest, ColumnSubsetsAndPruningGiveTheSameAnswers) {
  testing::TempDir dir;
  uint64_t lo, hi;
  std::vector<StoredBlock> blocks = MakeBlocks(dir.path(), &lo, &hi);
  ASSERT_FALSE(HasFailure());
  std::mt19937 rng(77);
  uint64_t pruned = 0, kept = 0, without_resources = 0;
  for (int round = 0; round < 250; ++round) {
    uint64_t start = lo, end = hi + 1;
    if (round % 3 == 1) {
      start = lo + rng() % (hi - lo);
      end = start + 1 + rng() % (hi - start + 1);
    }
    QuerySpec spec = RandomSpec(rng, start, end);
    std::shared_ptr<QueryExecutor::TraceIdSet> traces;
    if (round % 10 == 9) {  // an X-Ray filter's trace restriction: every other trace
      spec.xray_filter = "ok";
      traces = std::make_shared<QueryExecutor::TraceIdSet>();
      for (const StoredBlock& b : blocks)
        for (size_t r = 0; r < b.full->num_rows; r += 2) traces->insert(b.full->trace_id[r]);
    }
    const columnar::ColumnSet needed = ColumnsForQuery(spec);
    const columnar::ColumnSet select_needed = ColumnsForSelect(spec);
    QueryExecutor whole(spec), subset(spec);
    if (traces) {
      whole.RestrictToTraces(traces);
      subset.RestrictToTraces(traces);
    }
    for (const StoredBlock& b : blocks) {
      if (!spec.environment.empty() && b.meta.environment != spec.environment) continue;
      ASSERT_TRUE(whole.Consume(*b.full).ok());
      const std::vector<uint8_t> selected_whole = SelectRows(spec, *b.full);
      if (!BlockMayMatch(spec, b.meta)) {
        ++pruned;
        for (size_t r = 0; r < selected_whole.size(); ++r)
          ASSERT_FALSE(selected_whole[r])
              << "a pruned block has a matching row; spec " << ResultToJson(spec, QueryResult{});
        subset.CountSkippedBlock();
        continue;
      }
      ++kept;
      // As the store reads it (no resource/scope unit where no resource has a filtered key).
      const columnar::ColumnSet block_needed = ColumnsForBlock(spec, needed, b.meta);
      if (needed.Has(columnar::ColumnSet::kResourceScope) &&
          !block_needed.Has(columnar::ColumnSet::kResourceScope))
        ++without_resources;
      auto part = columnar::ReadBlockColumns(Env::Default(), b.path, b.meta, block_needed);
      ASSERT_TRUE(part.ok()) << part.status().ToString();
      ASSERT_TRUE(subset.Consume(**part).ok());
      auto select_part = columnar::ReadBlockColumns(Env::Default(), b.path, b.meta, select_needed);
      ASSERT_TRUE(select_part.ok()) << select_part.status().ToString();
      ASSERT_EQ(SelectRows(spec, **select_part), selected_whole);
    }
    Result<QueryResult> want = whole.Finish();
    Result<QueryResult> got = subset.Finish();
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(Answer(spec, *want), Answer(spec, *got)) << "round " << round;
    EXPECT_EQ(want->spans_matched, got->spans_matched);
  }
  // Both paths were exercised: blocks were pruned, and blocks were read by column.
  EXPECT_GT(pruned, 100u);
  EXPECT_GT(kept, 100u);
  EXPECT_GT(without_resources, 20u);
}

// ColumnsForBlock leaves out the resource/scope unit only where the meta shows that no resource
// carries a filtered key, and keeps it when the meta lists no keys at all (a meta copied without).
TEST(ColumnsForBlockTest, DropsResourcesOnlyWhenTheMetaShowsNoResourceHasTheFilteredKey) {
  QuerySpec spec;
  spec.filters.push_back(Filter{"http.status_code", FilterOp::kGe, {int64_t{500}}});
  spec.breakdowns.push_back("name");
  const columnar::ColumnSet needed = ColumnsForQuery(spec);
  ASSERT_TRUE(needed.Has(columnar::ColumnSet::kResourceScope));
  BlockMeta meta;
  EXPECT_TRUE(ColumnsForBlock(spec, needed, meta).Has(columnar::ColumnSet::kResourceScope));
  meta.columns["service.name"].sources = columnar::kColumnFromResource;
  meta.columns["http.status_code"].sources = columnar::kColumnFromSpan;
  const columnar::ColumnSet span_only = ColumnsForBlock(spec, needed, meta);
  EXPECT_FALSE(span_only.Has(columnar::ColumnSet::kResourceScope));
  EXPECT_TRUE(span_only.HasAttribute("http.status_code"));
  EXPECT_TRUE(span_only.Has(columnar::ColumnSet::kName | columnar::ColumnSet::kStart));
  meta.columns["http.status_code"].sources |= columnar::kColumnFromResource;
  EXPECT_TRUE(ColumnsForBlock(spec, needed, meta).Has(columnar::ColumnSet::kResourceScope));
  // A breakdown on an attribute, or a dataset, needs the resources whatever the filters.
  meta.columns["http.status_code"].sources = columnar::kColumnFromSpan;
  QuerySpec by_host = spec;
  by_host.breakdowns = {"host.name"};
  EXPECT_TRUE(ColumnsForBlock(by_host, ColumnsForQuery(by_host), meta)
                  .Has(columnar::ColumnSet::kResourceScope));
  QuerySpec dataset = spec;
  dataset.dataset = "svc-1";
  EXPECT_TRUE(ColumnsForBlock(dataset, ColumnsForQuery(dataset), meta)
                  .Has(columnar::ColumnSet::kResourceScope));
}

// Pruning by each kind of statistic, on one block whose contents are known.
TEST(BlockPruningTest, EachStatisticPrunesWhatItProvesAbsent) {
  testing::RandomSpanOptions o;
  o.services = 2;  // svc-0, svc-1
  o.names = 3;     // op-0 .. op-2
  o.error_probability = 0;
  testing::RandomSpans gen(5, o);
  BlockBuilder builder("prod");
  builder.Append(gen.Batch(500));
  BlockMeta meta = builder.Seal()->ComputeMeta();
  QuerySpec spec;
  spec.start_unix_nano = meta.min_start_unix_nano;
  spec.end_unix_nano = meta.max_end_unix_nano + 1;
  auto may = [&](const std::string& column, FilterOp op, std::vector<Literal> values) {
    QuerySpec s = spec;
    s.filters.push_back(Filter{column, op, std::move(values)});
    return BlockMayMatch(s, meta);
  };
  EXPECT_TRUE(may("service.name", FilterOp::kEq, {std::string("svc-1")}));
  EXPECT_FALSE(may("service.name", FilterOp::kEq, {std::string("svc-3")}));
  EXPECT_FALSE(may("name", FilterOp::kIn, {std::string("op-7"), std::string("op-9")}));
  EXPECT_TRUE(may("name", FilterOp::kStartsWith, {std::string("op-")}));
  EXPECT_TRUE(may("http.status_code", FilterOp::kGe, {int64_t{500}}));
  EXPECT_FALSE(may("http.status_code", FilterOp::kGt, {int64_t{503}}));
  EXPECT_FALSE(may("http.status_code", FilterOp::kLt, {std::string("200")}));
  EXPECT_FALSE(may("duration_ms", FilterOp::kGt, {1000.0}));  // spans last < 51 ms
  EXPECT_FALSE(may("error", FilterOp::kEq, {true}));
  EXPECT_FALSE(may("status_code", FilterOp::kEq, {int64_t{2}}));
  EXPECT_FALSE(may("no.such.key", FilterOp::kExists, {}));
  EXPECT_TRUE(may("no.such.key", FilterOp::kDoesNotExist, {}));
  EXPECT_FALSE(may("http.route", FilterOp::kDoesNotExist, {}));              // every span has it
  EXPECT_TRUE(may("user.id", FilterOp::kEq, {std::string("user-nobody")}));  // too many values
  spec.filter_or = true;
  spec.filters = {Filter{"service.name", FilterOp::kEq, {std::string("svc-9")}},
                  Filter{"name", FilterOp::kEq, {std::string("op-1")}}};
  EXPECT_TRUE(BlockMayMatch(spec, meta));
  spec.filter_or = false;
  EXPECT_FALSE(BlockMayMatch(spec, meta));
  spec.filters.clear();
  spec.dataset = "svc-5";
  EXPECT_FALSE(BlockMayMatch(spec, meta));
}

}  // namespace
}  // namespace ariadne::query
