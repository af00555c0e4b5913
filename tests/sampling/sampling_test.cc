// Centralized sampling (server side), sampling-rule validation, the durable config store and SigV4.
#include "sampling/sampling_targets.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "api/xray/sigv4.h"
#include "sampling/config_store.h"

namespace ariadne::sampling {
namespace {

using api::xray::CanonicalRequest;
using api::xray::HexEncode;
using api::xray::HmacSha256;
using api::xray::Sha256Hex;
using api::xray::SigV4Check;
using api::xray::SigV4Credentials;
using api::xray::SigV4Signature;
using api::xray::VerifySigV4;

SamplingRule SeedRule() {
  SamplingRule rule;
  rule.rule_name = "Cruddur";
  rule.priority = 9000;
  rule.fixed_rate = 0.1;
  rule.reservoir_size = 5;
  rule.service_name = "backend-flask";
  return rule;
}

StatisticsDocument Stats(const std::string& client, double now, int64_t requests = 100) {
  return StatisticsDocument{"Cruddur", client, now, requests, 10, 1};
}

std::string Client(int n) {
  std::string id = std::to_string(n);
  return std::string(24 - id.size(), '0') + id;
}

TEST(SamplingTargetsTest, OneClientGetsTheWholeReservoirWithTtlAndInterval) {
  double now = 1'800'000'000;
  SamplingTargets targets([&] { return now; });
  TargetsReply reply = targets.Compute({Stats(Client(1), now)}, {SeedRule(), DefaultRule()});
  ASSERT_EQ(reply.targets.size(), 1u);
  EXPECT_EQ(reply.targets[0].rule_name, "Cruddur");
  EXPECT_EQ(reply.targets[0].reservoir_quota, 5);
  EXPECT_DOUBLE_EQ(reply.targets[0].fixed_rate, 0.1);
  EXPECT_EQ(reply.targets[0].interval, 10);
  EXPECT_GT(reply.targets[0].reservoir_quota_ttl, now);
  EXPECT_LE(reply.targets[0].reservoir_quota_ttl, now + 60);
}

TEST(SamplingTargetsTest, TwoClientsSplitFiveAsThreeAndTwoAlternatingAndNeverExceedTheReservoir) {
  double now = 1'800'000'000;
  SamplingTargets targets([&] { return now; });
  std::vector<SamplingRule> rules = {SeedRule()};
  std::map<std::string, int64_t> total_per_client;
  for (int window = 0; window < 6; ++window) {
    TargetsReply reply = targets.Compute({Stats(Client(1), now), Stats(Client(2), now)}, rules);
    ASSERT_EQ(reply.targets.size(), 2u);
    int64_t a = reply.targets[0].reservoir_quota, b = reply.targets[1].reservoir_quota;
    EXPECT_EQ(a + b, 5);
    EXPECT_TRUE((a == 3 && b == 2) || (a == 2 && b == 3)) << a << "+" << b;
    total_per_client["1"] += a;
    total_per_client["2"] += b;
    now += 10;
  }
  EXPECT_EQ(total_per_client["1"], total_per_client["2"]) << "the extra unit rotates";
}

TEST(SamplingTargetsTest, SmallReservoirIsSharedOverTimeAmongMoreClients) {
  double now = 1'800'000'000;
  SamplingTargets targets([&] { return now; });
  SamplingRule rule = SeedRule();
  rule.reservoir_size = 1;
  std::map<std::string, int64_t> got;
  for (int window = 0; window < 3; ++window) {
    std::vector<StatisticsDocument> docs = {Stats(Client(1), now), Stats(Client(2), now),
                                            Stats(Client(3), now)};
    TargetsReply reply = targets.Compute(docs, {rule});
    int64_t sum = 0;
    for (const auto& t : reply.targets) sum += t.reservoir_quota;
    EXPECT_EQ(sum, 1);
    for (size_t i = 0; i < 3; ++i) got[docs[i].client_id] += reply.targets[i].reservoir_quota;
    now += 10;
  }
  for (const auto& [client, quota] : got) EXPECT_EQ(quota, 1) << client;
}

TEST(SamplingTargetsTest, DepartedClientsStopCountingAfterTheActiveWindow) {
  double now = 1'800'000'000;
  SamplingTargets targets([&] { return now; });
  targets.Compute({Stats(Client(1), now), Stats(Client(2), now)}, {SeedRule()});
  EXPECT_EQ(targets.ActiveClients("Cruddur"), 2u);
  now += 40;  // client 2 went away
  TargetsReply reply = targets.Compute({Stats(Client(1), now)}, {SeedRule()});
  EXPECT_EQ(reply.targets[0].reservoir_quota, 5);
  EXPECT_EQ(targets.ActiveClients("Cruddur"), 1u);
}

TEST(SamplingTargetsTest, UnknownRulesAndImplausibleTimestampsAreUnprocessed) {
  double now = 1'800'000'000;
  SamplingTargets targets([&] { return now; });
  StatisticsDocument unknown = Stats(Client(1), now);
  unknown.rule_name = "Nope";
  StatisticsDocument old = Stats(Client(1), now - 86400);
  TargetsReply reply = targets.Compute({unknown, old}, {SeedRule()});
  EXPECT_TRUE(reply.targets.empty());
  ASSERT_EQ(reply.unprocessed.size(), 2u);
  EXPECT_EQ(reply.unprocessed[0].rule_name, "Nope");
  EXPECT_EQ(reply.unprocessed[0].error_code, "400");
  EXPECT_EQ(reply.unprocessed[1].error_code, "400");
}

TEST(SamplingTargetsTest, LastRuleModificationIsTheNewestRuleAndStable) {
  double now = 1'800'000'000;
  SamplingTargets targets([&] { return now; });
  SamplingRule a = SeedRule(), b = DefaultRule();
  a.modified_at = 1'700'000'100;
  b.modified_at = 1'700'000'000;
  EXPECT_DOUBLE_EQ(targets.Compute({}, {a, b}).last_rule_modification, 1'700'000'100);
  now += 100;
  EXPECT_DOUBLE_EQ(targets.Compute({}, {a, b}).last_rule_modification, 1'700'000'100);
}

TEST(SamplingTargetsTest, StatisticsAreSummedPerRuleAndWindow) {
  double now = 1'800'000'005;
  SamplingTargets targets([&] { return now; });
  targets.Compute({Stats(Client(1), now, 100), Stats(Client(2), now, 50)}, {SeedRule()});
  auto summaries = targets.Summaries();
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].request_count, 150);
  EXPECT_EQ(summaries[0].sampled_count, 20);
  EXPECT_EQ(summaries[0].borrow_count, 2);
  EXPECT_DOUBLE_EQ(summaries[0].timestamp, 1'800'000'000);
  now += 10;
  targets.Compute({Stats(Client(1), now, 7)}, {SeedRule()});
  EXPECT_EQ(targets.Summaries()[0].request_count, 7);
  EXPECT_EQ(targets.History("Cruddur").size(), 2u);
}

TEST(SamplingRuleTest, ValidationNamesTheField) {
  struct Case {
    void (*mutate)(SamplingRule&);
    const char* says;
  };
  const Case cases[] = {
      {[](SamplingRule& r) { r.priority = 10000; }, "Priority must be between 1 and 9999"},
      {[](SamplingRule& r) { r.priority = 0; }, "Priority"},
      {[](SamplingRule& r) { r.fixed_rate = 1.5; }, "FixedRate must be between 0 and 1"},
      {[](SamplingRule& r) { r.fixed_rate = -0.1; }, "FixedRate"},
      {[](SamplingRule& r) { r.reservoir_size = -1; }, "ReservoirSize"},
      {[](SamplingRule& r) { r.rule_name = std::string(33, 'a'); }, "RuleName must be at most 32"},
      {[](SamplingRule& r) { r.rule_name = ""; }, "RuleName is required"},
      {[](SamplingRule& r) { r.host = ""; }, "Host is required"},
      {[](SamplingRule& r) { r.http_method = "VERYLONGMETHOD"; }, "HTTPMethod must be at most 10"},
      {[](SamplingRule& r) { r.version = 2; }, "Version must be 1"},
  };
  EXPECT_TRUE(ValidateRule(SeedRule()).ok());
  EXPECT_TRUE(ValidateRule(DefaultRule()).ok());
  for (const Case& c : cases) {
    SamplingRule rule = SeedRule();
    c.mutate(rule);
    Status status = ValidateRule(rule);
    EXPECT_FALSE(status.ok()) << c.says;
    EXPECT_NE(std::string(status.message()).find(c.says), std::string::npos) << status.message();
  }
}

TEST(SamplingRuleTest, GlobIsCaseInsensitiveWithStarAndQuestionMark) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("backend-*", "Backend-Flask"));
  EXPECT_TRUE(GlobMatch("/api/*/x", "/api/a/b/x"));
  EXPECT_TRUE(GlobMatch("GE?", "get"));
  EXPECT_FALSE(GlobMatch("GE?", "GETS"));
  EXPECT_FALSE(GlobMatch("backend", "backend-flask"));
}

TEST(SamplingRuleTest, RulesOrderByPriorityThenName) {
  SamplingRule a = SeedRule(), b = SeedRule(), c = DefaultRule();
  b.rule_name = "Alpha";
  a.priority = b.priority = 5;
  std::vector<SamplingRule> rules = {c, a, b};
  std::sort(rules.begin(), rules.end(), RuleOrder);
  EXPECT_EQ(rules[0].rule_name, "Alpha");
  EXPECT_EQ(rules[1].rule_name, "Cruddur");
  EXPECT_EQ(rules[2].rule_name, "Default");
}

class XrayConfigStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("xray-config-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "xray-config.json").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<XrayConfigStore> Open() {
    auto store = XrayConfigStore::Open(path_, [] { return 1'800'000'000.0; });
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return std::move(store).value();
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(XrayConfigStoreTest, DefaultRuleExistsCanBeUpdatedButNotDeleted) {
  auto store = Open();
  auto rules = store->Rules();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].rule_name, "Default");
  EXPECT_EQ(rules[0].reservoir_size, 1);
  EXPECT_DOUBLE_EQ(rules[0].fixed_rate, 0.05);
  EXPECT_EQ(rules[0].priority, 10000);
  EXPECT_FALSE(store->DeleteRule("Default", "").ok());
  SamplingRuleUpdate update;
  update.rule_name = "Default";
  update.fixed_rate = 0.0;  // an explicit zero is applied
  update.reservoir_size = 3;
  auto updated = store->UpdateRule(update);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_DOUBLE_EQ(updated->fixed_rate, 0.0);
  EXPECT_EQ(updated->reservoir_size, 3);
  update.priority = 5;
  EXPECT_FALSE(store->UpdateRule(update).ok());
  EXPECT_EQ(store->CreateRule(DefaultRule()).status().code(), StatusCode::kAlreadyExists);
}

TEST_F(XrayConfigStoreTest, RulesAndGroupsSurviveReopening) {
  {
    auto store = Open();
    ASSERT_TRUE(store->CreateRule(SeedRule()).ok());
    XrayGroup group;
    group.name = "Cruddur";
    group.filter_expression = "service(\"$backend-flask\")";
    ASSERT_TRUE(store->CreateGroup(group).ok());
    SamplingRuleUpdate update;
    update.rule_name = "Default";
    update.fixed_rate = 0.2;
    ASSERT_TRUE(store->UpdateRule(update).ok());
  }
  auto store = Open();
  auto rules = store->Rules();
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].rule_name, "Cruddur");
  EXPECT_EQ(rules[0].reservoir_size, 5);
  EXPECT_DOUBLE_EQ(rules[1].fixed_rate, 0.2);
  auto group = store->GetGroup("Cruddur", "");
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group->filter_expression, "service(\"$backend-flask\")");
  auto by_arn = store->GetGroup("", store->GroupArn(*group));
  ASSERT_TRUE(by_arn.ok());
  EXPECT_EQ(by_arn->name, "Cruddur");
  auto groups = store->Groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].name, "Default");
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
}

