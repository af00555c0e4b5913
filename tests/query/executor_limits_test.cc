// The executor's limits: the cap on distinct groups, the per-query memory budget and cancellation,
// over real column blocks (BlockBuilder heads of generated spans), and the same through the
// embedded store's RunQuery / SearchTraces with an ExecContext.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "columnar/block.h"
#include "query/exec/executor.h"
#include "query/exec/query_budget.h"
#include "query/query_spec.h"
#include "store/embedded/embedded_store.h"
#include "tests/common/random_spans.h"

namespace ariadne::query {
namespace {

constexpr uint64_t kNow = 2'000'000'000'000'000'000ULL;

QuerySpec Spec(const std::string& json) {
  Result<QuerySpec> spec = ParseQuerySpec(json, kNow);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? *spec : QuerySpec{};
}

// A head of `spans` generated spans (unique span ids, 5 services).
std::unique_ptr<columnar::BlockBuilder> Head(size_t spans, uint64_t seed = 1) {
  auto head = std::make_unique<columnar::BlockBuilder>("default");
  testing::RandomSpans gen(seed);
  head->Append(gen.Batch(spans));
  return head;
}

// Every span of the generated data: it starts after 1764000000 s.
constexpr const char* kWindow = R"("start_time":1763990000,"end_time":1764990000)";

TEST(ExecutorLimitsTest, BreakdownPastTheGroupCapFailsSayingHowToNarrowIt) {
  auto head = Head(3000);
  ExecContext context;
  context.limits.max_groups = 100;
  QueryBudget budget(context);
  QueryExecutor executor(
      Spec(
          std::string("{") + kWindow +
          R"(,"breakdowns":["trace.span_id"],"calculations":[{"op":"P99","column":"duration_ms"}]})"),
      &budget);
  Status status = executor.Consume(head->block());
  ASSERT_EQ(status.code(), StatusCode::kResourceExhausted) << status.ToString();
  EXPECT_EQ(status.message(),
            "breakdowns: the query makes more than 100 groups (by trace.span_id), this server's "
            "limit (--query-max-groups); narrow it with filters, fewer breakdowns, or breakdowns "
            "of lower cardinality (not ids such as trace.span_id)");
  // A low-cardinality breakdown of the same data is fine.
  QueryBudget budget2(context);
  QueryExecutor by_service(Spec(std::string("{") + kWindow + R"(,"breakdowns":["service.name"]})"),
                           &budget2);
  ASSERT_TRUE(by_service.Consume(head->block()).ok());
  Result<QueryResult> result = by_service.Finish();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows.size(), 5u);
}

TEST(ExecutorLimitsTest, GroupCapCountsTheMergedGroupsOfEveryScanThread) {
  // Two executors of 60 groups each stay under a cap of 100; merged they make 120.
  auto a = Head(60, 1), b = Head(60, 2);
  ExecContext context;
  context.limits.max_groups = 100;
  QueryBudget budget(context);
  const QuerySpec spec = Spec(std::string("{") + kWindow + R"(,"breakdowns":["trace.span_id"]})");
  QueryExecutor first(spec, &budget), second(spec, &budget);
  ASSERT_TRUE(first.Consume(a->block()).ok());
  ASSERT_TRUE(second.Consume(b->block()).ok());
  Status merged = first.Merge(std::move(second));
  EXPECT_EQ(merged.code(), StatusCode::kResourceExhausted) << merged.ToString();
}

TEST(ExecutorLimitsTest, SamplesGrowingPastTheMemoryBudgetFailNamingTheFlag) {
  // Small blocks (their scratch is given back after each), one group: only the P99 samples grow
  // (exact percentiles keep every value).
  std::vector<std::unique_ptr<columnar::BlockBuilder>> heads;
  for (uint64_t seed = 1; seed <= 30; ++seed) heads.push_back(Head(2000, seed));
  ExecContext context;
  context.limits.memory_limit_bytes = 1 << 20;
  QueryBudget budget(context);
  const QuerySpec spec =
      Spec(std::string("{") + kWindow +
           R"(,"exact":true,"calculations":[{"op":"P99","column":"duration_ms"}]})");
  {
    QueryExecutor executor(spec, &budget);
    Status status;
    size_t consumed = 0;
    for (const auto& head : heads) {
      status = executor.Consume(head->block());
      if (!status.ok()) break;
      ++consumed;
    }
    ASSERT_EQ(status.code(), StatusCode::kResourceExhausted) << status.ToString();
    EXPECT_GT(consumed, 2u);  // the first blocks fit: it is the growth that was stopped
    EXPECT_NE(status.message().find("needs more than 1 MiB of memory, this server's per-query "
                                    "limit (--query-memory-limit)"),
              std::string::npos)
        << status.message();
  }
  // Destroying the executor gives every byte back.
  EXPECT_EQ(budget.used_bytes(), 0u);

  // Within a budget that fits, the query answers and releases its charge afterwards.
  QueryBudget enough{ExecContext{}};
  {
    QueryExecutor executor(spec, &enough);
    for (const auto& head : heads) ASSERT_TRUE(executor.Consume(head->block()).ok());
    Result<QueryResult> result = executor.Finish();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_GT(enough.peak_bytes(), 60000u * 24);  // at least the samples were charged
  }
  EXPECT_EQ(enough.used_bytes(), 0u);
}

TEST(ExecutorLimitsTest, SketchedPercentilesAndHeatmapsStayWithinABudgetThatExactOnesPass) {
  // The same 60,000 values that the exact path cannot hold in 1 MiB: past the exact limit the
  // group switches to a sketch (and a grid histogram) whose size does not grow with the rows.
  std::vector<std::unique_ptr<columnar::BlockBuilder>> heads;
  for (uint64_t seed = 1; seed <= 30; ++seed) heads.push_back(Head(2000, seed));
  ExecContext context;
  context.limits.memory_limit_bytes = 1 << 20;
  QueryBudget budget(context);
  const QuerySpec spec = Spec(
      std::string("{") + kWindow +
      R"(,"calculations":[{"op":"P99","column":"duration_ms"},{"op":"HEATMAP","column":"duration_ms"},)"
      R"({"op":"COUNT"}]})");
  {
    QueryExecutor executor(spec, &budget);
    for (const auto& head : heads) ASSERT_TRUE(executor.Consume(head->block()).ok());
    Result<QueryResult> result = executor.Finish();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_EQ(result->rows.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<double>(result->rows[0].values[0]));
    double counted = 0;
    for (const HeatmapBucket& b : result->rows[0].heatmaps[0]) counted += b.count;
    EXPECT_EQ(ResultValue(static_cast<int64_t>(counted)), result->rows[0].values[2]);
    EXPECT_GE(counted, 60000);
    EXPECT_LT(budget.peak_bytes(), 1u << 20);
  }
  EXPECT_EQ(budget.used_bytes(), 0u);
}

TEST(ExecutorLimitsTest, LargeColumnViewsOfOneBlockCountToo) {
  auto head = Head(20000);
  ExecContext context;
  context.limits.max_groups = 0;
  context.limits.memory_limit_bytes = 1 << 20;
  QueryBudget budget(context);
  QueryExecutor executor(
      Spec(std::string("{") + kWindow +
           R"(,"calculations":[{"op":"COUNT_DISTINCT","column":"trace.span_id"}]})"),
      &budget);
  EXPECT_EQ(executor.Consume(head->block()).code(), StatusCode::kResourceExhausted);
}

TEST(ExecutorLimitsTest, FiltersOnAttributeColumnsReadTheSparseColumnsWithoutPerRowViews) {
  // 20,000 rows: a dense view of one attribute column takes ~21 bytes a row (420 KB); three
  // filters on attributes (span and resource) would not fit in 600 KB next to the block's
  // per-row scratch, and the answer must still be right.
  testing::RandomSpans gen(3);
  model::SpanBatch batch = gen.Batch(20000);
  uint64_t expected_or = 0, expected_both = 0;
  for (const model::Span& span : batch.spans) {
    bool user = false, status = false;
    for (uint32_t a = span.attributes.begin; a < span.attributes.end(); ++a) {
      const model::KeyValue& kv = batch.attributes[a];
      if (kv.key == "user.id" && kv.value.str.substr(0, 6) == "user-4") user = true;
      if (kv.key == "http.status_code" && kv.value.int_value >= 500) status = true;
    }
    const model::Value* host =
        batch.FindAttribute(batch.resources[span.resource_index].attributes, "host.name");
    expected_or += user || status;
    expected_both += (user || status) && host != nullptr && host->str != "host-0";
  }
  auto head = std::make_unique<columnar::BlockBuilder>("default");
  head->Append(batch);
  ExecContext context;
  context.limits.memory_limit_bytes = 600 << 10;
  QueryBudget budget(context);
  const QuerySpec spec =
      Spec(std::string("{") + kWindow +
           R"(,"filters":[{"column":"user.id","op":"starts-with","value":"user-4"},)"
           R"({"column":"http.status_code","op":">=","value":500}],"filter_combination":"OR"})");
  QueryExecutor executor(spec, &budget);
  ASSERT_TRUE(executor.Consume(head->block()).ok());
  Result<QueryResult> result = executor.Finish();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->spans_matched, expected_or);
  // A resource-attribute filter (host.name lives on the resource) ANDed in.
  Filter host;
  host.column = "host.name";
  host.op = FilterOp::kNe;
  host.values.push_back(std::string("host-0"));
  QuerySpec with_host = spec;
  with_host.filter_or = false;
  with_host.filters = {host};
  std::vector<uint8_t> selected = SelectRows(spec, head->block());
  std::vector<uint8_t> host_ok = SelectRows(with_host, head->block());
  uint64_t both = 0;
  for (size_t r = 0; r < selected.size(); ++r) both += selected[r] && host_ok[r];
  EXPECT_EQ(both, expected_both);
  EXPECT_GT(expected_both, 1000u);
  EXPECT_LT(budget.peak_bytes(), 600u << 10);
}

