// Sampling-weighted X-Ray counts against the real server (docs/xray-mapping.md, "Sample
// weights"): the C++ SDK's XRayRemoteSampler, with the seed rule Cruddur (reservoir 5/s, fixed
// rate 0.1, service backend-flask), decides 100 requests per (simulated) second, sends the
// sampled segments through PutTraceSegments and its statistics through /SamplingTargets, as the
// SDK does every 10 s. A weighted COUNT of the sampled spans then equals the number of requests,
// not the ≈ 14.5 % the SDK kept.
//
// The sampler gets an injected clock (simulated seconds, so the test does not wait out 10-s
// reporting intervals) and an injected pseudo-random sequence (so the run is reproducible); the
// server, the reports, the ingest and the query are all real.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/sdk/xray_sampler.h"
#include "net/http_client.h"
#include "tests/common/server_fixture.h"
#include "tests/common/server_test_main.h"

namespace ariadne::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::string g_ariadne;

class SampleWeightsServerTest : public ServerFixture {
 protected:
  SampleWeightsServerTest() : ServerFixture("sample-weights") {}

  void Start() { server_ = ServerProcess::Start(g_ariadne, DataDir()); }

  json Xray(const std::string& path, const json& body) {
    net::HttpClient client("127.0.0.1", server_.ports().xray, 60s);
    auto response =
        client.Request("POST", path, {{"Content-Type", "application/json"}}, body.dump());
    EXPECT_TRUE(response.ok()) << path << ": " << response.status().ToString();
    if (!response.ok()) return json();
    EXPECT_EQ(response->status, 200) << path << ": " << response->body;
    return json::parse(response->body, nullptr, false);
  }

  json Query(const json& spec) {
    net::HttpClient client("127.0.0.1", server_.ports().http, 60s);
    auto response = client.Request("POST", "/api/v1/query", {{"Content-Type", "application/json"}},
                                   spec.dump());
    EXPECT_TRUE(response.ok());
    if (!response.ok()) return json();
    EXPECT_EQ(response->status, 200) << response->body;
    return json::parse(response->body, nullptr, false);
  }

  // Weighted COUNT of the X-Ray spans whose method is `method`.
  double Count(const std::string& method, json* meta = nullptr) {
    json result =
        Query({{"time_range", 7200},
               {"calculations", {{{"op", "COUNT"}}}},
               {"filters", {{{"column", "http.request.method"}, {"op", "="}, {"value", method}}}}});
    if (meta != nullptr) *meta = result["meta"];
    const json& rows = result["data"]["results"];
    if (!rows.is_array() || rows.empty()) return 0;
    return rows[0]["data"]["COUNT"].get<double>();
  }
};

std::string Hex(uint64_t v, int digits) {
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4)
    out[static_cast<size_t>(i)] = "0123456789abcdef"[v & 15];
  return out;
}

// One sampled request as an X-Ray segment document (the SDK's shape).
std::string Segment(int n, double start, const std::string& method, const std::string& rule) {
  json doc = {
      {"name", "backend-flask"},
      {"id", Hex(0x1000000000000000ULL + static_cast<uint64_t>(n), 16)},
      {"trace_id", "1-" + Hex(static_cast<uint64_t>(start), 8) + "-" +
                       Hex(0xabc000000000ULL + static_cast<uint64_t>(n), 24)},
      {"start_time", start},
      {"end_time", start + 0.005},
      {"http",
       {{"request", {{"method", method}, {"url", "http://localhost:4567/api/activities/home"}}},
        {"response", {{"status", 200}}}}}};
  if (!rule.empty()) doc["aws"] = {{"xray", {{"sampling_rule_name", rule}}}};
  return doc.dump();
}

