// XraySampleWeights on decoded segments (the real decoder, the real SamplingTargets): which rule
// decides a trace, which spans get the weight, and the threshold encoding.
#include "sampling/sample_weights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "receivers/xray/segment_decoder.h"

namespace ariadne::sampling {
namespace {

SamplingRule Rule(const std::string& name, int64_t priority, const std::string& service) {
  SamplingRule r;
  r.rule_name = name;
  r.priority = priority;
  r.fixed_rate = 0.1;
  r.reservoir_size = 5;
  r.service_name = service;
  return r;
}

class SampleWeightsTest : public ::testing::Test {
 protected:
  SampleWeightsTest()
      : targets_([this] { return now_; }),
        weights_(
            &targets_, [this] { return rules_; }, 2) {
    rules_ = {Rule("Cruddur", 9000, "backend-*"), Rule("Other", 9500, "*"), DefaultRule()};
  }

  // One client reports `requests` and `kept` for `rule`.
  void Report(const std::string& rule, int64_t requests, int64_t sampled, int64_t borrowed = 0) {
    targets_.Compute({{rule, "client-000000000000000001", now_, requests, sampled, borrowed}},
                     rules_);
  }

  model::SpanBatch Decode(const std::string& document) {
    model::SpanBatch batch;
    EXPECT_TRUE(receivers::xray::DecodeSegmentDocument(document, &batch).ok()) << document;
    return batch;
  }

  static std::string Segment(const std::string& name, const std::string& trace,
                             const std::string& extra = "") {
    return R"({"name":")" + name + R"(","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-)" + trace +
           R"(","start_time":1478293361.271,"end_time":1478293361.449,"http":{"request":{"method":"GET","url":"http://localhost:4567/api"}})" +
           extra + "}";
  }

  double now_ = 1700000000;
  std::vector<SamplingRule> rules_;
  SamplingTargets targets_;
  XraySampleWeights weights_;
};

TEST_F(SampleWeightsTest, ThresholdEncodesTheWeight) {
  EXPECT_EQ(ThresholdTraceState(2), "ot=th:8");
  EXPECT_EQ(ThresholdTraceState(4), "ot=th:c");
  // 1000 / 145: T = (1 − 0.145) · 2^56, 14 hex digits at most.
  const std::string state = ThresholdTraceState(1000.0 / 145.0);
  ASSERT_EQ(state.rfind("ot=th:", 0), 0u);
  EXPECT_LE(state.size(), 6u + 14u);
  EXPECT_DOUBLE_EQ(WeightOf({"r", 0, 1000, 140, 5}), 1000.0 / 145.0);
  EXPECT_EQ(WeightOf({"r", 0, 0, 0, 0}), 1);
  EXPECT_EQ(WeightOf({"r", 0, 3, 5, 0}), 1);
}

TEST_F(SampleWeightsTest, RulesMatchByPriorityWithGlobs) {
  SampledRequest req{"backend-flask", "", "localhost:4567", "GET", "/api"};
  EXPECT_EQ(MatchRule(rules_, req)->rule_name, "Cruddur");
  req.service_name = "frontend";
  EXPECT_EQ(MatchRule(rules_, req)->rule_name, "Other");
}

TEST_F(SampleWeightsTest, NothingIsWeightedBeforeTheFirstReport) {
  model::SpanBatch batch = Decode(Segment("backend-flask", "a006649127e371903a2de979"));
  weights_.Apply(&batch);
  EXPECT_TRUE(batch.spans[0].trace_state.empty());
}

TEST_F(SampleWeightsTest, TheMatchingRuleOrTheRecordedRuleDecides) {
  Report("Cruddur", 100, 20, 5);  // weight 4
  Report("Other", 100, 50);       // weight 2
  model::SpanBatch matched = Decode(Segment("backend-flask", "a006649127e371903a2de979"));
  weights_.Apply(&matched);
  EXPECT_EQ(matched.spans[0].trace_state, "ot=th:c");
  // The SDK recorded the rule: it wins over the matcher.
  model::SpanBatch named = Decode(Segment("backend-flask", "b006649127e371903a2de979",
                                          R"(,"aws":{"xray":{"sampling_rule_name":"Other"}})"));
  weights_.Apply(&named);
  EXPECT_EQ(named.spans[0].trace_state, "ot=th:8");
}

TEST_F(SampleWeightsTest, SubsegmentsTakeTheirTracesWeightAndOthersAreLeftAlone) {
  Report("Cruddur", 100, 25);  // weight 4
  // Root segment with an embedded subsegment: both weighted.
  model::SpanBatch root = Decode(Segment(
      "backend-flask", "c006649127e371903a2de979",
      R"(,"subsegments":[{"name":"db","id":"80de5b6f19ff9a0a","start_time":1478293361.3,"end_time":1478293361.4}])"));
  ASSERT_EQ(root.spans.size(), 2u);
  weights_.Apply(&root);
  EXPECT_EQ(root.spans[0].trace_state, "ot=th:c");
  EXPECT_EQ(root.spans[1].trace_state, "ot=th:c");
  // A subsegment sent alone later: the remembered weight, even after the ratio changed.
  Report("Cruddur", 100, 50);
  model::SpanBatch later = Decode(
      R"({"type":"subsegment","name":"cache","id":"90de5b6f19ff9a0a","parent_id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-c006649127e371903a2de979","start_time":1478293361.3,"end_time":1478293361.4})");
  weights_.Apply(&later);
  EXPECT_EQ(later.spans[0].trace_state, "ot=th:c");
  // Unknown trace, subsegment only: weight 1.
  model::SpanBatch orphan = Decode(
      R"({"type":"subsegment","name":"cache","id":"90de5b6f19ff9a0a","parent_id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-d006649127e371903a2de979","start_time":1478293361.3,"end_time":1478293361.4})");
  weights_.Apply(&orphan);
  EXPECT_TRUE(orphan.spans[0].trace_state.empty());
  // A span that is not an X-Ray segment (no aws.xray.type) is not touched.
  model::SpanBatch otlp;
  otlp.resources.push_back({});
  otlp.scopes.push_back({});
  model::Span span;
  span.trace_id.bytes[0] = 1;
  span.span_id.bytes[0] = 1;
  otlp.spans.push_back(span);
  weights_.Apply(&otlp);
  EXPECT_TRUE(otlp.spans[0].trace_state.empty());
}

}  // namespace
}  // namespace ariadne::sampling