TEST_F(XrayConfigStoreTest, DuplicatesBadNamesAndBadFiltersAreRejected) {
  auto store = Open();
  ASSERT_TRUE(store->CreateRule(SeedRule()).ok());
  EXPECT_EQ(store->CreateRule(SeedRule()).status().code(), StatusCode::kAlreadyExists);
  XrayGroup group;
  group.name = "Cruddur";
  ASSERT_TRUE(store->CreateGroup(group).ok());
  EXPECT_EQ(store->CreateGroup(group).status().code(), StatusCode::kAlreadyExists);
  group.name = "Default";
  EXPECT_FALSE(store->CreateGroup(group).ok());
  group.name = "has space";
  EXPECT_FALSE(store->CreateGroup(group).ok());
  group.name = "ok-name";
  group.filter_expression = "responsetime >";
  Status bad = store->CreateGroup(group).status();
  EXPECT_NE(std::string(bad.message()).find("FilterExpression"), std::string::npos);
  EXPECT_TRUE(store->DeleteGroup("Cruddur", "").ok());
  EXPECT_TRUE(store->GetGroup("Cruddur", "").status().IsNotFound());
}

TEST_F(XrayConfigStoreTest, CorruptFileIsReportedNotIgnored) {
  std::ofstream(path_) << "{not json";
  auto store = XrayConfigStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(std::string(store.status().message()).find(path_), std::string::npos);
}