TEST_F(SampleWeightsServerTest, WeightedCountMatchesTheRequestRate) {
  Start();
  // The seed rule.
  Xray("/CreateSamplingRule", {{"SamplingRule",
                                {{"RuleName", "Cruddur"},
                                 {"ResourceARN", "*"},
                                 {"Priority", 9000},
                                 {"FixedRate", 0.1},
                                 {"ReservoirSize", 5},
                                 {"ServiceName", "backend-flask"},
                                 {"ServiceType", "*"},
                                 {"Host", "*"},
                                 {"HTTPMethod", "*"},
                                 {"URLPath", "*"},
                                 {"Version", 1}}}});

  // Simulated time starts a minute in the past: the 40 simulated seconds below stay before the
  // query's "now" and inside the quota TTLs the server hands out (its clock + 30 s).
  // Whole seconds on a 10-s boundary, so the POST intervals below nearly fill the query's 10-s
  // buckets (each interval is 10.01 simulated seconds).
  const double t0 =
      std::floor((std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                      .count() -
                  60) /
                 10) *
      10;
  int64_t ticks = 0;  // hundredths of a simulated second
  uint64_t lcg = 42;
  sdk::XRaySamplerOptions options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(server_.ports().xray);
  options.service_name = "backend-flask";
  options.start_poller = false;
  options.now = [&] { return t0 + static_cast<double>(ticks) / 100.0; };
  options.random = [&] {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(lcg >> 11) / 9007199254740992.0;  // 2^53
  };
  sdk::XRayRemoteSampler sampler(options);
  ASSERT_TRUE(sampler.RefreshRules());

  int segment_number = 0;
  double reported_weight = 1;  // requests ÷ kept of the SDK's last report: the server's weight
  // Runs `seconds` simulated seconds at 100 decisions per second; sends the sampled requests as
  // segments with method `method` (every other one naming its rule, the rest left to the
  // server's matcher), then reports the statistics as the SDK's poller does. Returns how many
  // were sampled and the weight they were stored with.
  struct Interval {
    double kept = 0;
    double weight = 1;
  };
  std::map<int64_t, double> weight_per_bucket;  // POST spans: 10-s bucket start → Σ weights
  auto run = [&](int seconds, const std::string& method) {
    Interval out;
    out.weight = reported_weight;
    std::vector<std::string> docs;
    for (int i = 0; i < seconds * 100; ++i) {
      sdk::SamplingResult r =
          sampler.Decide("backend-flask", "localhost:4567", method, "/api/activities/home");
      if (r.decision == sdk::SamplingDecision::kRecordAndSample) {
        ++segment_number;
        docs.push_back(Segment(segment_number, options.now(), method,
                               segment_number % 2 == 0 ? "Cruddur" : ""));
        if (method == "POST")
          weight_per_bucket[static_cast<int64_t>(std::floor(options.now() / 10)) * 10] +=
              out.weight;
      }
      ++ticks;
    }
    for (size_t at = 0; at < docs.size(); at += 50) {
      json batch = json::array();
      for (size_t k = at; k < docs.size() && k < at + 50; ++k) batch.push_back(docs[k]);
      json reply = Xray("/TraceSegments", {{"TraceSegmentDocuments", batch}});
      EXPECT_TRUE(reply["UnprocessedTraceSegments"].empty()) << reply.dump();
    }
    // The counts the SDK is about to report.
    for (const auto& rule : sampler.Rules()) {
      if (rule.rule.name != "Cruddur") continue;
      const double kept = static_cast<double>(rule.sampled_count + rule.borrow_count);
      EXPECT_EQ(rule.request_count, seconds * 100);
      EXPECT_EQ(kept, static_cast<double>(docs.size()));
      reported_weight = static_cast<double>(rule.request_count) / kept;
    }
    ++ticks;  // past the 10-s reporting interval
    EXPECT_TRUE(sampler.RefreshTargets());
    out.kept = static_cast<double>(docs.size());
    return out;
  };

  // Before any report the server knows no ratio: the first 10 s count unweighted (weight 1).
  const Interval first = run(10, "GET");
  EXPECT_NEAR(Count("GET"), first.kept, 1e-6);
  // The next 10 s take the first report's ratio; that interval the SDK had no quota yet and
  // borrowed 1/s, so its ratio is not yet the steady one.
  const Interval second = run(10, "PUT");
  EXPECT_NEAR(Count("PUT"), second.kept * second.weight, 1e-6 * second.kept * second.weight);
  // Steady state: the sampler holds its quota of 5/s. Three intervals, 3000 requests.
  double expected = 0;  // Σ sampled × the weight of the report before them
  double sampled = 0;
  for (int interval = 0; interval < 3; ++interval) {
    const Interval i = run(10, "POST");
    expected += i.kept * i.weight;
    sampled += i.kept;
  }
  json meta;
  const double count = Count("POST", &meta);
  // Exactly the arithmetic of the reported counts (trace-state thresholds carry 56 bits).
  EXPECT_NEAR(count, expected, 1e-6 * expected);
  EXPECT_EQ(meta["sample_rate_weighted"], true) << meta.dump();
  // And the real request rate, 3000 requests. The SDK kept 5/s from the reservoir plus 10 % of
  // the other 95/s: 145 of 1000 per interval on average, binomial spread sqrt(950·0.1·0.9) ≈ 9.2
  // (6.4 %) on each interval's kept count and on each ratio; over three intervals the sum is off
  // by ≈ 5 % per standard deviation, so ±15 % is three of them.
  EXPECT_NEAR(count, 3000, 450) << "sampled " << sampled;
  EXPECT_LT(sampled, 600);  // unweighted it would be ≈ 435: the weights make the difference
  std::printf("sampled %.0f of 3000 requests; weighted COUNT %.1f\n", sampled, count);

  // Per 10-s bucket: the weighted COUNT is the request rate (100/s) × 10, and RATE_SUM — the change
  // of the bucket's weighted SUM from the previous bucket, per second — is computed from the
  // weighted sums too (every POST segment lasts 5 ms, so SUM(duration_ms) = 5 × Σ weights).
  json series =
      Query({{"start_time", static_cast<int64_t>(t0)},
             {"end_time", static_cast<int64_t>(t0) + 60},
             {"granularity", 10},
             {"calculations", {{{"op", "COUNT"}}, {{"op", "RATE_SUM"}, {"column", "duration_ms"}}}},
             {"filters", {{{"column", "http.request.method"}, {"op", "="}, {"value", "POST"}}}}});
  EXPECT_EQ(series["meta"]["sample_rate_weighted"], true) << series["meta"].dump();
  std::vector<json> points(series["data"]["series"].begin(), series["data"]["series"].end());
  std::sort(points.begin(), points.end(), [](const json& a, const json& b) {
    return a["time"].get<std::string>() < b["time"].get<std::string>();
  });
  ASSERT_EQ(points.size(), weight_per_bucket.size()) << series.dump();
  size_t b = 0;
  double previous = -1;
  int full_buckets = 0;
  for (const auto& [bucket, weight] : weight_per_bucket) {
    const json& data = points[b++]["data"];
    std::printf("bucket +%llds: weighted COUNT %.1f, RATE_SUM(duration_ms) %s\n",
                static_cast<long long>(bucket - static_cast<int64_t>(t0)),
                data["COUNT"].get<double>(), data["RATE_SUM(duration_ms)"].dump().c_str());
    EXPECT_NEAR(data["COUNT"].get<double>(), weight, 1e-6 * weight) << data.dump();
    const int64_t first_post = static_cast<int64_t>(t0) + 20;
    if (bucket > first_post && bucket + 10 <= first_post + 30) {
      // A bucket inside the POST traffic: ≈ 100 requests per second (one interval's ratio,
      // binomial spread ≈ 9 % on it: ±30 % is over three standard deviations).
      EXPECT_NEAR(data["COUNT"].get<double>() / 10, 100, 30) << data.dump();
      ++full_buckets;
    }
    if (previous >= 0) {
      const double expected_rate = (5 * weight - 5 * previous) / 10;
      EXPECT_NEAR(data["RATE_SUM(duration_ms)"].get<double>(), expected_rate, 1e-3 * 5 * weight)
          << data.dump();
    }
    previous = weight;
  }
  EXPECT_EQ(full_buckets, 2);
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