TEST(ExecutorLimitsTest, CancelledQueryStopsAtTheNextBlock) {
  auto head = Head(1000);
  ExecContext context;
  context.cancel = std::make_shared<CancelFlag>();
  QueryBudget budget(context);
  QueryExecutor executor(Spec(std::string("{") + kWindow + "}"), &budget);
  ASSERT_TRUE(executor.Consume(head->block()).ok());
  context.cancel->Cancel();
  Status status = executor.Consume(head->block());
  EXPECT_EQ(status.code(), StatusCode::kCancelled) << status.ToString();
  EXPECT_EQ(executor.Finish().status().code(), StatusCode::kCancelled);
}

class StoreLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ariadne-executor-limits-XXXXXX";
    dir_ = mkdtemp(pattern);
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = dir_;
    auto store = store::embedded::OpenEmbeddedStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    testing::RandomSpans gen(7);
    ASSERT_TRUE(store_->Append("default", gen.Batch(4000)).ok());
    ASSERT_TRUE(store_->Admin()->Flush().ok());                    // one sealed block
    ASSERT_TRUE(store_->Append("default", gen.Batch(4000)).ok());  // and the head
  }
  void TearDown() override {
    if (store_) (void)store_->Close();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<store::SpanStore> store_;
};

TEST_F(StoreLimitsTest, RunQueryAppliesTheContextsLimitsAndCancelFlag) {
  const QuerySpec spec = Spec(std::string("{") + kWindow + R"(,"breakdowns":["trace.span_id"]})");
  ExecContext capped;
  capped.limits.max_groups = 1000;
  EXPECT_EQ(store_->RunQuery(spec, capped).status().code(), StatusCode::kResourceExhausted);
  ExecContext tight;
  tight.limits.max_groups = 0;
  tight.limits.memory_limit_bytes = 64 << 10;
  EXPECT_EQ(store_->RunQuery(spec, tight).status().code(), StatusCode::kResourceExhausted);
  ExecContext cancelled;
  cancelled.cancel = std::make_shared<CancelFlag>();
  cancelled.cancel->Cancel();
  EXPECT_EQ(store_->RunQuery(spec, cancelled).status().code(), StatusCode::kCancelled);
  store::TraceSearchRequest search;
  search.start_unix_nano = 1763990000ULL * 1'000'000'000ULL;
  search.end_unix_nano = 1764990000ULL * 1'000'000'000ULL;
  EXPECT_EQ(store_->SearchTraces(search, cancelled).status().code(), StatusCode::kCancelled);
  // Within the defaults the same query answers with every span its own group.
  ExecContext roomy;
  roomy.limits.max_groups = 0;
  Result<QueryResult> result = store_->RunQuery(spec, roomy);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->spans_matched, result->spans_scanned);
}

}  // namespace
}  // namespace ariadne::query
