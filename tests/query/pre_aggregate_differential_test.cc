// Differential test of block pre-aggregates (query/exec/pre_aggregates.h): the same queries run
// over the same sealed blocks twice — once from rows only (Consume), once the way the store runs
// them (ConsumePreAggregated for each block, rows for the blocks it declines) — must agree:
// COUNT, MIN and MAX exactly, SUM and AVG to 1e-9, percentiles and HEATMAP equal to the row path's
// sketch answer for groups past kExactSampleLimit (both use the same sketches) and within the
// documented 1 % of the exact percentile otherwise. Data: random spans in several blocks, some
// weighted by SampleRate attributes and by OTel `ot=th:` thresholds; windows that cut blocks;
// one and several time buckets; filters, dataset and breakdowns on service.name and name; blocks
// without pre-aggregates (as format-3 blocks are) mixed in.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <variant>

#include "columnar/block.h"
#include "query/exec/aggregation.h"
#include "query/exec/executor.h"
#include "query/exec/pre_aggregates.h"
#include "query/query_spec.h"
#include "store/embedded/embedded_store.h"
#include "store/store_admin.h"
#include "tests/common/random_spans.h"
#include "tests/store/store_test_util.h"

namespace ariadne::query {
namespace {

using columnar::Block;
using columnar::BlockMeta;

struct StoredBlock {
  BlockMeta meta;  // as read back from the encoded file
  std::shared_ptr<const Block> block;
  std::shared_ptr<const Block> unweighted;  // the same spans without sample rates
};

// Spans of `batch` get sample rates: every 5th a SampleRate attribute (1–7), every 7th a
// tracestate threshold (ot=th:8 keeps 1/2, ot=th:c keeps 1/4).
void AddWeights(model::SpanBatch* batch) {
  for (size_t s = 0; s < batch->spans.size(); ++s) {
    model::Span& span = batch->spans[s];
    if (s % 7 == 0) span.trace_state = batch->arena.Copy(s % 2 ? "ot=th:8" : "vendor=x,ot=th:c");
    if (s % 5 != 0) continue;
    const model::Range old = span.attributes;
    const uint32_t begin = static_cast<uint32_t>(batch->attributes.size());
    for (uint32_t a = old.begin; a < old.end(); ++a)
      batch->attributes.push_back(batch->attributes[a]);
    batch->attributes.push_back(
        {batch->arena.Copy("SampleRate"), model::Value::Int(1 + static_cast<int64_t>(s % 7))});
    span.attributes = {begin, old.count + 1};
  }
}

class PreAggregateDifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    blocks_ = new std::vector<StoredBlock>();
    testing::RandomSpanOptions options;
    options.services = 3;
    options.names = 4;
    testing::RandomSpans gen(41, options);
    for (int i = 0; i < 6; ++i) {
      model::SpanBatch batch = gen.Batch(27000);  // > kExactSampleLimit per service
      columnar::BlockBuilder plain("prod");
      plain.Append(batch);
      if (i % 2 == 1) AddWeights(&batch);
      columnar::BlockBuilder builder("prod");
      builder.Append(batch);
      std::shared_ptr<const Block> sealed = builder.Seal();
      BlockMeta meta = sealed->ComputeMeta();
      meta.id = static_cast<uint64_t>(i + 1);
      // Block 5 has none, as a format-3 block (or one whose service.name is a span attribute).
      if (i != 5) meta.pre_aggregates = exec::BuildPreAggregates(*sealed);
      const std::string file = columnar::EncodeBlockFile(*sealed, meta);
      Result<BlockMeta> read = columnar::DecodeBlockMeta(file);
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      ASSERT_EQ(read->pre_aggregates != nullptr, i != 5);
      Result<std::shared_ptr<const Block>> decoded = columnar::DecodeBlockFile(file);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      lo_ = std::min(lo_, meta.min_start_unix_nano);
      for (size_t r = 0; r < sealed->num_rows; ++r) hi_ = std::max(hi_, sealed->start_unix_nano[r]);
      blocks_->push_back(StoredBlock{std::move(*read), std::move(*decoded), plain.Seal()});
    }
  }
  static void TearDownTestSuite() { delete blocks_; }

