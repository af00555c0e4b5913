#include "ariadne/sdk/xray_sampler.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

namespace ariadne::sdk {
namespace {

TEST(XRayWildcardTest, StarQuestionMarkAndCaseInsensitivity) {
  EXPECT_TRUE(XRayWildcardMatch("*", ""));
  EXPECT_TRUE(XRayWildcardMatch("*", "anything"));
  EXPECT_TRUE(XRayWildcardMatch("/api/*", "/api/activities/home"));
  EXPECT_TRUE(XRayWildcardMatch("/api/*/home", "/api/activities/home"));
  EXPECT_FALSE(XRayWildcardMatch("/api/*/home", "/api/activities/homes"));
  EXPECT_TRUE(XRayWildcardMatch("GET", "get"));
  EXPECT_TRUE(XRayWildcardMatch("backend-?lask", "BACKEND-FLASK"));
  EXPECT_FALSE(XRayWildcardMatch("backend-?lask", "backend-lask"));
  EXPECT_TRUE(XRayWildcardMatch("*4567-abc.gitpod.io*", "4567-abc.gitpod.io"));
  EXPECT_TRUE(XRayWildcardMatch("*4567-abc.gitpod.io*", "https://4567-abc.gitpod.io:443"));
  EXPECT_TRUE(XRayWildcardMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(XRayWildcardMatch("a*b*c", "aXXbYY"));
  EXPECT_TRUE(XRayWildcardMatch("**", "x"));
  EXPECT_FALSE(XRayWildcardMatch("", "x"));
  EXPECT_TRUE(XRayWildcardMatch("", ""));
}

// Rules as an X-Ray API answers GetSamplingRules (numbers, Attributes {}), plus rules the SDKs
// must ignore.
std::string RulesBody() {
  nlohmann::json rules = nlohmann::json::array();
  auto rule = [](std::string name, int priority, double rate, int reservoir, std::string service,
                 std::string host, std::string method, std::string path) {
    return nlohmann::json{
        {"SamplingRule",
         {{"RuleName", name},
          {"RuleARN", "arn:aws:xray:us-east-1:000000000000:sampling-rule/" + name},
          {"ResourceARN", "*"},
          {"Priority", priority},
          {"FixedRate", rate},
          {"ReservoirSize", reservoir},
          {"ServiceName", service},
          {"ServiceType", "*"},
          {"Host", host},
          {"HTTPMethod", method},
          {"URLPath", path},
          {"Version", 1},
          {"Attributes", nlohmann::json::object()}}},
        {"CreatedAt", 0.0},
        {"ModifiedAt", 1.0}};
  };
  rules.push_back(rule("Default", 10000, 0.05, 1, "*", "*", "*", "*"));
  rules.push_back(rule("Cruddur", 9000, 0.1, 5, "backend-flask", "*", "*", "*"));
  rules.push_back(rule("Health", 100, 0.0, 0, "*", "*", "GET", "/api/health*"));
  rules.push_back(rule("Posts", 200, 1.0, 0, "*", "localhost:45?7", "POST", "*"));
  auto with_attrs = rule("WithAttributes", 1, 1.0, 0, "*", "*", "*", "*");
  with_attrs["SamplingRule"]["Attributes"] = {{"k", "v"}};
  rules.push_back(with_attrs);
  auto v2 = rule("Version2", 1, 1.0, 0, "*", "*", "*", "*");
  v2["SamplingRule"]["Version"] = 2;
  rules.push_back(v2);
  return nlohmann::json{{"SamplingRuleRecords", rules}}.dump();
}

struct FakeClock {
  double now = 1700000000.25;
  std::vector<double> randoms;
  size_t next = 0;
  XRaySamplerOptions Options() {
    XRaySamplerOptions o;
    o.service_name = "backend-flask";
    o.start_poller = false;
    o.now = [this] { return now; };
    o.random = [this] { return next < randoms.size() ? randoms[next++] : 0.99; };
    return o;
  }
};

TEST(XRayRemoteSamplerTest, RulesAreFilteredOrderedAndMatchedOnEveryField) {
  FakeClock clock;
  XRayRemoteSampler s(clock.Options());
  ASSERT_TRUE(s.ApplyRulesResponse(RulesBody()));
  auto rules = s.Rules();
  ASSERT_EQ(rules.size(), 4u);  // Attributes and Version 2 rules are ignored
  EXPECT_EQ(rules[0].rule.name, "Health");
  EXPECT_EQ(rules[1].rule.name, "Posts");
  EXPECT_EQ(rules[2].rule.name, "Cruddur");
  EXPECT_EQ(rules[3].rule.name, "Default");

  // Health: FixedRate 0, no reservoir → never sampled.
  EXPECT_FALSE(s.Decide("backend-flask", "localhost:4567", "GET", "/api/health-check").sampled());
  // Posts matches host with `?` and method; FixedRate 1.
  auto r = s.Decide("other", "localhost:4567", "post", "/api/activities");
  EXPECT_TRUE(r.sampled());
  EXPECT_STREQ(r.rule_name, "Posts");
  // Cruddur: service name matches; first request borrows.
  r = s.Decide("backend-flask", "localhost:4567", "GET", "/api/activities/home");
  EXPECT_TRUE(r.sampled());
  EXPECT_STREQ(r.rule_name, "Cruddur");
  // A dynamic-named segment (Gitpod host) does not match the Cruddur rule → Default.
  r = s.Decide("4567-abc.gitpod.io", "4567-abc.gitpod.io", "GET", "/api/activities/home");
  EXPECT_STREQ(r.rule_name, "Default");
  // Empty request values count as matches.
  r = s.Decide("", "", "POST", "");
  EXPECT_STREQ(r.rule_name, "Posts");

  auto after = s.Rules();
  EXPECT_EQ(after[0].request_count, 1);
  EXPECT_EQ(after[1].request_count, 2);
  EXPECT_EQ(after[2].request_count, 1);
  EXPECT_EQ(after[2].borrow_count, 1);
}

TEST(XRayRemoteSamplerTest, BorrowsOnePerSecondUntilAQuotaArrivesThenUsesTheQuota) {
  FakeClock clock;
  XRayRemoteSampler s(clock.Options());
  ASSERT_TRUE(s.ApplyRulesResponse(RulesBody()));
  auto home = [&] { return s.Decide("backend-flask", "h", "GET", "/api/activities/home"); };
  // Borrow: one per second, the rest at FixedRate (random 0.99 > 0.1 → not sampled).
  EXPECT_TRUE(home().sampled());
  EXPECT_FALSE(home().sampled());
  EXPECT_FALSE(home().sampled());
  clock.now += 0.5;  // same second (…0.75)
  EXPECT_FALSE(home().sampled());
  clock.now += 0.5;  // next second
  EXPECT_TRUE(home().sampled());
  // FixedRate applies when the random draw is below it.
  clock.randoms = {0.05};
  EXPECT_TRUE(home().sampled());

  // Targets: quota 3/s valid for 20 s.
  nlohmann::json targets = {{"SamplingTargetDocuments",
                             {{{"RuleName", "Cruddur"},
                               {"FixedRate", 0.0},
                               {"ReservoirQuota", 3},
                               {"ReservoirQuotaTTL", clock.now + 20},
                               {"Interval", 10}}}},
                            {"LastRuleModification", 1.0},
                            {"UnprocessedStatistics", nlohmann::json::array()}};
  ASSERT_TRUE(s.ApplyTargetsResponse(targets.dump()));
  clock.now += 1;
  int sampled = 0;
  for (int i = 0; i < 10; ++i) sampled += home().sampled();
  EXPECT_EQ(sampled, 3);
  clock.now += 1;
  sampled = 0;
  for (int i = 0; i < 10; ++i) sampled += home().sampled();
  EXPECT_EQ(sampled, 3);
  // After the TTL the quota is stale: back to borrowing one per second (FixedRate is now 0).
  clock.now += 30;
  sampled = 0;
  for (int i = 0; i < 10; ++i) sampled += home().sampled();
  EXPECT_EQ(sampled, 1);
  auto rules = s.Rules();
  EXPECT_EQ(rules[2].rule.name, "Cruddur");
  EXPECT_EQ(rules[2].rule.fixed_rate, 0.0);
  EXPECT_EQ(rules[2].sampled_count, 1 + 3 + 3);  // fixed-rate pick + quota takes
  EXPECT_EQ(rules[2].borrow_count, 2 + 1);
}

TEST(XRayRemoteSamplerTest, FallsBackToOnePerSecondPlusFivePercentWithoutRules) {
  FakeClock clock;
  XRayRemoteSampler s(clock.Options());
  EXPECT_TRUE(s.UsingFallback());
  clock.randoms = {0.5, 0.04, 0.5};
  EXPECT_TRUE(s.Decide("x", "h", "GET", "/").sampled());   // reservoir
  EXPECT_FALSE(s.Decide("x", "h", "GET", "/").sampled());  // 0.5 ≥ 5 %
  EXPECT_TRUE(s.Decide("x", "h", "GET", "/").sampled());   // 0.04 < 5 %
  EXPECT_FALSE(s.Decide("x", "h", "GET", "/").sampled());
  clock.now += 1;
  EXPECT_TRUE(s.Decide("x", "h", "GET", "/").sampled());
  // Rules expire an hour after the last successful fetch.
  ASSERT_TRUE(s.ApplyRulesResponse(RulesBody()));
  EXPECT_FALSE(s.UsingFallback());
  clock.now += 3601;
  EXPECT_TRUE(s.UsingFallback());
}

TEST(XRayRemoteSamplerTest, StatisticsAreReportedWhenDueAndReset) {
  FakeClock clock;
  XRayRemoteSampler s(clock.Options());
  ASSERT_TRUE(s.ApplyRulesResponse(RulesBody()));
  for (int i = 0; i < 4; ++i) s.Decide("backend-flask", "h", "GET", "/x");
  auto body = s.TakeStatisticsRequest();
  ASSERT_TRUE(body.has_value());
  auto doc = nlohmann::json::parse(*body);
  ASSERT_EQ(doc["SamplingStatisticsDocuments"].size(), 1u);  // unmatched rules are not reported
  auto& st = doc["SamplingStatisticsDocuments"][0];
  EXPECT_EQ(st["RuleName"], "Cruddur");
  EXPECT_EQ(st["ClientID"].get<std::string>().size(), 24u);
  EXPECT_EQ(st["RequestCount"], 4);
  EXPECT_EQ(st["BorrowCount"], 1);
  EXPECT_EQ(st["SampledCount"], 0);
  EXPECT_EQ(st["Timestamp"], static_cast<int64_t>(clock.now));
  s.Decide("backend-flask", "h", "GET", "/x");
  EXPECT_FALSE(s.TakeStatisticsRequest().has_value());  // interval (10 s) not yet due
  clock.now += 10;
  body = s.TakeStatisticsRequest();
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(nlohmann::json::parse(*body)["SamplingStatisticsDocuments"][0]["RequestCount"], 1);
}

TEST(XRayRemoteSamplerTest, PollsRulesAndTargetsFromARealDaemonEndpoint) {
  httplib::Server daemon;
  std::atomic<int> rules_calls{0}, target_calls{0};
  std::string last_targets_body;
  std::mutex mu;
  daemon.Post("/GetSamplingRules", [&](const httplib::Request&, httplib::Response& res) {
    ++rules_calls;
    res.set_content(RulesBody(), "application/json");
  });
  daemon.Post("/SamplingTargets", [&](const httplib::Request& req, httplib::Response& res) {
    ++target_calls;
    {
      std::lock_guard lock(mu);
      last_targets_body = req.body;
    }
    nlohmann::json reply = {{"SamplingTargetDocuments",
                             {{{"RuleName", "Cruddur"},
                               {"FixedRate", 0.5},
                               {"ReservoirQuota", 7},
                               {"ReservoirQuotaTTL", 4102444800.0},
                               {"Interval", 10}}}},
                            {"LastRuleModification", 1.0},
                            {"UnprocessedStatistics", nlohmann::json::array()}};
    res.set_content(reply.dump(), "application/json");
  });
  const int port = daemon.bind_to_any_port("127.0.0.1");
  std::thread server([&] { daemon.listen_after_bind(); });

  XRaySamplerOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.service_name = "backend-flask";
  o.rules_interval = std::chrono::milliseconds(60000);
  o.targets_interval = std::chrono::milliseconds(200);
  {
    XRayRemoteSampler s(o);
    // The poller fetches rules at start.
    for (int i = 0; i < 100 && s.UsingFallback(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_FALSE(s.UsingFallback());
    for (int i = 0; i < 3; ++i) s.Decide("backend-flask", "h", "GET", "/");
    // Statistics are due 10 s after the (initial) last report time 0 → immediately.
    for (int i = 0; i < 100 && target_calls == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_GE(target_calls.load(), 1);
    {
      std::lock_guard lock(mu);
      auto doc = nlohmann::json::parse(last_targets_body);
      EXPECT_EQ(doc["SamplingStatisticsDocuments"][0]["RuleName"], "Cruddur");
      EXPECT_EQ(doc["SamplingStatisticsDocuments"][0]["RequestCount"], 3);
    }
    // The handler counts the call before the sampler has read and applied the reply.
    auto rules = s.Rules();
    for (int i = 0; i < 100 && !rules[2].quota.has_value(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      rules = s.Rules();
    }
    EXPECT_EQ(rules[2].quota.value_or(-1), 7);
    EXPECT_EQ(rules[2].rule.fixed_rate, 0.5);
    EXPECT_EQ(rules_calls.load(), 1);
  }
  daemon.stop();
  server.join();
}

TEST(XRayRemoteSamplerTest, UnreachableDaemonKeepsTheLocalDefault) {
  XRaySamplerOptions o;
  o.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  o.start_poller = false;
  XRayRemoteSampler s(o);
  EXPECT_FALSE(s.RefreshRules());
  EXPECT_TRUE(s.UsingFallback());
  EXPECT_TRUE(s.Decide("x", "", "", "").sampled());
}

}  // namespace
}  // namespace ariadne::sdk
