// Random X-Ray traces for the differential tests of the trace-summary index
// (xray_summary_differential_test.cc: Decide against Matches per trace; xray_index_oracle_test.cc:
// the stores' indexed searches against fetching every trace whole): segment documents of several
// services with flags explicit and from HTTP status, users, typed annotations, downstream segments
// sent as separate documents and in-progress duplicates, and the filter expressions run over them.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/xray_filter/filter.h"
#include "receivers/xray/segment_decoder.h"
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

}  // namespace
}  // namespace ariadne::testing