  QuerySpec BaseSpec() const {
    QuerySpec spec;
    spec.environment = "prod";
    spec.start_unix_nano = lo_ / 1'000'000'000ULL * 1'000'000'000ULL;  // a whole second
    spec.end_unix_nano = hi_ + 1;
    spec.granularity_seconds = (hi_ + 1 - spec.start_unix_nano) / 1'000'000'000ULL + 1;  // one
    spec.limit = kMaxLimit;
    return spec;
  }

  static Calculation Calc(CalcOp op, const char* name, const char* column, double p = 0) {
    Calculation c;
    c.op = op;
    c.op_name = name;
    c.column = column;
    c.percentile = p;
    c.label = CalculationLabel(c);
    return c;
  }

  // Rows only; and pre-aggregates where they answer (counted in `answered`).
  static QueryResult Run(const QuerySpec& spec, bool pre, size_t* answered = nullptr,
                         bool unweighted = false) {
    QueryExecutor executor(spec);
    for (const StoredBlock& b : *blocks_) {
      if (unweighted) {
        EXPECT_TRUE(executor.Consume(*b.unweighted).ok());
        continue;
      }
      if (pre) {
        Result<bool> done = executor.ConsumePreAggregated(b.meta);
        EXPECT_TRUE(done.ok()) << done.status().ToString();
        if (done.ok() && *done) {
          if (answered) ++*answered;
          continue;
        }
      }
      EXPECT_TRUE(executor.Consume(*b.block).ok());
    }
    Result<QueryResult> result = executor.Finish();
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(*result) : QueryResult{};
  }

  static inline std::vector<StoredBlock>* blocks_ = nullptr;
  static inline uint64_t lo_ = UINT64_MAX, hi_ = 0;
};

double Number(const ResultValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::nan("");
}

std::string KeyOf(const ResultRow& row) { return exec::CanonicalKey(row.breakdowns); }

// Compares one row. `spans`: how many spans the group has (unweighted); past kExactSampleLimit
// the row path answers from sketches too. Null for the totals row.
void ExpectRowsAgree(const QuerySpec& spec, const ResultRow& want, const ResultRow& got,
                     const std::map<std::string, double>* spans, const std::string& context) {
  ASSERT_EQ(want.values.size(), got.values.size()) << context;
  bool sketched_in_both = false;
  if (spans != nullptr) {
    auto it = spans->find(KeyOf(want));
    EXPECT_NE(it, spans->end()) << context;
    sketched_in_both =
        it != spans->end() && it->second > static_cast<double>(exec::kExactSampleLimit);
  }
  size_t heatmap = 0;
  for (size_t c = 0; c < spec.calculations.size(); ++c) {
    const Calculation& calc = spec.calculations[c];
    const std::string where = context + " " + calc.label + " group " + KeyOf(want);
    if (calc.op != CalcOp::kHeatmap && std::isnan(Number(want.values[c]))) {
      EXPECT_EQ(want.values[c], got.values[c]) << where;  // no value (no rows matched)
      continue;
    }
    switch (calc.op) {
      case CalcOp::kCount:
      case CalcOp::kMin:
      case CalcOp::kMax:
        EXPECT_EQ(want.values[c], got.values[c]) << where;
        break;
      case CalcOp::kSum:
      case CalcOp::kAvg: {
        const double w = Number(want.values[c]), g = Number(got.values[c]);
        EXPECT_NEAR(w, g, 1e-9 * std::max(1.0, std::fabs(w))) << where;
        break;
      }
      case CalcOp::kPercentile: {
        const double w = Number(want.values[c]), g = Number(got.values[c]);
        if (sketched_in_both) {
          EXPECT_EQ(w, g) << where;
        } else {
          EXPECT_NEAR(w, g, 0.0101 * std::fabs(w) + 1e-12) << where;
        }
        break;
      }
      case CalcOp::kHeatmap: {
        const auto& wh = want.heatmaps[heatmap];
        const auto& gh = got.heatmaps[heatmap];
        ++heatmap;
        double wt = 0, gt = 0;
        for (const HeatmapBucket& b : wh) wt += b.count;
        for (const HeatmapBucket& b : gh) gt += b.count;
        EXPECT_EQ(wt, gt) << where;
        if (!sketched_in_both) break;
        ASSERT_EQ(wh.size(), gh.size()) << where;
        for (size_t i = 0; i < wh.size(); ++i) {
          EXPECT_EQ(wh[i].lower, gh[i].lower) << where;
          EXPECT_EQ(wh[i].upper, gh[i].upper) << where;
          EXPECT_EQ(wh[i].count, gh[i].count) << where;
        }
        break;
      }
      default:
        FAIL() << "unexpected calculation " << where;
    }
  }
}

