// X-Ray groups and sampling rules shared through ClickHouse (docs/scale-out.md): two
// clickhouse-server processes in the cluster `ariadne_test` and two `ariadne serve --store
// clickhouse://…?cluster=ariadne_test` nodes. A group and a sampling rule created with the aws
// CLI through node A are read through node B (aws CLI and the SDK's GetSamplingRules); a change
// through B is seen by A; the configuration survives restarting both nodes with empty data
// directories (it lives in ClickHouse, not in either node). Skipped (with a message) when
// clickhouse-server or the aws CLI is not installed.
#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/sdk/xray_sampler.h"
#include "net/http_client.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"
#include "tests/store/conformance/clickhouse_process.h"
#include "tests/store/conformance/cluster_fixture.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using nlohmann::json;

std::optional<std::string> FindAws() {
  for (const char* path : {"/usr/bin/aws", "/usr/local/bin/aws", "/root/.pyenv/shims/aws"}) {
    if (::access(path, X_OK) == 0) return std::string(path);
  }
  return std::nullopt;
}

class XrayConfigNodesTest : public ClickHouseClusterFixture {
 protected:
  const char* Subject() const override { return "shared X-Ray configuration"; }

  void SetUp() override {
    ::unsetenv("AWS_PROFILE");
    ClickHouseClusterFixture::SetUp();
    if (IsSkipped()) return;
    aws_ = FindAws();
    if (!aws_) GTEST_SKIP() << "the aws CLI is not installed; shared X-Ray configuration untested";
  }

  void StartNodes(const std::string& generation) {
    nodes_.clear();
    for (size_t n = 0; n < 2; ++n)
      nodes_.push_back(ServerProcess::Start(
          g_ariadne, dir_ + "/" + generation + "-node" + std::to_string(n), {"--store", Url(n)}));
  }

  // `aws xray ARGS` against node `n`; the parsed JSON output (null on failure, which fails).
  json Aws(size_t n, const std::string& args) {
    const std::string command =
        "AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1 "
        "AWS_PAGER= AWS_MAX_ATTEMPTS=1 " +
        *aws_ + " --endpoint-url http://127.0.0.1:" + std::to_string(nodes_[n].ports().xray) +
        " --output json xray " + args + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    std::string out;
    char buffer[4096];
    size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, got);
    const int rc = ::pclose(pipe);
    EXPECT_EQ(rc, 0) << command << "\n" << out;
    if (rc != 0) return json();
    return out.empty() ? json::object() : json::parse(out, nullptr, false);
  }

  // The rules an SDK poller gets from node `n` (unsigned POST /GetSamplingRules).
  json SdkRules(size_t n) {
    net::HttpClient client("127.0.0.1", nodes_[n].ports().xray, std::chrono::seconds(60));
    auto r =
        client.Request("POST", "/GetSamplingRules", {{"Content-Type", "application/json"}}, "{}");
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    json rules = json::parse(r->body, nullptr, false);
    EXPECT_TRUE(rules.is_object() && rules["SamplingRuleRecords"].is_array()) << r->body;
    return rules.is_object() ? rules : json::object();
  }

  static const json* FindRule(const json& rules, const std::string& name) {
    if (!rules.contains("SamplingRuleRecords")) return nullptr;
    for (const json& record : rules["SamplingRuleRecords"])
      if (record["SamplingRule"]["RuleName"] == name) return &record;
    return nullptr;
  }

  std::optional<std::string> aws_;
};