TEST(SigV4Test, KnownVectorFromAwsDocumentation) {
  // The signing-key example from the AWS SigV4 documentation (IAM ListUsers, 20150830).
  std::string canonical =
      "GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/"
      "x-www-form-urlencoded; "
      "charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
      "content-type;host;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  EXPECT_EQ(Sha256Hex(canonical),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(SigV4Signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830T123600Z",
                           "us-east-1", "iam", canonical),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

net::HttpRequest SignedRequest(const std::string& secret, const std::string& amz_date) {
  net::HttpRequest r;
  r.method = "POST";
  r.target = r.path = "/Groups";
  r.body = std::make_shared<const std::string>("{}");
  r.headers = {
      {"Host", "127.0.0.1:2000"}, {"Content-Type", "application/json"}, {"X-Amz-Date", amz_date}};
  std::string signed_headers = "content-type;host;x-amz-date";
  std::string signature =
      SigV4Signature(secret, amz_date, "us-east-1", "xray", CanonicalRequest(r, signed_headers));
  r.headers.push_back(
      {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST/" + amz_date.substr(0, 8) +
                            "/us-east-1/xray/aws4_request, SignedHeaders=" + signed_headers +
                            ", Signature=" + signature});
  return r;
}

TEST(SigV4Test, VerifiesGoodSignaturesAndRejectsBadOnesWithXrayErrorTypes) {
  SigV4Credentials creds{"AKIDTEST", "s3cret"};
  const double now = 1'800'000'000;  // 2027-01-15T08:00:00Z
  const std::string date = "20270115T080000Z";
  EXPECT_TRUE(VerifySigV4(SignedRequest("s3cret", date), creds, now).ok);

  SigV4Check wrong = VerifySigV4(SignedRequest("other", date), creds, now);
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.error_type, "InvalidSignatureException");

  net::HttpRequest tampered = SignedRequest("s3cret", date);
  tampered.body = std::make_shared<const std::string>("{\"NextToken\":\"x\"}");
  EXPECT_EQ(VerifySigV4(tampered, creds, now).error_type, "InvalidSignatureException");

  SigV4Check expired = VerifySigV4(SignedRequest("s3cret", date), creds, now + 3600);
  EXPECT_EQ(expired.error_type, "InvalidSignatureException");

  SigV4Check unknown = VerifySigV4(SignedRequest("s3cret", date), {"OTHERKEY", "s3cret"}, now);
  EXPECT_EQ(unknown.error_type, "UnrecognizedClientException");

  net::HttpRequest unsigned_request;
  unsigned_request.body = std::make_shared<const std::string>("");
  EXPECT_EQ(VerifySigV4(unsigned_request, creds, now).error_type,
            "MissingAuthenticationTokenException");
}