void ExpectResultsAgree(const QuerySpec& spec, const QueryResult& want, const QueryResult& got,
                        const QueryResult& unweighted, const std::string& context) {
  std::map<std::string, double> spans;
  for (const ResultRow& row : unweighted.rows) spans[KeyOf(row)] = Number(row.values[0]);
  EXPECT_EQ(want.spans_matched, got.spans_matched) << context;
  EXPECT_EQ(want.spans_scanned, got.spans_scanned) << context;
  EXPECT_EQ(want.sample_rate_weighted, got.sample_rate_weighted) << context;
  ASSERT_EQ(want.rows.size(), got.rows.size()) << context;
  std::map<std::string, const ResultRow*> by_key;
  for (const ResultRow& row : got.rows) by_key[KeyOf(row)] = &row;
  for (const ResultRow& row : want.rows) {
    auto it = by_key.find(KeyOf(row));
    ASSERT_NE(it, by_key.end()) << context << " missing group " << KeyOf(row);
    ExpectRowsAgree(spec, row, *it->second, &spans, context);
  }
  if (!want.totals.values.empty())
    ExpectRowsAgree(spec, want.totals, got.totals, nullptr, context + " totals");
  // Series: COUNT per bucket and group exactly.
  ASSERT_EQ(want.series.size(), got.series.size()) << context;
  for (size_t p = 0; p < want.series.size(); ++p) {
    std::map<std::string, ResultValue> counts;
    for (const ResultRow& row : got.series[p].rows) counts[KeyOf(row)] = row.values[0];
    ASSERT_EQ(want.series[p].rows.size(), got.series[p].rows.size()) << context << " point " << p;
    for (const ResultRow& row : want.series[p].rows)
      EXPECT_EQ(row.values[0], counts[KeyOf(row)]) << context << " point " << p;
  }
}

