// Differential test of X-Ray filtering through the trace-summary index against the old path, kept
// here as the oracle: every trace fetched whole and evaluated with Filter::Matches.
//   1. Per trace: Filter::Decide on the trace's summary (TraceFacts) is kUnknown or agrees with
//      Filter::Matches on the whole trace, for a wide set of expressions over random X-Ray traces
//      (several services, flags explicit and from HTTP status, users, typed annotations,
//      downstream segments sent as separate documents, in-progress duplicates).
//   2. Through the embedded store: XrayTraceReader::MatchingTraces (index, paged) returns the
//      same traces in the same order as ForEachTrace + Matches, with traces split across batches,
//      sealed blocks and the head, and again after the store is reopened (index rebuilt from the
//      blocks and the WAL).
//   3. The same through the ClickHouse engine (its paged trace search in SQL,
//      store/clickhouse/trace_page_sql.h), skipped without clickhouse-server.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/xray/trace_reads.h"
#include "query/xray_filter/filter.h"
#include "receivers/xray/segment_decoder.h"
#include "store/embedded/embedded_store.h"
#include "store/embedded/trace_summary_file.h"
#include "tests/store/conformance/engines.h"
#include "tests/store/store_test_util.h"

namespace ariadne::testing {
namespace {

using json = nlohmann::json;
using query::xray_filter::Filter;
using query::xray_filter::TraceFacts;
using query::xray_filter::TraceView;

constexpr double kStart = 1'764'000'000.0;

const char* const kExpressions[] = {
    "ok",
    "error",
    "fault",
    "throttle",
    "!fault",
    "partial",
    "root",
    "duration > 0.05",
    "duration <= 0.03",
    "responsetime < 0.04",
    "http.status = 500",
    "http.status >= 400",
    "http.status IN (404, 503)",
    "http.url CONTAINS \"/a\"",
    "http.url BEGINSWITH \"http://svc-1\"",
    "http.method = \"POST\"",
    "user = \"alice\"",
    "user != \"bob\"",
    "name = \"svc-1\"",
    "type = \"AWS::EC2::Instance\"",
    "annotation.tier = \"gold\"",
    "annotation.tier != \"gold\"",
    "annotation.count > 3",
    "annotation.count = 2",
    "annotation.flag",
    "annotation.flag = false",
    "service(\"svc-2\")",
    "service(\"svc-2\") { fault }",
    "service() { error }",
    "!service(\"svc-3\")",
    "service(id(name: \"svc-1\", type: \"AWS::EC2::Instance\"))",
    "edge(\"svc-1\", \"svc-2\")",
    "service(\"svc-3\") { fault }",
    "service(\"svc-1\") { responsetime > 0.03 }",
    "service(\"db\") { inferred AND !ok }",
    "service() { http.status = 503 OR throttle }",
    "service(id(type: \"remote\")) { root }",
    "service(\"svc-2\") { user = \"alice\" }",
    "service(\"svc-2\") { annotation.tier = \"platinum\" }",
    "service(\"svc-2\") { http.url CONTAINS \"/a\" }",
    "service(\"svc-1\") { !error AND duration > 0.04 }",
    "service(\"svc-1\") { service(\"svc-2\") { fault } }",
    "!service(\"svc-2\") { ok }",
    "edge(\"svc-1\", \"db\")",
    "edge(\"svc-1\", \"svc-2\") { fault }",
    "edge(\"svc-2\", \"svc-3\") { responsetime < 0.005 OR error }",
    "edge(\"svc-1\", \"svc-1\")",
    "rootcause.fault.service",
    "rootcause.error.service",
    "rootcause.responsetime.entity",
    "rootcause.fault.exception",
    "rootcause.fault.service { name = \"svc-2\" }",
    "rootcause.error.entity",
    "rootcause.responsetime.service { name = \"svc-1\" }",
    "message CONTAINS \"boom\"",
    "fault OR annotation.tier = \"gold\"",
    "!(error AND duration > 0.02)",
    "group.name = \"gold\"",
    "group.name = \"nope\" OR throttle",
};

// Expressions the summary must decide for every trace (no fetch at all).
const char* const kAlwaysDecided[] = {"ok",
                                      "error",
                                      "fault",
                                      "throttle",
                                      "duration > 0.05",
                                      "http.status >= 400",
                                      "user = \"alice\"",
                                      "annotation.tier = \"gold\"",
                                      "annotation.count > 3",
                                      "service(\"svc-2\")",
                                      "service(\"svc-3\") { fault }",
                                      "service(\"svc-1\") { responsetime > 0.03 }",
                                      "service() { http.status = 503 OR throttle }",
                                      "edge(\"svc-1\", \"db\")",
                                      "edge(\"svc-1\", \"svc-2\") { fault }",
                                      "rootcause.fault.service",
                                      "fault OR annotation.tier = \"gold\"",
                                      "group.name = \"gold\""};

std::optional<std::string> Groups(std::string_view name, bool) {
  if (name == "gold") return std::string("annotation.tier = \"gold\" AND !fault");
  return std::nullopt;
}

std::string Hex(uint64_t v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

// The segment documents of one random trace.
std::vector<std::string> RandomTrace(std::mt19937_64& rng, uint64_t t) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const std::string trace_id = "1-" + Hex(static_cast<uint64_t>(kStart), 8) + "-" + Hex(t + 1, 24);
  const double start = kStart + static_cast<double>(t) * 0.01;
  uint64_t next_id = t * 64 + 1;
  auto id = [&] { return Hex(next_id++, 16); };
  auto annotations = [&] {
    json a = json::object();
    if (pick(3) == 0) a["tier"] = pick(2) ? "gold" : "silver";
    if (pick(3) == 0) a["count"] = pick(6);
    if (pick(4) == 0) a["flag"] = pick(2) == 0;
    return a;
  };
  auto segment = [&](const std::string& name, double s, double e) {
    static const int kStatus[] = {200, 200, 200, 404, 429, 500, 503};
    json doc = {
        {"name", name}, {"id", id()}, {"trace_id", trace_id}, {"start_time", s}, {"end_time", e}};
    if (pick(2)) doc["origin"] = "AWS::EC2::Instance";
    doc["http"] = {
        {"request",
         {{"method", pick(3) ? "GET" : "POST"},
          {"url", "http://" + name + "/" + (pick(2) ? "a" : "b") + std::to_string(pick(3))}}},
        {"response", {{"status", kStatus[pick(7)]}}}};
    if (pick(5) == 0) doc["fault"] = true;
    if (pick(6) == 0) doc["error"] = true;
    if (pick(10) == 0) doc["throttle"] = doc["error"] = true;
    if (pick(4) == 0) doc["user"] = pick(2) ? "alice" : "bob";
    json a = annotations();
    if (!a.empty()) doc["annotations"] = a;
    if (pick(8) == 0) {
      doc["cause"] = {{"exceptions", {{{"id", id()}, {"type", "Boom"}, {"message", "boom here"}}}}};
      doc["fault"] = true;
    }
    return doc;
  };
  std::vector<std::string> docs;
  const std::string root_name = "svc-" + std::to_string(pick(3) + 1);
  const double end = start + 0.01 + pick(60) * 0.001;
  json root = segment(root_name, start, end);
  json subsegments = json::array();
  const int subs = pick(4);
  std::string downstream_parent;
  for (int k = 0; k < subs; ++k) {
    json sub = {{"name", pick(2) ? "db" : "svc-2"},
                {"id", id()},
                {"namespace", pick(2) ? "remote" : "aws"},
                {"start_time", start + 0.001 * k},
                {"end_time", start + 0.001 * k + 0.004}};
    json a = annotations();
    if (!a.empty()) sub["annotations"] = a;
    if (pick(5) == 0) sub["fault"] = true;
    downstream_parent = sub["id"];
    subsegments.push_back(sub);
  }
  if (!subsegments.empty()) root["subsegments"] = subsegments;
  if (pick(10) == 0) {
    // An in-progress version sent first, the complete one later.
    json partial = root;
    partial.erase("end_time");
    partial["in_progress"] = true;
    docs.push_back(partial.dump());
  }
  if (pick(12) != 0) docs.push_back(root.dump());  // else: the root never arrives (orphans)
  if (!downstream_parent.empty() && pick(2)) {
    json child = segment("svc-" + std::to_string(pick(4) + 1), start + 0.002, start + 0.008);
    child["parent_id"] = downstream_parent;
    docs.push_back(child.dump());
  }
  if (docs.empty()) docs.push_back(root.dump());
  return docs;
}

struct Fixture {
  std::vector<model::SpanBatch> traces;                  // every document of a trace
  std::vector<std::vector<model::SpanBatch>> documents;  // per trace, one batch per document
  Fixture() {
    std::mt19937_64 rng(77);
    for (uint64_t t = 0; t < 400; ++t) {
      model::SpanBatch batch;
      documents.emplace_back();
      for (const std::string& doc : RandomTrace(rng, t)) {
        model::SpanBatch one;
        auto decoded = receivers::xray::DecodeSegmentDocument(doc, &one);
        EXPECT_TRUE(decoded.ok()) << decoded.status().ToString() << "\n" << doc;
        receivers::xray::AppendBatch(one, &batch);
        documents.back().push_back(std::move(one));
      }
      traces.push_back(std::move(batch));
    }
  }
};

TEST(XraySummaryDifferentialTest, DecideAgreesWithMatchesWheneverItDecides) {
  Fixture fixture;
  query::xray_filter::GroupResolver groups = Groups;
  for (const char* text : kExpressions) {
    SCOPED_TRACE(text);
    auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter.ok()) << filter.status().ToString();
    size_t decided = 0, matched = 0;
    for (const model::SpanBatch& batch : fixture.traces) {
      TraceView view = TraceView::Build(batch);
      const TraceFacts facts = TraceFacts::FromView(view);
      const bool want = filter->Matches(view, &groups);
      matched += want;
      const Filter::Verdict got = filter->Decide(facts, &groups);
      if (got == Filter::Verdict::kUnknown) continue;
      ++decided;
      EXPECT_EQ(got == Filter::Verdict::kYes, want) << batch.spans[0].trace_id.ToHex();
    }
    const bool always = std::find_if(std::begin(kAlwaysDecided), std::end(kAlwaysDecided),
                                     [&](const char* e) { return std::string(e) == text; }) !=
                        std::end(kAlwaysDecided);
    if (always) {
      EXPECT_EQ(decided, fixture.traces.size());
      EXPECT_GT(matched, 0u);
      EXPECT_LT(matched, fixture.traces.size());
    }
  }
}

// A random expression with service()/edge()/root-cause blocks: their keywords mixed with ones a
// node cannot answer (http.url, message, annotations), nested and negated.
std::string RandomBlockExpression(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  static const char* const kInBlock[] = {"ok",
                                         "error",
                                         "fault",
                                         "throttle",
                                         "inferred",
                                         "root",
                                         "remote",
                                         "first",
                                         "partial",
                                         "responsetime > 0.004",
                                         "responsetime <= 0.02",
                                         "duration > 0.03",
                                         "http.status = 500",
                                         "http.status >= 400",
                                         "user = \"alice\"",
                                         "name = \"db\"",
                                         "type = \"remote\"",
                                         "type != \"AWS::EC2::Instance\"",
                                         "http.url CONTAINS \"/a\"",
                                         "message CONTAINS \"boom\"",
                                         "annotation.tier = \"gold\"",
                                         "annotation.count > 100",
                                         "index = 0",
                                         "group.name = \"gold\""};
  static const char* const kSelectors[] = {"\"svc-1\"",
                                           "\"svc-2\"",
                                           "\"svc-3\"",
                                           "\"svc-4\"",
                                           "\"db\"",
                                           "id(type: \"remote\")",
                                           "id(name: \"svc-2\", type: \"AWS::EC2::Instance\")"};
  auto atom = [&] { return std::string(kInBlock[pick(std::size(kInBlock))]); };
  auto block = [&] {
    std::string b = atom();
    switch (pick(4)) {
      case 0:
        return b + " AND " + atom();
      case 1:
        return b + " OR " + atom();
      case 2:
        return "!(" + b + ")";
      default:
        return b;
    }
  };
  auto sel = [&] { return std::string(kSelectors[pick(std::size(kSelectors))]); };
  auto term = [&]() -> std::string {
    static const char* const kRootCauses[] = {"rootcause.fault.service", "rootcause.error.service",
                                              "rootcause.fault.entity", "rootcause.error.exception",
                                              "rootcause.responsetime.service"};
    switch (pick(5)) {
      case 0:
        return "service(" + sel() + ")" + (pick(4) ? " { " + block() + " }" : "");
      case 1:
        return "service() { " + block() + " }";
      case 2:
        return "edge(" + sel() + ", " + sel() + ")" + (pick(3) ? " { " + block() + " }" : "");
      case 3:
        return std::string(kRootCauses[pick(std::size(kRootCauses))]) +
               (pick(3) ? "" : " { " + block() + " }");
      default:
        return atom();
    }
  };
  std::string e = term();
  switch (pick(4)) {
    case 0:
      return e + " AND " + term();
    case 1:
      return e + " OR " + term();
    case 2:
      return "!" + e;
    default:
      return e;
  }
}

// Generated block expressions over the random traces: whenever Decide decides it agrees with
// Matches, and expressions whose blocks read only what nodes carry are mostly decided.
TEST(XraySummaryDifferentialTest, GeneratedBlockExpressionsAgreeWithMatches) {
  Fixture fixture;
  query::xray_filter::GroupResolver groups = Groups;
  std::vector<TraceView> views;
  std::vector<TraceFacts> facts;
  for (const model::SpanBatch& batch : fixture.traces) {
    views.push_back(TraceView::Build(batch));
    facts.push_back(TraceFacts::FromView(views.back()));
    ASSERT_TRUE(facts.back().nodes_complete);
    ASSERT_EQ(facts.back().nodes.size(), views.back().segments().size());
  }
  std::mt19937_64 rng(4242);
  size_t decided = 0, total = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string text = RandomBlockExpression(rng);
    SCOPED_TRACE(text);
    auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter.ok()) << filter.status().ToString();
    for (size_t t = 0; t < views.size(); ++t) {
      const bool want = filter->Matches(views[t], &groups);
      const Filter::Verdict got = filter->Decide(facts[t], &groups);
      ++total;
      if (got == Filter::Verdict::kUnknown) continue;
      ++decided;
      ASSERT_EQ(got == Filter::Verdict::kYes, want) << fixture.traces[t].spans[0].trace_id.ToHex();
    }
  }
  EXPECT_GT(decided, total / 2);
}

