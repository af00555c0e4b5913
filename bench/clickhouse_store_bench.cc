// The ClickHouse store beside the embedded one, on the same realistic spans
// (tools/gen/realistic_spans.h), against a running clickhouse-server:
//
//   clickhouse_store_bench clickhouse://127.0.0.1:8123/bench [SPANS]   (default 200000)
//
// 1. Insert format: 1,000-span batches encoded and inserted synchronously as RowBinary and as
//    JSONEachRow (each into a plain copy of the spans table), median per batch.
// 2. Ingest through the store: every batch appended with AppendAsync (the pipeline's path),
//    spans/s until the last one is acknowledged; the embedded store on the same batches.
// 3. The same questions to both engines, median of 5 after one warm-up; each answer is checked
//    to agree between the engines before it is timed (counts equal).
// Prints Markdown tables (docs/clickhouse.md quotes them). Drops the benchmark database at start.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "store/clickhouse/clickhouse_client.h"
#include "store/clickhouse/clickhouse_store.h"
#include "store/clickhouse/row_codec.h"
#include "store/clickhouse/schema.h"
#include "store/embedded/embedded_store.h"
#include "tools/gen/realistic_spans.h"

namespace ariadne {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

[[noreturn]] void Die(const std::string& what, const Status& status) {
  std::fprintf(stderr, "clickhouse_store_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  std::exit(1);
}

void Check(const Status& status, const std::string& what) {
  if (!status.ok()) Die(what, status);
}

constexpr uint64_t kStart = 1'764'000'000'000'000'000ULL;

int Run(const std::string& url, uint64_t target) {
  auto config = store::clickhouse::ParseClickHouseUrl(url);
  Check(config.status(), "URL");
  store::clickhouse::ClickHouseClient client(*config);
  Check(client.Query("DROP DATABASE IF EXISTS " + config->database, false).status(), "drop");
  std::vector<std::string> created;
  Check(store::clickhouse::EnsureSchema(&client, &created), "schema");

  gen::RealisticOptions gen_options;
  gen_options.start_unix_nano = kStart;
  gen_options.trace_interval_nano = 100'000;
  gen::RealisticSpans gen(42, gen_options);
  std::vector<model::SpanBatch> batches;
  uint64_t spans = 0;
  while (spans < target) {
    batches.push_back(gen.Batch(1000));
    spans += batches.back().spans.size();
  }
  uint64_t end = 0;
  for (const auto& b : batches)
    for (const auto& s : b.spans) end = std::max(end, s.start_time_unix_nano + 1);

  // 1. Insert formats.
  for (const char* table : {"fmt_rowbinary", "fmt_json"})
    Check(client
              .Query(std::string("CREATE TABLE ") + table +
                     " ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM spans WHERE 0")
              .status(),
          "format table");
  for (const char* column : {"trace_id", "span_id", "parent_id"})
    Check(client.Query(std::string("ALTER TABLE fmt_json MODIFY COLUMN ") + column + " String")
              .status(),
          "alter");
  const std::string columns(store::clickhouse::SpanColumnList());
  std::vector<double> rb_ms, json_ms, rb_encode, json_encode;
  size_t rb_bytes = 0, json_bytes = 0;
  const size_t format_batches = std::min<size_t>(30, batches.size());
  for (size_t i = 0; i < format_batches; ++i) {
    std::string body;
    auto t0 = Clock::now();
    store::clickhouse::EncodeSpanRows("bench", batches[i], &body);
    auto t1 = Clock::now();
    Check(client.Insert("INSERT INTO fmt_rowbinary (" + columns + ") FORMAT RowBinary", body),
          "RowBinary insert");
    auto t2 = Clock::now();
    rb_encode.push_back(Ms(t1 - t0));
    rb_ms.push_back(Ms(t2 - t0));
    rb_bytes += body.size();
    body.clear();
    t0 = Clock::now();
    store::clickhouse::EncodeSpanRowsJson("bench", batches[i], &body);
    t1 = Clock::now();
    Check(client.Insert("INSERT INTO fmt_json (" + columns + ") FORMAT JSONEachRow", body),
          "JSONEachRow insert");
    t2 = Clock::now();
    json_encode.push_back(Ms(t1 - t0));
    json_ms.push_back(Ms(t2 - t0));
    json_bytes += body.size();
  }
  std::printf("### Insert format, %zu batches of ~1,000 spans (median per batch)\n\n",
              format_batches);
  std::printf(
      "| format | encode ms | encode + insert ms | spans/s | body KiB |\n|---|---|---|---|---|\n");
  const double per = static_cast<double>(batches[0].spans.size());
  std::printf("| RowBinary | %.2f | %.2f | %.0f | %.0f |\n", Median(rb_encode), Median(rb_ms),
              per / Median(rb_ms) * 1000, rb_bytes / 1024.0 / format_batches);
  std::printf("| JSONEachRow | %.2f | %.2f | %.0f | %.0f |\n\n", Median(json_encode),
              Median(json_ms), per / Median(json_ms) * 1000, json_bytes / 1024.0 / format_batches);

  // 2. Ingest through the stores.
  store::clickhouse::ClickHouseStoreOptions ch_options;
  ch_options.config = *config;
  ch_options.max_queued_spans = spans + 1;
  auto ch = store::clickhouse::OpenClickHouseStore(ch_options, &created);
  Check(ch.status(), "open clickhouse store");
  const std::string dir =
      (std::filesystem::temp_directory_path() / "ariadne-clickhouse-store-bench").string();
  std::filesystem::remove_all(dir);
  store::embedded::EmbeddedStoreOptions em_options;
  em_options.data_dir = dir;
  auto em = store::embedded::OpenEmbeddedStore(em_options);
  Check(em.status(), "open embedded store");
  struct Engine {
    const char* name;
    store::SpanStore* store;
  };
  const Engine engines[] = {{"embedded", em->get()}, {"ClickHouse", ch->get()}};
  std::printf("### Ingest, %llu spans in batches of ~1,000 (AppendAsync, all queued)\n\n",
              static_cast<unsigned long long>(spans));
  std::printf("| engine | seconds | spans/s |\n|---|---|---|\n");
  for (const Engine& e : engines) {
    std::atomic<size_t> left{batches.size()};
    std::atomic<bool> failed{false};
    std::promise<void> all_done;
    const auto t0 = Clock::now();
    for (const auto& b : batches)
      e.store->AppendAsync("bench", b.Clone(), [&](Status s) {
        if (!s.ok()) failed = true;
        if (--left == 0) all_done.set_value();
      });
    all_done.get_future().wait();
    const double seconds = Ms(Clock::now() - t0) / 1000;
    if (failed) Die(e.name, Status::Internal("an append failed"));
    std::printf("| %s | %.2f | %.0f |\n", e.name, seconds, spans / seconds);
  }
  Check((*em)->Flush(), "flush");

  // 3. Questions.
  auto spec = [&](std::vector<query::Calculation> calcs, std::vector<query::Filter> filters,
                  std::vector<std::string> breakdowns) {
    query::QuerySpec s;
    s.start_unix_nano = kStart;
    s.end_unix_nano = end;
    s.granularity_seconds = std::max<uint64_t>(1, ((end - kStart) / 1'000'000'000 + 119) / 120);
    s.calculations = std::move(calcs);
    s.filters = std::move(filters);
    s.breakdowns = std::move(breakdowns);
    return s;
  };
  auto calc = [](query::CalcOp op, std::string column = "", double p = 0) {
    query::Calculation c;
    c.op = op;
    c.column = std::move(column);
    c.percentile = p;
    return c;
  };
  query::Filter status_500;
  status_500.column = "http.status_code";
  status_500.values = {int64_t{500}};
  const model::TraceId some_trace = batches[batches.size() / 2].spans[0].trace_id;
  struct Question {
    const char* name;
    std::function<uint64_t(store::SpanStore*)> run;  // returns a count to cross-check
  };
  auto query_count = [](store::SpanStore* s, const query::QuerySpec& q) -> uint64_t {
    auto r = s->RunQuery(q);
    Check(r.status(), "query");
    return r->spans_matched;
  };
  const query::QuerySpec p99 =
      spec({calc(query::CalcOp::kPercentile, "duration_ms", 0.99)}, {}, {"service.name"});
  const query::QuerySpec count = spec({calc(query::CalcOp::kCount)}, {status_500}, {});
  const query::QuerySpec heat = spec({calc(query::CalcOp::kHeatmap, "duration_ms")}, {}, {});
  const Question questions[] = {
      {"P99(duration_ms) by service", [&](store::SpanStore* s) { return query_count(s, p99); }},
      {"COUNT where http.status_code = 500",
       [&](store::SpanStore* s) { return query_count(s, count); }},
      {"HEATMAP(duration_ms)", [&](store::SpanStore* s) { return query_count(s, heat); }},
      {"trace by id",
       [&](store::SpanStore* s) -> uint64_t {
         auto t = s->GetTrace(some_trace);
         Check(t.status(), "trace");
         return t->spans.spans.size();
       }},
      {"trace search (status 500, 20 newest)",
       [&](store::SpanStore* s) -> uint64_t {
         store::TraceSearchRequest r;
         r.start_unix_nano = kStart;
         r.end_unix_nano = end;
         r.filters = {status_500};
         auto found = s->SearchTraces(r);
         Check(found.status(), "search");
         uint64_t n = 0;
         for (const auto& t : *found) n += t.span_count;
         return n;
       }},
  };
  std::printf("\n### Queries over the same %llu spans (median of 5 after a warm-up)\n\n",
              static_cast<unsigned long long>(spans));
  std::printf("| question | embedded ms | ClickHouse ms | ratio |\n|---|---|---|---|\n");
  for (const Question& q : questions) {
    double ms[2];
    uint64_t answers[2];
    for (int e = 0; e < 2; ++e) {
      answers[e] = q.run(engines[e].store);
      std::vector<double> times;
      for (int i = 0; i < 5; ++i) {
        const auto t0 = Clock::now();
        q.run(engines[e].store);
        times.push_back(Ms(Clock::now() - t0));
      }
      ms[e] = Median(times);
    }
    if (answers[0] != answers[1])
      Die(q.name, Status::Internal("the engines disagree: " + std::to_string(answers[0]) + " vs " +
                                   std::to_string(answers[1])));
    std::printf("| %s | %.1f | %.1f | %.1f |\n", q.name, ms[0], ms[1], ms[1] / ms[0]);
  }
  Check((*ch)->Close(), "close");
  Check((*em)->Close(), "close");
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace ariadne

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: clickhouse_store_bench clickhouse://HOST:PORT/DATABASE [SPANS]\n");
    return 2;
  }
  return ariadne::Run(argv[1], argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200'000);
}