TEST_F(PreAggregateDifferentialTest, BlocksHavePreAggregatesThatAddUpToTheirRows) {
  for (const StoredBlock& b : *blocks_) {
    if (!b.meta.pre_aggregates) continue;
    exec::PreAggregates pre;
    ASSERT_TRUE(exec::DecodePreAggregates(*b.meta.pre_aggregates, &pre).ok());
    uint64_t spans = 0, errors = 0;
    for (const exec::PreAggregateSlice& slice : pre.slices) {
      EXPECT_LE(slice.min_start_unix_nano, slice.max_start_unix_nano);
      EXPECT_EQ(slice.min_start_unix_nano / pre.slice_nano,
                slice.max_start_unix_nano / pre.slice_nano);
      for (const exec::PreAggregateCounts& c : slice.counts) {
        spans += c.spans;
        errors += c.errors;
      }
      EXPECT_FALSE(slice.sketches.empty());
    }
    EXPECT_LE(pre.slices.size(), exec::kMaxSlices);
    EXPECT_EQ(pre.slice_nano % 1'000'000'000u, 0u);  // whole seconds
    ASSERT_EQ(pre.services.size(), 3u);
    for (const exec::PreAggregateService& s : pre.services) EXPECT_TRUE(s.has_service);
    uint64_t want_errors = 0;
    for (const auto& [service, counts] : b.meta.services) want_errors += counts.error_count;
    EXPECT_EQ(errors, want_errors);
    EXPECT_EQ(pre.groups.size(), 3u * 4u);  // every (service, name) of the generator
  }
}

TEST_F(PreAggregateDifferentialTest, CommonQuestionsAgreeWithTheRowPath) {
  std::mt19937_64 rng(7);
  static const char* kFilterColumns[] = {"service.name", "name"};
  static const std::pair<const char*, double> kPercentiles[] = {
      {"P50", 0.5}, {"P90", 0.9}, {"P99", 0.99}, {"P999", 0.999}};
  size_t answered_total = 0;
  for (int round = 0; round < 40; ++round) {
    QuerySpec spec = BaseSpec();
    const std::string context = "round " + std::to_string(round);
    if (round % 4 == 1) {
      // A window that cuts blocks.
      spec.start_unix_nano = lo_ + rng() % ((hi_ - lo_) / 3);
      spec.end_unix_nano = hi_ - rng() % ((hi_ - lo_) / 3);
    }
    if (round % 5 == 2) spec.granularity_seconds = 1 + rng() % 12;  // several buckets
    spec.calculations.push_back(Calc(CalcOp::kCount, "COUNT", ""));
    switch (round % 3) {
      case 0: {
        const auto& [name, p] = kPercentiles[rng() % std::size(kPercentiles)];
        spec.calculations.push_back(Calc(CalcOp::kPercentile, name, "duration_ms", p));
        break;
      }
      case 1:
        spec.calculations.push_back(Calc(CalcOp::kHeatmap, "HEATMAP", "duration_ms"));
        break;
      default:
        spec.calculations.push_back(Calc(CalcOp::kAvg, "AVG", "duration_ms"));
        spec.calculations.push_back(Calc(CalcOp::kSum, "SUM", "duration_ms"));
        spec.calculations.push_back(Calc(CalcOp::kMin, "MIN", "duration_ms"));
        spec.calculations.push_back(Calc(CalcOp::kMax, "MAX", "duration_ms"));
        spec.calculations.push_back(Calc(CalcOp::kPercentile, "P75", "duration_ms", 0.75));
        break;
    }
    if (round % 2 == 0) spec.breakdowns.push_back("service.name");
    if (round % 3 == 2) spec.breakdowns.push_back("name");
    if (round % 4 == 3) {
      Filter f;
      f.column = kFilterColumns[rng() % 2];
      f.op = rng() % 2 ? FilterOp::kEq : FilterOp::kNe;
      f.values.push_back(std::string(f.column == "name" ? "op-" : "svc-") +
                         std::to_string(rng() % 3));
      spec.filters.push_back(f);
      if (rng() % 2) {
        Filter g;
        g.column = "name";
        g.op = FilterOp::kIn;
        g.values = {std::string("op-1"), std::string("op-3")};
        spec.filters.push_back(g);
        spec.filter_or = rng() % 2;
      }
    }
    if (round % 7 == 6) spec.dataset = "svc-1";
    size_t answered = 0;
    const QueryResult rows = Run(spec, false);
    const QueryResult pre = Run(spec, true, &answered);
    const QueryResult unweighted = Run(spec, false, nullptr, true);
    answered_total += answered;
    ExpectResultsAgree(spec, rows, pre, unweighted, context);
    if (exec::PreAggregatable(spec) && spec.start_unix_nano == BaseSpec().start_unix_nano &&
        spec.end_unix_nano == hi_ + 1 && spec.dataset.empty() && spec.filters.empty() &&
        spec.bucket_count() == 1)
      EXPECT_EQ(answered, blocks_->size() - 1) << context;  // all but the one without
  }
  EXPECT_GT(answered_total, 40u);
}

TEST_F(PreAggregateDifferentialTest, OtherQueriesAndExactUseRows) {
  QuerySpec spec = BaseSpec();
  spec.calculations.push_back(Calc(CalcOp::kCount, "COUNT", ""));
  spec.calculations.push_back(Calc(CalcOp::kPercentile, "P99", "duration_ms", 0.99));
  spec.breakdowns.push_back("service.name");
  EXPECT_TRUE(exec::PreAggregatable(spec));
  QuerySpec exact = spec;
  exact.exact = true;
  QuerySpec attr = spec;
  attr.filters.push_back(Filter{"http.status_code", FilterOp::kGe, {int64_t{500}}});
  QuerySpec other_column = spec;
  other_column.calculations.push_back(Calc(CalcOp::kAvg, "AVG", "http.status_code"));
  QuerySpec distinct = spec;
  distinct.calculations.push_back(Calc(CalcOp::kCountDistinct, "COUNT_DISTINCT", "name"));
  for (const QuerySpec* s : {&exact, &attr, &other_column, &distinct}) {
    EXPECT_FALSE(exec::PreAggregatable(*s));
    size_t answered = 0;
    const QueryResult rows = Run(*s, false);
    const QueryResult pre = Run(*s, true, &answered);
    EXPECT_EQ(answered, 0u);
    EXPECT_EQ(rows.spans_matched, pre.spans_matched);
  }
  // Exact percentiles are the row path's exact answers: within 1 % of what pre-aggregates give.
  const QueryResult exact_rows = Run(exact, false);
  size_t answered = 0;
  const QueryResult sketched = Run(spec, true, &answered);
  EXPECT_EQ(answered, blocks_->size() - 1);
  ASSERT_EQ(exact_rows.rows.size(), sketched.rows.size());
  std::map<std::string, double> p99;
  for (const ResultRow& row : sketched.rows) p99[KeyOf(row)] = Number(row.values[1]);
  for (const ResultRow& row : exact_rows.rows) {
    const double want = Number(row.values[1]);
    EXPECT_NEAR(want, p99[KeyOf(row)], 0.01 * want * (1 + 1e-9)) << KeyOf(row);
  }
}

TEST_F(PreAggregateDifferentialTest, MalformedPreAggregatesAreRefused) {
  const StoredBlock& b = blocks_->front();
  ASSERT_NE(b.meta.pre_aggregates, nullptr);
  const std::string& bytes = *b.meta.pre_aggregates;
  exec::PreAggregates pre;
  for (size_t cut : {size_t{0}, size_t{1}, size_t{9}, bytes.size() / 2, bytes.size() - 1})
    EXPECT_FALSE(exec::DecodePreAggregates(bytes.substr(0, cut), &pre).ok()) << cut;
  // A block whose pre-aggregates do not parse is answered from its rows.
  BlockMeta damaged = b.meta;
  damaged.pre_aggregates = std::make_shared<const std::string>(bytes.substr(0, bytes.size() / 2));
  QuerySpec spec = BaseSpec();
  spec.calculations.push_back(Calc(CalcOp::kCount, "COUNT", ""));
  QueryExecutor executor(spec);
  Result<bool> done = executor.ConsumePreAggregated(damaged);
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(*done);
}

// Blocks that each give a service fewer than kExactSampleLimit spans (as blocks sealed at ~150 K
// spans over 20 services do): counted over the whole query first (CountPreAggregated, as the store
// does), a group past the limit takes every block's sketches and agrees exactly with the row path,
// which sketches it too; with too few blocks for that, the rows answer and stay exact.
TEST(PreAggregateSmallBlocksTest, QueryWideCountsLetSmallBlocksAnswerAndMatchTheRowPath) {
  testing::RandomSpanOptions options;
  options.services = 3;
  options.names = 4;
  testing::RandomSpans gen(43, options);
  std::vector<StoredBlock> blocks;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < 12; ++i) {
    model::SpanBatch batch = gen.Batch(3000);  // ≈ 1,000 per service: below the limit per block
    if (i % 3 == 1) AddWeights(&batch);
    columnar::BlockBuilder builder("prod");
    builder.Append(batch);
    std::shared_ptr<const Block> sealed = builder.Seal();
    BlockMeta meta = sealed->ComputeMeta();
    meta.id = static_cast<uint64_t>(i + 1);
    meta.pre_aggregates = exec::BuildPreAggregates(*sealed);
    ASSERT_NE(meta.pre_aggregates, nullptr);
    lo = std::min(lo, meta.min_start_unix_nano);
    for (size_t r = 0; r < sealed->num_rows; ++r) hi = std::max(hi, sealed->start_unix_nano[r]);
    blocks.push_back(StoredBlock{std::move(meta), sealed, nullptr});
  }
  auto run = [&](const QuerySpec& spec, size_t n, bool pre, size_t* answered) {
    QueryExecutor::PreAggregatedSpans spans;
    const QueryExecutor counter(spec);
    for (size_t i = 0; pre && i < n; ++i) {
      Result<bool> counted = counter.CountPreAggregated(blocks[i].meta, &spans);
      EXPECT_TRUE(counted.ok() && *counted) << i;
    }
    QueryExecutor executor(spec);
    for (size_t i = 0; i < n; ++i) {
      if (pre) {
        Result<bool> done = executor.ConsumePreAggregated(blocks[i].meta, &spans);
        EXPECT_TRUE(done.ok()) << done.status().ToString();
        if (done.ok() && *done) {
          ++*answered;
          continue;
        }
        // Without the query's counts, a block alone is too small.
        QueryExecutor alone(spec);
        Result<bool> alone_done = alone.ConsumePreAggregated(blocks[i].meta);
        EXPECT_TRUE(alone_done.ok() && !*alone_done) << i;
      }
      EXPECT_TRUE(executor.Consume(*blocks[i].block).ok());
    }
    Result<QueryResult> result = executor.Finish();
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(*result) : QueryResult{};
  };
  for (CalcOp op : {CalcOp::kPercentile, CalcOp::kHeatmap}) {
    for (int variant = 0; variant < 3; ++variant) {
      QuerySpec spec;
      spec.environment = "prod";
      spec.start_unix_nano = lo / 1'000'000'000ULL * 1'000'000'000ULL;
      spec.end_unix_nano = hi + 1;
      spec.granularity_seconds = (hi + 1 - spec.start_unix_nano) / 1'000'000'000ULL + 1;
      spec.limit = kMaxLimit;
      Calculation count;
      count.op = CalcOp::kCount;
      count.op_name = "COUNT";
      count.label = CalculationLabel(count);
      Calculation calc;
      calc.op = op;
      calc.op_name = op == CalcOp::kHeatmap ? "HEATMAP" : "P99";
      calc.column = "duration_ms";
      calc.percentile = 0.99;
      calc.label = CalculationLabel(calc);
      spec.calculations = {count, calc};
      if (variant != 1) spec.breakdowns = {"service.name"};
      if (variant == 2)
        spec.filters.push_back(Filter{"service.name", FilterOp::kEq, {std::string("svc-1")}});
      const std::string context = std::string(calc.op_name) + " variant " + std::to_string(variant);
      // All 12 blocks: ≈ 12,000 spans per service, past the limit — every block answers.
      size_t answered = 0;
      const QueryResult rows = run(spec, blocks.size(), false, nullptr);
      const QueryResult pre = run(spec, blocks.size(), true, &answered);
      EXPECT_EQ(answered, blocks.size()) << context;
      std::map<std::string, double> all;  // > the limit: the comparison expects equal sketches
      for (const ResultRow& row : rows.rows) all[KeyOf(row)] = 1e18;
      for (const ResultRow& row : rows.rows) {
        ASSERT_GT(Number(row.values[0]), static_cast<double>(exec::kExactSampleLimit)) << context;
        const ResultRow* got = nullptr;
        for (const ResultRow& p : pre.rows)
          if (KeyOf(p) == KeyOf(row)) got = &p;
        ASSERT_NE(got, nullptr) << context;
        ExpectRowsAgree(spec, row, *got, &all, context);
      }
      EXPECT_EQ(rows.rows.size(), pre.rows.size()) << context;
      EXPECT_EQ(rows.spans_matched, pre.spans_matched) << context;
      // Four blocks: ≈ 4,000 per service (≈ 12,000 without a breakdown, which still answers).
      answered = 0;
      const QueryResult few_rows = run(spec, 4, false, nullptr);
      const QueryResult few_pre = run(spec, 4, true, &answered);
      EXPECT_EQ(answered, variant == 1 ? 4u : 0u) << context;
      ASSERT_EQ(few_rows.rows.size(), few_pre.rows.size()) << context;
      for (size_t r = 0; r < few_rows.rows.size() && variant != 1; ++r) {
        EXPECT_EQ(few_rows.rows[r].values, few_pre.rows[r].values) << context;  // exact, same rows
      }
    }
  }
}