// Without per-node facts (more segments than kept, or a side file older than version 5) block,
// edge and root-cause terms answer kUnknown where they could match, never a guess.
TEST(XraySummaryDifferentialTest, BlockTermsAreUnknownWithoutNodeFacts) {
  std::vector<std::string> docs;
  const std::string trace_id = "1-" + Hex(static_cast<uint64_t>(kStart), 8) + "-" + Hex(99, 24);
  json root = {{"name", "svc-1"},      {"id", Hex(1, 16)},         {"trace_id", trace_id},
               {"start_time", kStart}, {"end_time", kStart + 0.5}, {"fault", true}};
  json subs = json::array();
  for (uint64_t k = 0; k < TraceFacts::kMaxNodes + 6; ++k) {
    subs.push_back({{"name", "db"},
                    {"id", Hex(100 + k, 16)},
                    {"namespace", "remote"},
                    {"start_time", kStart + 0.001 * k},
                    {"end_time", kStart + 0.001 * k + 0.002}});
  }
  root["subsegments"] = subs;
  model::SpanBatch batch;
  ASSERT_TRUE(receivers::xray::DecodeSegmentDocument(root.dump(), &batch).ok());
  TraceView view = TraceView::Build(batch);
  ASSERT_GT(view.segments().size(), TraceFacts::kMaxNodes);
  TraceFacts many = TraceFacts::FromView(view);
  EXPECT_FALSE(many.nodes_complete);
  EXPECT_TRUE(many.nodes.empty());
  for (const char* text :
       {"service(\"svc-1\") { fault }", "edge(\"svc-1\", \"db\")", "rootcause.fault.service"}) {
    SCOPED_TRACE(text);
    auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter.ok());
    EXPECT_TRUE(filter->Matches(view));
    EXPECT_EQ(filter->Decide(many), Filter::Verdict::kUnknown);
  }
  // Still decided without nodes: a service no segment has.
  auto absent = Filter::Parse("service(\"svc-9\") { fault } OR edge(\"svc-9\", \"db\")");
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->Decide(many), Filter::Verdict::kNo);
}