// A captured signed request replayed with another body and the original body's hash in
// x-amz-content-sha256 must fail: the server hashes the body itself.
TEST(SigV4Test, ChecksTheBodyAgainstTheDeclaredPayloadHash) {
  SigV4Credentials creds{"AKIDTEST", "s3cret"};
  const double now = 1'800'000'000;
  const std::string date = "20270115T080000Z";
  net::HttpRequest good = SignedRequest("s3cret", date);
  const std::string original_hash = Sha256Hex(*good.body);

  net::HttpRequest declared = good;
  declared.headers.push_back({"X-Amz-Content-Sha256", original_hash});
  EXPECT_TRUE(VerifySigV4(declared, creds, now).ok) << VerifySigV4(declared, creds, now).message;

  net::HttpRequest replayed = declared;
  replayed.body = std::make_shared<const std::string>("{\"GroupName\":\"evil\"}");
  SigV4Check check = VerifySigV4(replayed, creds, now);
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.error_type, "InvalidSignatureException");
  EXPECT_NE(check.message.find("x-amz-content-sha256"), std::string::npos) << check.message;

  net::HttpRequest unsigned_payload = good;
  unsigned_payload.headers.push_back({"x-amz-content-sha256", "UNSIGNED-PAYLOAD"});
  check = VerifySigV4(unsigned_payload, creds, now);
  EXPECT_FALSE(check.ok);
  EXPECT_NE(check.message.find("UNSIGNED-PAYLOAD"), std::string::npos) << check.message;
}

}  // namespace
}  // namespace ariadne::sampling