// Through the embedded store: sealed blocks carry pre-aggregates in their files, and the store's
// answers (pre-aggregates where they apply) agree with `"exact": true` (rows only).
TEST(PreAggregateStoreTest, SealedBlocksCarryThemAndTheStoreAnswersWithThem) {
  testing::TempDir dir;
  store::embedded::EmbeddedStoreOptions options;
  options.data_dir = dir.path();
  options.head_max_spans = 30000;  // > kExactSampleLimit spans per service in a block
  auto opened = store::embedded::OpenEmbeddedStore(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<store::SpanStore> store(opened->release());
  testing::RandomSpanOptions gen_options;
  gen_options.services = 3;
  testing::RandomSpans gen(77, gen_options);
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < 4; ++i) {
    model::SpanBatch batch = gen.Batch(15000);
    if (i % 2) AddWeights(&batch);
    for (const model::Span& s : batch.spans) {
      lo = std::min(lo, s.start_time_unix_nano);
      hi = std::max(hi, s.start_time_unix_nano);
    }
    ASSERT_TRUE(store->Append("prod", std::move(batch)).ok());
  }
  ASSERT_TRUE(store->Admin()->Flush().ok());
  auto names = Env::Default()->ListDir(dir.path() + "/blocks");
  ASSERT_TRUE(names.ok());
  size_t blocks = 0;
  for (const std::string& name : *names) {
    if (name.size() < 4 || name.substr(name.size() - 4) != ".blk") continue;
    Result<BlockMeta> meta =
        columnar::ReadBlockMeta(Env::Default(), dir.path() + "/blocks/" + name);
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    EXPECT_GE(meta->format_version, 4u);  // 4 brought the pre-aggregates
    EXPECT_NE(meta->pre_aggregates, nullptr) << name;
    ++blocks;
  }
  EXPECT_GE(blocks, 2u);
  QuerySpec spec;
  spec.environment = "prod";
  spec.start_unix_nano = lo;
  spec.end_unix_nano = hi + 1;
  spec.granularity_seconds = (hi + 1 - lo) / 1'000'000'000ULL + 1;
  spec.limit = kMaxLimit;
  Calculation count;
  count.op = CalcOp::kCount;
  count.label = "COUNT";
  Calculation p99;
  p99.op = CalcOp::kPercentile;
  p99.column = "duration_ms";
  p99.percentile = 0.99;
  p99.op_name = "P99";
  p99.label = CalculationLabel(p99);
  spec.calculations = {count, p99};
  spec.breakdowns = {"service.name"};
  Result<QueryResult> fast = store->RunQuery(spec);
  spec.exact = true;
  Result<QueryResult> exact = store->RunQuery(spec);
  ASSERT_TRUE(fast.ok() && exact.ok());
  EXPECT_EQ(fast->spans_matched, exact->spans_matched);
  EXPECT_EQ(fast->spans_scanned, exact->spans_scanned);
  ASSERT_EQ(fast->rows.size(), 3u);
  ASSERT_EQ(exact->rows.size(), 3u);
  std::map<std::string, const ResultRow*> by_key;
  for (const ResultRow& row : fast->rows) by_key[KeyOf(row)] = &row;
  for (const ResultRow& row : exact->rows) {
    const ResultRow* got = by_key[KeyOf(row)];
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(row.values[0], got->values[0]);
    const double want = Number(row.values[1]);
    EXPECT_NEAR(want, Number(got->values[1]), 0.01 * want * (1 + 1e-9));
  }
}

}  // namespace
}  // namespace ariadne::query