void ExpectSameStats(const query::xray::XrayGraphStats& a, const query::xray::XrayGraphStats& b) {
  EXPECT_EQ(a.ok, b.ok);
  EXPECT_EQ(a.throttle, b.throttle);
  EXPECT_EQ(a.error_other, b.error_other);
  EXPECT_EQ(a.fault, b.fault);
  EXPECT_EQ(a.total, b.total);
  EXPECT_EQ(a.total_response_time, b.total_response_time);
  EXPECT_EQ(a.start, b.start);
  EXPECT_EQ(a.end, b.end);
  EXPECT_EQ(a.histogram, b.histogram);
}

// GetServiceGraph's graph from the summaries' per-node facts equals the one from the whole
// traces (TraceView): the same nodes in the same order, the same statistics bit for bit, the
// same edges; facts without complete nodes add nothing and say so.
TEST(XraySummaryDifferentialTest, ServiceGraphFromNodeFactsEqualsTheWholeTraces) {
  Fixture fixture;
  query::xray::XrayServiceGraph from_views, from_facts;
  for (const model::SpanBatch& batch : fixture.traces) {
    TraceView view = TraceView::Build(batch);
    from_views.Add(view);
    ASSERT_TRUE(from_facts.AddNodes(TraceFacts::FromView(view)));
  }
  const auto& a = from_views.nodes();
  const auto& b = from_facts.nodes();
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 4u);
  size_t edges = 0;
  for (size_t n = 0; n < a.size(); ++n) {
    SCOPED_TRACE(a[n].name + "/" + a[n].type);
    EXPECT_EQ(a[n].name, b[n].name);
    EXPECT_EQ(a[n].type, b[n].type);
    EXPECT_EQ(a[n].inferred, b[n].inferred);
    EXPECT_EQ(a[n].root, b[n].root);
    ExpectSameStats(a[n].stats, b[n].stats);
    ASSERT_EQ(a[n].edges.size(), b[n].edges.size());
    for (const auto& [callee, stats] : a[n].edges) {
      ASSERT_EQ(b[n].edges.count(callee), 1u);
      ExpectSameStats(stats, b[n].edges.at(callee));
      ++edges;
    }
  }
  EXPECT_GT(edges, 4u);
  TraceFacts incomplete = TraceFacts::FromView(TraceView::Build(fixture.traces[0]));
  incomplete.nodes_complete = false;
  EXPECT_FALSE(from_facts.AddNodes(incomplete));
  EXPECT_EQ(from_facts.nodes().size(), a.size());
}

class XrayIndexOracleTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  virtual void Open() {
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = dir_.path();
    options.sync = false;
    options.trace_index = true;
    auto opened = store::embedded::OpenEmbeddedStore(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  // `small_blocks`: every batch is sealed into a block of its own (traces then span blocks).
  void Load(bool small_blocks = false) {
    // A trace's first document goes into the current batch, its others into the next one, so
    // traces span batches; a flush halfway seals what came so far, so some span a block and the
    // head.
    model::SpanBatch batch, later;
    size_t n = 0;
    for (const std::vector<model::SpanBatch>& docs : fixture_.documents) {
      for (size_t d = 0; d < docs.size(); ++d)
        receivers::xray::AppendBatch(docs[d], d == 0 ? &batch : &later);
      if (++n % 37 == 0) {
        ASSERT_TRUE(store_->Append("default", std::move(batch)).ok());
        batch = std::move(later);
        later = model::SpanBatch();
        if (small_blocks) ASSERT_TRUE(store_->Admin()->Flush().ok());
      }
      if (n == fixture_.documents.size() / 2) {
        if (store::StoreAdmin* admin = store_->Admin()) ASSERT_TRUE(admin->Flush().ok());
      }
    }
    ASSERT_TRUE(store_->Append("default", std::move(batch)).ok());
    ASSERT_TRUE(store_->Append("default", std::move(later)).ok());
  }

  // The old path: every trace of the window whole, in trace start order, Matches.
  std::vector<model::TraceId> Oracle(const Filter& filter) {
    query::xray_filter::GroupResolver groups = Groups;
    std::vector<std::pair<uint64_t, model::TraceId>> out;
    EXPECT_TRUE(store_
                    ->ForEachTrace(0, UINT64_MAX, "default",
                                   [&](const store::TraceResult& t) {
                                     if (filter.Matches(TraceView::Build(t.spans), &groups)) {
                                       uint64_t first = UINT64_MAX;
                                       for (const auto& s : t.spans.spans)
                                         first = std::min(first, s.start_time_unix_nano);
                                       out.emplace_back(first, t.spans.spans[0].trace_id);
                                     }
                                     return true;
                                   })
                    .ok());
    std::sort(out.begin(), out.end());
    std::vector<model::TraceId> ids;
    for (const auto& [start, id] : out) ids.push_back(id);
    return ids;
  }

  // The index path, paged by `limit`.
  std::vector<model::TraceId> Indexed(const Filter& filter, size_t limit) {
    query::xray_filter::GroupResolver groups = Groups;
    query::xray::XrayTraceReader reader(store_.get(), "default");
    query::xray::MatchingTracesRequest request;
    request.start_nano = 0;
    request.end_nano = UINT64_MAX;
    request.filter = &filter;
    request.groups = &groups;
    request.limit = limit;
    std::vector<model::TraceId> ids;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = reader.MatchingTraces(request, [&](const TraceView& view) {
        ids.push_back(view.batch().spans[view.spans().front()].trace_id);
      });
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok() || !page->next) break;
      request.after = page->next;
    }
    return ids;
  }

  TempDir dir_;
  Fixture fixture_;
  std::unique_ptr<store::SpanStore> store_;
};