TEST_F(XrayConfigNodesTest, GroupsAndRulesCreatedThroughOneNodeAreSeenThroughTheOther) {
  clickhouse_ = ClickHouseProcess::StartCluster(*binary_, 2, "ariadne_test");
  StartNodes("first");

  // Through node A.
  json created = Aws(0,
                     "create-group --group-name checkout-errors --filter-expression "
                     "'service(\"checkout\") AND fault'");
  ASSERT_TRUE(created.contains("Group")) << created.dump();
  const std::string arn = created["Group"]["GroupARN"];
  json rule = Aws(0,
                  "create-sampling-rule --sampling-rule "
                  "'{\"RuleName\":\"Cruddur\",\"ResourceARN\":\"*\",\"Priority\":9000,"
                  "\"FixedRate\":0.1,\"ReservoirSize\":5,\"ServiceName\":\"backend-flask\","
                  "\"ServiceType\":\"*\",\"Host\":\"*\",\"HTTPMethod\":\"*\",\"URLPath\":\"*\","
                  "\"Version\":1}'");
  ASSERT_TRUE(rule.contains("SamplingRuleRecord")) << rule.dump();

  // Through node B (changes are picked up within the refresh interval of 1 s; node B last
  // loaded the configuration when it started, before the changes, so it reloads now).
  json group = Aws(1, "get-group --group-name checkout-errors");
  ASSERT_TRUE(group.contains("Group")) << group.dump();
  EXPECT_EQ(group["Group"]["GroupARN"], arn);
  EXPECT_EQ(group["Group"]["FilterExpression"], "service(\"checkout\") AND fault");
  const json rules_b = SdkRules(1);
  const json* seen = FindRule(rules_b, "Cruddur");
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ((*seen)["SamplingRule"]["ReservoirSize"], 5);

  // A change through B, seen through A once A's cached copy is older than the refresh interval.
  Aws(1,
      "update-sampling-rule --sampling-rule-update '{\"RuleName\":\"Cruddur\",\"FixedRate\":0.2}'");
  json rules_a;
  for (int attempt = 0; attempt < 50; ++attempt) {
    rules_a = SdkRules(0);
    const json* r = FindRule(rules_a, "Cruddur");
    if (r != nullptr && (*r)["SamplingRule"]["FixedRate"] == 0.2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const json* updated = FindRule(rules_a, "Cruddur");
  ASSERT_NE(updated, nullptr);
  EXPECT_EQ((*updated)["SamplingRule"]["FixedRate"], 0.2) << rules_a.dump();

  // The configuration lives in ClickHouse: new nodes with empty data directories see it.
  for (ServerProcess& node : nodes_) node.Stop(15);
  StartNodes("second");
  json groups = Aws(1, "get-groups");
  bool found = false;
  for (const json& g : groups["Groups"]) found |= g["GroupName"] == "checkout-errors";
  EXPECT_TRUE(found) << groups.dump();
  const json rules_after = SdkRules(0);
  EXPECT_NE(FindRule(rules_after, "Cruddur"), nullptr);
  // A name taken through another node is refused here too.
  const std::string again =
      "AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1 "
      "AWS_PAGER= AWS_MAX_ATTEMPTS=1 " +
      *aws_ + " --endpoint-url http://127.0.0.1:" + std::to_string(nodes_[1].ports().xray) +
      " xray create-group --group-name checkout-errors > /dev/null 2>&1";
  EXPECT_NE(std::system(again.c_str()), 0);
}

// The reservoir is per rule across the fleet: two SDK clients, each polling a different node, get
// quotas that add up to the rule's ReservoirSize (5), not 5 each.
TEST_F(XrayConfigNodesTest, ReservoirIsSplitAmongTheClientsOfEveryNode) {
  clickhouse_ = ClickHouseProcess::StartCluster(*binary_, 2, "ariadne_test");
  StartNodes("quota");
  Aws(0,
      "create-sampling-rule --sampling-rule "
      "'{\"RuleName\":\"Cruddur\",\"ResourceARN\":\"*\",\"Priority\":9000,"
      "\"FixedRate\":0.1,\"ReservoirSize\":5,\"ServiceName\":\"backend-flask\","
      "\"ServiceType\":\"*\",\"Host\":\"*\",\"HTTPMethod\":\"*\",\"URLPath\":\"*\","
      "\"Version\":1}'");
  // Node B serves a copy of the configuration up to a second old: wait until it has the rule.
  for (int i = 0; i < 100 && FindRule(SdkRules(1), "Cruddur") == nullptr; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_NE(FindRule(SdkRules(1), "Cruddur"), nullptr);
  // Simulated clocks (each report is due 10 s after the last); the server's clock is real.
  const double t0 =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double now = t0;
  std::vector<std::unique_ptr<sdk::XRayRemoteSampler>> samplers;
  for (size_t n = 0; n < 2; ++n) {
    sdk::XRaySamplerOptions options;
    options.endpoint = "http://127.0.0.1:" + std::to_string(nodes_[n].ports().xray);
    options.service_name = "backend-flask";
    options.start_poller = false;
    options.now = [&now] { return now; };
    options.random = [] { return 0.5; };
    samplers.push_back(std::make_unique<sdk::XRayRemoteSampler>(options));
    ASSERT_TRUE(samplers.back()->RefreshRules());
  }
  auto quota = [](const sdk::XRayRemoteSampler& s) -> int64_t {
    for (const auto& r : s.Rules())
      if (r.rule.name == "Cruddur") return r.quota.value_or(-1);
    return -1;
  };
  // Two reporting rounds: in the second every node knows both clients.
  for (int round = 0; round < 2; ++round) {
    for (auto& sampler : samplers) {
      for (int i = 0; i < 20; ++i) sampler->Decide("backend-flask", "h", "GET", "/");
      ASSERT_TRUE(sampler->RefreshTargets());
    }
    now += 11;
  }
  const int64_t a = quota(*samplers[0]);
  const int64_t b = quota(*samplers[1]);
  EXPECT_EQ(a + b, 5) << "client A (node A) got " << a << ", client B (node B) got " << b;
  EXPECT_GE(a, 2);
  EXPECT_GE(b, 2);
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
