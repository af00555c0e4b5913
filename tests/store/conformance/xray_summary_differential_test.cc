// Differential test of X-Ray filtering by trace summaries against the old path, kept here as the
// oracle: every trace fetched whole and evaluated with Filter::Matches. Per trace, Filter::Decide
// on the trace's summary (TraceFacts) is kUnknown or agrees with Filter::Matches on the whole
// trace, for a wide set of expressions and generated service()/edge() blocks over random X-Ray
// traces (xray_summary_fixture.h); the service graph built from the summaries' node facts equals
// the one built from the whole traces. The stores' indexed searches: xray_index_oracle_test.cc.
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
#include "tests/store/conformance/xray_summary_fixture.h"
#include "tests/store/store_test_util.h"

namespace ariadne::testing {
namespace {

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

}  // namespace
}  // namespace ariadne::testing