TEST_F(XrayIndexOracleTest, IndexedMatchingTracesEqualTheWholeTraceOracle) {
  Load();
  for (const char* text : kExpressions) {
    SCOPED_TRACE(text);
    auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter.ok());
    const std::vector<model::TraceId> want = Oracle(*filter);
    EXPECT_EQ(Indexed(*filter, 0), want);
    EXPECT_EQ(Indexed(*filter, 7), want);
  }
}

TEST_F(XrayIndexOracleTest, ReopenedStoreRebuildsTheIndexFromBlocksAndWal) {
  Load();
  auto filter = Filter::Parse("fault OR annotation.tier = \"gold\"");
  ASSERT_TRUE(filter.ok());
  const std::vector<model::TraceId> before = Indexed(*filter, 5);
  ASSERT_FALSE(before.empty());
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  Open();
  EXPECT_EQ(Indexed(*filter, 5), before);
  EXPECT_EQ(Oracle(*filter), before);
}

// Annotation terms with every operator of the filter language, and terms no trace matches.
const char* const kAnnotationExpressions[] = {
    "annotation.tier = \"gold\"",
    "annotation.tier != \"gold\"",
    "annotation.tier IN (\"gold\", \"bronze\")",
    "annotation.tier CONTAINS \"ilv\"",
    "annotation.tier BEGINSWITH \"g\"",
    "annotation.tier ENDSWITH \"er\"",
    "annotation.tier = 3",
    "annotation.count < 1",
    "annotation.count <= 1",
    "annotation.count > 4",
    "annotation.count >= 5",
    "annotation.count = 3",
    "annotation.count != 3",
    "annotation.count IN (1, 4)",
    "annotation.flag",
    "annotation.flag = true",
    "annotation.flag = false",
    "annotation.tier = \"gold\" AND annotation.count > 3",
    "fault annotation.count >= 2",
    "annotation.nonexistent = \"x\"",
    "annotation.tier = \"platinum\"",
    "annotation.count > 100",
    "annotation.nonexistent OR annotation.flag",
    "!annotation.nonexistent",
};

uint64_t BlocksSkipped(store::SpanStore& store) {
  return store.Admin()->Stats().trace_summary_blocks_skipped;
}
uint64_t SideFilesLoaded(store::SpanStore& store) {
  return store.Admin()->Stats().trace_summary_loads;
}

// Sealed blocks passed over by their side files' digests (docs/formats/trace-summaries.md,
// "Digest"): an annotation search over small blocks, both orders of paging, equals the oracle for
// every operator, and one no trace matches decodes no side file.
TEST_F(XrayIndexOracleTest, AnnotationSearchesSkipBlocksAndEqualTheOracle) {
  Load(/*small_blocks=*/true);
  auto none = Filter::Parse("annotation.nonexistent = \"x\"");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(Indexed(*none, 5).empty());
  EXPECT_EQ(SideFilesLoaded(*store_), 0u);
  EXPECT_GE(BlocksSkipped(*store_), 8u);
  for (const char* text : kAnnotationExpressions) {
    SCOPED_TRACE(text);
    auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter.ok());
    const std::vector<model::TraceId> want = Oracle(*filter);
    EXPECT_EQ(Indexed(*filter, 0), want);
    EXPECT_EQ(Indexed(*filter, 7), want);
  }
}

// Side files of version 3 (no digest, as the previous release wrote them): the answers are the
// same, their blocks are read (never skipped) until a search has read each once, which rewrites
// it with its digest; from then on the blocks are skipped, also after a restart.
TEST_F(XrayIndexOracleTest, VersionThreeSideFilesAreReadThenGivenTheirDigest) {
  Load(/*small_blocks=*/true);
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  int rewritten = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path() + "/blocks")) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".tsum") continue;
    Result<std::string> data = Env::Default()->ReadFile(path);
    ASSERT_TRUE(data.ok());
    auto parts = store::embedded::DecodeTraceSummaryParts(*data);
    ASSERT_TRUE(parts.ok()) << parts.status().ToString();
    ASSERT_TRUE(WriteFileAtomically(
                    Env::Default(), path,
                    store::embedded::EncodeTraceSummariesVersion3(parts->parts, parts->whole))
                    .ok());
    ++rewritten;
  }
  ASSERT_GE(rewritten, 8);
  Open();
  auto none = Filter::Parse("annotation.tier = \"platinum\"");
  auto gold = Filter::Parse("annotation.tier = \"gold\" AND annotation.count > 3");
  ASSERT_TRUE(none.ok() && gold.ok());
  EXPECT_TRUE(Indexed(*none, 0).empty());
  EXPECT_EQ(BlocksSkipped(*store_), 0u);  // the first search read every block's parts
  EXPECT_TRUE(Indexed(*none, 0).empty());
  EXPECT_GE(BlocksSkipped(*store_), static_cast<uint64_t>(rewritten));
  EXPECT_EQ(Indexed(*gold, 3), Oracle(*gold));
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  Open();
  EXPECT_TRUE(Indexed(*none, 0).empty());
  EXPECT_EQ(SideFilesLoaded(*store_), 0u);
  EXPECT_EQ(Indexed(*gold, 3), Oracle(*gold));
}

// Terms the summaries decide besides annotations (query/xray_filter/field_need.h): rare ones
// (absent from some blocks) and absent ones (the last four), to combine.
const char* const kFieldTerms[] = {"fault",
                                   "!fault",
                                   "throttle",
                                   "partial",
                                   "ok",
                                   "inferred",
                                   "responsetime > 0.0685",
                                   "responsetime <= 0.0105",
                                   "duration >= 0.069",
                                   "http.status = 429",
                                   "http.status IN (404, 503)",
                                   "http.status != 200",
                                   "http.method = \"POST\"",
                                   "user = \"alice\"",
                                   "user != \"bob\"",
                                   "name = \"svc-3\"",
                                   "type = \"AWS::EC2::Instance\"",
                                   "service(\"db\")",
                                   "service(\"svc-4\") { fault }",
                                   "service(id(name: \"svc-1\", type: \"AWS::EC2::Instance\"))",
                                   "edge(\"svc-1\", \"svc-2\")",
                                   "rootcause.fault.service",
                                   "http.url ENDSWITH \"2\"",
                                   "responsetime > 2",
                                   "service(\"nope\")",
                                   "http.status = 599",
                                   "user = \"nobody\""};

// Field terms alone and in generated AND/OR/NOT combinations over small blocks: blocks are passed
// over by their digests' fields section (flags, number ranges, value filter), the answers equal
// the oracle in one page and in pages of 7, and a filter no trace matches decodes no side file.
TEST_F(XrayIndexOracleTest, FieldSearchesSkipBlocksAndEqualTheOracle) {
  Load(/*small_blocks=*/true);
  for (const char* text :
       {"responsetime > 2", "service(\"nope\")", "http.status = 599", "user = \"nobody\""}) {
    auto none = Filter::Parse(text);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(Indexed(*none, 5).empty()) << text;
  }
  EXPECT_EQ(SideFilesLoaded(*store_), 0u);
  const uint64_t no_match_skips = BlocksSkipped(*store_);
  EXPECT_GE(no_match_skips, 4 * 8u);
  std::mt19937_64 rng(15);
  std::vector<std::string> filters(std::begin(kFieldTerms), std::end(kFieldTerms));
  for (int i = 0; i < 100; ++i) {
    std::string text = kFieldTerms[rng() % std::size(kFieldTerms)];
    for (int k = 1 + static_cast<int>(rng() % 2); k > 0; --k) {
      const char* joins[] = {" AND ", " ", " OR ", " AND !"};
      text += joins[rng() % 4];
      text += kFieldTerms[rng() % std::size(kFieldTerms)];
    }
    filters.push_back(text);
  }
  for (size_t i = 0; i < filters.size(); ++i) {
    SCOPED_TRACE(filters[i]);
    auto filter = Filter::Parse(filters[i]);
    ASSERT_TRUE(filter.ok()) << filter.status().ToString();
    const std::vector<model::TraceId> want = Oracle(*filter);
    EXPECT_EQ(Indexed(*filter, 0), want);
    if (i % 3 == 0) EXPECT_EQ(Indexed(*filter, 7), want);
  }
  // Rare terms passed over blocks too, not only the absent ones.
  EXPECT_GT(BlocksSkipped(*store_), no_match_skips + 20);
}

// Side files of version 4 (the previous release: no per-node facts): block filters answer the
// same as the oracle (their traces fetched whole), and the first search that reads a block's parts
// rebuilds its side file from the block as version 5 with node facts, which answer the same.
TEST_F(XrayIndexOracleTest, VersionFourSideFilesAnswerTheSameThenGainNodeFacts) {
  Load(/*small_blocks=*/true);
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  std::vector<std::string> side_files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path() + "/blocks")) {
    if (entry.path().extension() != ".tsum") continue;
    const std::string path = entry.path().string();
    Result<std::string> data = Env::Default()->ReadFile(path);
    ASSERT_TRUE(data.ok());
    auto parts = store::embedded::DecodeTraceSummaryParts(*data);
    ASSERT_TRUE(parts.ok()) << parts.status().ToString();
    ASSERT_EQ(parts->version, store::embedded::kTraceSummaryVersion);
    ASSERT_TRUE(WriteFileAtomically(
                    Env::Default(), path,
                    store::embedded::EncodeTraceSummariesVersion4(parts->parts, parts->whole))
                    .ok());
    side_files.push_back(path);
  }
  ASSERT_GE(side_files.size(), 8u);
  auto read = [](const std::string& path) {
    Result<std::string> data = Env::Default()->ReadFile(path);
    EXPECT_TRUE(data.ok());
    auto parts = store::embedded::DecodeTraceSummaryParts(data.ok() ? *data : "");
    EXPECT_TRUE(parts.ok());
    return parts.ok() ? *parts : store::embedded::TraceSummaryParts();
  };
  Open();
  auto block =
      Filter::Parse("service(\"svc-3\") { fault } OR edge(\"svc-1\", \"svc-2\") { error }");
  ASSERT_TRUE(block.ok());
  const std::vector<model::TraceId> want = Oracle(*block);
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(Indexed(*block, 0), want);
  size_t nodes = 0;
  for (const std::string& path : side_files) {
    const store::embedded::TraceSummaryParts parts = read(path);
    EXPECT_EQ(parts.version, store::embedded::kTraceSummaryVersion) << path;
    for (const store::TraceSummary& part : parts.parts) nodes += part.xray.nodes_complete;
  }
  EXPECT_GT(nodes, 0u);
  EXPECT_EQ(Indexed(*block, 4), want);
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  Open();
  EXPECT_EQ(Indexed(*block, 0), want);
}

class XrayClickHouseOracleTest : public XrayIndexOracleTest {
 protected:
  void SetUp() override {
    const std::string skip = EngineSkipReason(Engine::kClickHouse);
    if (!skip.empty()) GTEST_SKIP() << skip;
    Open();
  }
  void Open() override {
    store_ = OpenEngine(Engine::kClickHouse);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    if (store_) EXPECT_TRUE(store_->Close().ok());
  }
};

// Every fourth expression in one page, every eighth also in pages of 7: the reader fetches each
// returned trace again (GetTraceNear, two statements on ClickHouse), so all of them would take
// minutes.
TEST_F(XrayClickHouseOracleTest, PagedMatchingTracesEqualTheWholeTraceOracle) {
  Load();
  size_t n = 0;
  for (const char* text : kExpressions) {
    if (n++ % 4 != 0) continue;
    SCOPED_TRACE(text);
    auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter.ok());
    const std::vector<model::TraceId> want = Oracle(*filter);
    EXPECT_EQ(Indexed(*filter, 0), want);
    if (n % 8 == 1) EXPECT_EQ(Indexed(*filter, 7), want);
  }
}

}  // namespace
}  // namespace ariadne::testing
