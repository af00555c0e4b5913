// Access control against the real `ariadne serve` (issue 12): keys with roles (ingest, read,
// admin) stored hashed, environments isolated pairwise on reads and writes, the UI's login
// session, the browser defences (cross-site changes, Host / DNS rebinding, OTLP CORS), the open
// server's loopback-only rule, the UI's X-Ray proxy under --xray-access-key, owner-only files,
// and the CLI's --key / ARIADNE_KEY.
//
// Usage: auth_server_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/xray/operations.h"
#include "net/http_client.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using nlohmann::json;
using namespace std::chrono_literals;

// Runs `command` with /bin/sh; its stdout and exit code.
struct CommandResult {
  int exit_code = -1;
  std::string out;
};
CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One OTLP/JSON span of `service` in trace `trace_hex` (32 hex digits), now.
std::string SpanJson(const std::string& trace_hex, const std::string& service) {
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  json doc = {
      {"resourceSpans",
       {{{"resource",
          {{"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", service}}}}}}}},
         {"scopeSpans",
          {{{"spans",
             {{{"traceId", trace_hex},
               {"spanId", "00f067aa0ba902b7"},
               {"name", "GET /"},
               {"kind", 2},
               {"startTimeUnixNano", std::to_string(now - 5'000'000)},
               {"endTimeUnixNano", std::to_string(now)}}}}}}}}}}};
  return doc.dump();
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ariadne-auth-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    data_ = dir_ + "/data";
  }
  void TearDown() override {
    if (HasFailure() && server_.running()) {
      std::cerr << "server stderr:\n" << Slurp(server_.stderr_path()) << "\n";
    }
    if (server_.running()) server_.Kill();
    std::filesystem::remove_all(dir_);
  }

  // `ariadne keys create --role ROLE [--env ENV]`: the key it printed.
  std::string CreateKey(const std::string& role, const std::string& env = "") {
    std::string command = g_ariadne + " keys create --role " + role +
                          (env.empty() ? "" : " --env " + env) + " --data-dir " + data_ +
                          " 2>/dev/null";
    CommandResult r = RunCommand(command);
    EXPECT_EQ(r.exit_code, 0) << command;
    return Trimmed(r.out);
  }

  void Start(std::vector<std::string> args = {}) {
    server_ = ServerProcess::Start(g_ariadne, data_, args);
  }

  net::ClientResponse Call(const std::string& method, const std::string& target,
                           net::HeaderList headers = {}, const std::string& body = "") {
    net::HttpClient client("127.0.0.1", server_.ports().http, 60s);
    auto response = client.Request(method, target, headers, body);
    EXPECT_TRUE(response.ok()) << method << " " << target << ": " << response.status().ToString();
    return response.ok() ? std::move(response).value() : net::ClientResponse{};
  }
  net::ClientResponse Get(const std::string& target, const std::string& key = "") {
    net::HeaderList headers;
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    return Call("GET", target, headers);
  }
  net::ClientResponse PostJson(const std::string& target, const std::string& body,
                               const std::string& key = "", net::HeaderList extra = {}) {
    net::HeaderList headers = {{"Content-Type", "application/json"}};
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    for (auto& h : extra) headers.push_back(h);
    return Call("POST", target, headers, body);
  }
  // Sends one span over OTLP/HTTP with `ingest_key`; the status.
  int Ingest(const std::string& trace_hex, const std::string& service,
             const std::string& ingest_key) {
    net::HttpClient client("127.0.0.1", server_.ports().otlp_http, 60s);
    net::HeaderList headers = {{"Content-Type", "application/json"}};
    if (!ingest_key.empty()) headers.emplace_back("x-honeycomb-team", ingest_key);
    auto response = client.Request("POST", "/v1/traces", headers, SpanJson(trace_hex, service));
    EXPECT_TRUE(response.ok());
    return response.ok() ? response->status : 0;
  }
  // A raw request with a hand-made Host header (HttpClient always sends 127.0.0.1:PORT).
  net::ClientResponse RawGet(const std::string& target, const std::string& host) {
    net::HttpClient client("127.0.0.1", server_.ports().http, 60s);
    EXPECT_TRUE(client
                    .SendRaw("GET " + target + " HTTP/1.1\r\nHost: " + host +
                             "\r\nConnection: close\r\n\r\n")
                    .ok());
    auto response = client.ReadResponse();
    EXPECT_TRUE(response.ok());
    return response.ok() ? std::move(response).value() : net::ClientResponse{};
  }

  std::string dir_;
  std::string data_;
  ServerProcess server_;
};

std::string ErrorOf(const net::ClientResponse& r) {
  json doc = json::parse(r.body, nullptr, false);
  return doc.is_object() ? doc.value("error", std::string()) : r.body;
}

const char* const kTraceA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
const char* const kTraceB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";

// Every read route of the API, as (method, target, body).
struct Route {
  std::string method, target, body;
};
std::vector<Route> ReadRoutes() {
  return {{"GET", std::string("/api/v1/traces/") + kTraceA, ""},
          {"GET", "/api/v1/services", ""},
          {"GET", "/api/v1/columns", ""},
          {"GET", "/api/v1/traces?limit=5", ""},
          {"GET", "/api/v1/service-graph", ""},
          {"POST", "/api/v1/query", R"({"calculations":[{"op":"COUNT"}],"time_range":3600})"},
          {"POST", "/api/v1/bubbleup",
           R"({"time_range":3600,"selection":{"column":"duration_ms","min":0,"max":100000}})"},
          {"GET", "/api/v1/xray/groups", ""},
          {"GET", "/api/v1/xray/sampling", ""},
          {"GET", "/api/v1/xray/trace-summaries", ""},
          {"POST", "/api/v1/xray/GetSamplingRules", "{}"}};
}

TEST_F(AuthTest, EveryReadRouteNeedsAReadKeyOnceKeysExist) {
  const std::string ingest = CreateKey("ingest", "prod");
  const std::string read = CreateKey("read");
  const std::string admin = CreateKey("admin");
  Start();
  ASSERT_EQ(Ingest(kTraceA, "svc-a", ingest), 200);
  for (const Route& route : ReadRoutes()) {
    SCOPED_TRACE(route.method + " " + route.target);
    net::HeaderList json_type = {{"Content-Type", "application/json"}};
    auto anonymous = Call(route.method, route.target, json_type, route.body);
    EXPECT_EQ(anonymous.status, 401) << anonymous.body;
    EXPECT_NE(ErrorOf(anonymous).find("read key"), std::string::npos) << anonymous.body;
    EXPECT_TRUE(anonymous.Header("www-authenticate").has_value());
    auto wrong = PostJson("/api/v1/query", "{}", "ark_00000000000000000000000000000000");
    EXPECT_EQ(wrong.status, 401);
    net::HeaderList with_ingest = json_type;
    with_ingest.emplace_back("Authorization", "Bearer " + ingest);
    auto ingest_read = Call(route.method, route.target, with_ingest, route.body);
    EXPECT_EQ(ingest_read.status, 403) << ingest_read.body;
    for (const std::string& key : {read, admin}) {
      net::HeaderList with_key = json_type;
      with_key.emplace_back("Authorization", "Bearer " + key);
      auto ok = Call(route.method, route.target, with_key, route.body);
      EXPECT_EQ(ok.status, 200) << ok.body;
    }
  }
  // Liveness and the UI's files stay reachable (the UI shows its login page).
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_NE(Get("/").status, 401);
  // A read key cannot send spans.
  EXPECT_EQ(Ingest(kTraceB, "svc-b", read), 401);
}

TEST_F(AuthTest, EnvironmentsAreIsolatedPairwise) {
  const std::vector<std::string> envs = {"alpha", "beta"};
  std::map<std::string, std::string> ingest, read, admin;
  for (const std::string& env : envs) {
    ingest[env] = CreateKey("ingest", env);
    read[env] = CreateKey("read", env);
    admin[env] = CreateKey("admin", env);
  }
  const std::string all = CreateKey("read");
  Start();
  const std::map<std::string, std::string> trace_of = {{"alpha", kTraceA}, {"beta", kTraceB}};
  // Writes: each ingest key writes its own environment only; read and admin keys write nothing.
  for (const std::string& env : envs) {
    ASSERT_EQ(Ingest(trace_of.at(env), "svc-" + env, ingest[env]), 200);
    EXPECT_EQ(Ingest(trace_of.at(env), "svc-" + env, read[env]), 401);
    EXPECT_EQ(Ingest(trace_of.at(env), "svc-" + env, admin[env]), 401);
  }
  for (const std::string& env : envs) {
    auto trace = Get("/api/v1/traces/" + trace_of.at(env), all);
    ASSERT_EQ(trace.status, 200) << trace.body;
    EXPECT_EQ(json::parse(trace.body)["environments"], json::array({env}));
  }
  for (const std::string& reader : envs) {
    for (const std::string& owner : envs) {
      SCOPED_TRACE("key of " + reader + " reading " + owner);
      for (const std::string& key : {read[reader], admin[reader]}) {
        const bool same = reader == owner;
        auto trace = Get("/api/v1/traces/" + trace_of.at(owner), key);
        EXPECT_EQ(trace.status, same ? 200 : 404) << trace.body;
        auto named = Get("/api/v1/traces/" + trace_of.at(owner) + "?environment=" + owner, key);
        EXPECT_EQ(named.status, same ? 200 : 403) << named.body;
        auto services = Get("/api/v1/services", key);
        ASSERT_EQ(services.status, 200);
        bool sees_owner = services.body.find("svc-" + owner) != std::string::npos;
        EXPECT_EQ(sees_owner, same) << services.body;
        auto search = Get("/api/v1/traces?limit=10", key);
        ASSERT_EQ(search.status, 200);
        EXPECT_EQ(search.body.find(trace_of.at(owner)) != std::string::npos, same) << search.body;
        auto query = PostJson("/api/v1/query",
                              R"({"calculations":[{"op":"COUNT"}],"breakdowns":["service.name"],)"
                              R"("time_range":3600})",
                              key);
        ASSERT_EQ(query.status, 200) << query.body;
        EXPECT_EQ(query.body.find("svc-" + owner) != std::string::npos, same) << query.body;
        auto query_named = PostJson("/api/v1/query",
                                    R"({"calculations":[{"op":"COUNT"}],"time_range":3600,)"
                                    R"("environment":")" +
                                        owner + "\"}",
                                    key);
        EXPECT_EQ(query_named.status, same ? 200 : 403) << query_named.body;
        auto columns = Get("/api/v1/columns?environment=" + owner, key);
        EXPECT_EQ(columns.status, same ? 200 : 403);
        auto graph = Get("/api/v1/service-graph?environment=" + owner, key);
        EXPECT_EQ(graph.status, same ? 200 : 403);
      }
    }
  }
  // X-Ray data lives in the X-Ray environment ('default' here): keys of alpha/beta may not use it.
  auto groups = Get("/api/v1/xray/groups", read["alpha"]);
  EXPECT_EQ(groups.status, 403) << groups.body;
  EXPECT_EQ(Get("/api/v1/xray/groups", all).status, 200);
}

TEST_F(AuthTest, XrayChangesNeedAnAdminKeyAndTheProxyWorksWithSigV4Required) {
  const std::string read = CreateKey("read");
  const std::string admin = CreateKey("admin");
  Start({"--xray-access-key", "AKIDTEST:s3cr3t"});
  const std::string group = R"({"GroupName":"slow","FilterExpression":"responsetime > 5"})";
  auto by_reader = PostJson("/api/v1/xray/CreateGroup", group, read);
  EXPECT_EQ(by_reader.status, 403) << by_reader.body;
  EXPECT_NE(ErrorOf(by_reader).find("admin key"), std::string::npos) << by_reader.body;
  // Before: the proxy forwarded unsigned calls and the X-Ray API answered 403.
  auto by_admin = PostJson("/api/v1/xray/CreateGroup", group, admin);
  EXPECT_EQ(by_admin.status, 200) << by_admin.body;
  auto rules = PostJson("/api/v1/xray/GetSamplingRules", "{}", read);
  EXPECT_EQ(rules.status, 200) << rules.body;
  auto groups = Get("/api/v1/xray/groups", read);
  ASSERT_EQ(groups.status, 200);
  EXPECT_NE(groups.body.find("slow"), std::string::npos) << groups.body;
  // The X-Ray port itself still wants a signature.
  net::HttpClient xray("127.0.0.1", server_.ports().xray, 30s);
  auto unsigned_call = xray.Request("POST", "/CreateGroup", {{"Content-Type", "application/json"}},
                                    R"({"GroupName":"x","FilterExpression":"ok"})");
  ASSERT_TRUE(unsigned_call.ok());
  EXPECT_EQ(unsigned_call->status, 403);
}

// Every X-Ray operation through the UI's proxy with a read key: the read operations are let
// through (whatever the X-Ray API then answers to an empty body), the ones that change data or
// settings are refused with a hint to use an admin key. The lists are AWS's (reads are the Get*,
// List* and BatchGet* calls, plus PutTelemetryRecords/GetSamplingTargets counted as writes since
// they feed the sampler); the operation table must cover exactly these.
TEST_F(AuthTest, ReadKeyMayCallEveryXrayReadOperationAndNoWriteOperation) {
  const std::vector<std::pair<std::string, std::string>> reads = {
      {"GetSamplingRules", "{}"},
      {"SamplingStatisticSummaries", "{}"},
      {"GetGroup", R"({"GroupName":"Default"})"},
      {"Groups", "{}"},
      {"TraceSummaries", R"({"StartTime":1,"EndTime":2})"},
      {"Traces", R"({"TraceIds":["1-5f84c7a1-0123456789abcdef01234567"]})"},
      {"ServiceGraph", R"({"StartTime":1,"EndTime":2})"},
      {"TraceGraph", R"({"TraceIds":["1-5f84c7a1-0123456789abcdef01234567"]})"},
      {"TimeSeriesServiceStatistics", R"({"StartTime":1,"EndTime":2})"},
      {"ListTagsForResource",
       R"({"ResourceARN":"arn:aws:xray:us-east-1:000000000000:group/Default"})"},
      {"EncryptionConfig", "{}"},
      {"GetTraceSegmentDestination", "{}"},
      {"InsightSummaries", R"({"StartTime":1,"EndTime":2})"},
      {"Insight", R"({"InsightId":"none"})"},
      {"InsightEvents", R"({"InsightId":"none"})"},
      {"InsightImpactGraph", R"({"InsightId":"none","StartTime":1,"EndTime":2})"}};
  const std::vector<std::string> writes = {"TraceSegments",
                                           "TelemetryRecords",
                                           "SamplingTargets",
                                           "CreateSamplingRule",
                                           "UpdateSamplingRule",
                                           "DeleteSamplingRule",
                                           "CreateGroup",
                                           "UpdateGroup",
                                           "DeleteGroup",
                                           "TagResource",
                                           "UntagResource",
                                           "PutEncryptionConfig",
                                           "UpdateTraceSegmentDestination"};
  const std::string read = CreateKey("read");
  Start();
  for (const auto& [operation, body] : reads) {
    auto r = PostJson("/api/v1/xray/" + operation, body, read);
    EXPECT_NE(r.status, 403) << operation << ": " << r.body;
    EXPECT_LT(r.status, 500) << operation << ": " << r.body;
  }
  for (const std::string& operation : writes) {
    auto r = PostJson("/api/v1/xray/" + operation, "{}", read);
    EXPECT_EQ(r.status, 403) << operation << ": " << r.body;
    EXPECT_NE(ErrorOf(r).find("admin key"), std::string::npos) << operation << ": " << r.body;
  }
  // The operation table has exactly these operations, each with the access the lists give it.
  std::set<std::string> listed(writes.begin(), writes.end());
  for (const auto& [operation, body] : reads) listed.insert(operation);
  std::set<std::string> table;
  for (const api::xray::XrayOperation& op : api::xray::XrayOperations()) {
    const std::string name(op.path.substr(1));
    table.insert(name);
    const bool is_read =
        std::any_of(reads.begin(), reads.end(), [&](const auto& r) { return r.first == name; });
    EXPECT_EQ(op.access == api::xray::XrayAccess::kRead, is_read) << name;
  }
  EXPECT_EQ(table, listed);
}

TEST_F(AuthTest, LoginSetsAStrictHttpOnlySessionCookieAndLogoutEndsIt) {
  const std::string read = CreateKey("read", "prod");
  const std::string ingest = CreateKey("ingest", "prod");
  Start();
  EXPECT_EQ(Get("/api/v1/session").status, 401);
  EXPECT_EQ(PostJson("/api/v1/login", json{{"key", ingest}}.dump()).status, 403);
  EXPECT_EQ(PostJson("/api/v1/login", R"({"key":"nope"})").status, 401);
  auto login = PostJson("/api/v1/login", json{{"key", read}}.dump());
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(json::parse(login.body)["role"], "read");
  EXPECT_EQ(json::parse(login.body)["environment"], "prod");
  std::string cookie(login.Header("set-cookie").value_or(""));
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Path=/"), std::string::npos) << cookie;
  const std::string session = cookie.substr(0, cookie.find(';'));
  ASSERT_EQ(session.rfind("ariadne_session=", 0), 0u);
  EXPECT_EQ(session.find(read), std::string::npos);  // the cookie is not the key
  auto services = Call("GET", "/api/v1/services", {{"Cookie", session}});
  EXPECT_EQ(services.status, 200) << services.body;
  auto me = Call("GET", "/api/v1/session", {{"Cookie", session}});
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(json::parse(me.body)["role"], "read");
  auto logout = Call("POST", "/api/v1/logout",
                     {{"Cookie", session}, {"Content-Type", "application/json"}}, "{}");
  EXPECT_EQ(logout.status, 200);
  EXPECT_NE(std::string(logout.Header("set-cookie").value_or("")).find("Max-Age=0"),
            std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/services", {{"Cookie", session}}).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/services", {{"Cookie", "ariadne_session=forged"}}).status, 401);
}

TEST_F(AuthTest, CrossSiteChangesAreRefusedOnTheOpenServer) {
  Start();
  auto created = PostJson("/api/v1/xray/CreateSamplingRule",
                          R"({"SamplingRule":{"RuleName":"r1","Priority":10,"FixedRate":0.5,)"
                          R"("ReservoirSize":1,"ServiceName":"*","ServiceType":"*","Host":"*",)"
                          R"("HTTPMethod":"*","URLPath":"*","ResourceARN":"*","Version":1}})");
  ASSERT_EQ(created.status, 200) << created.body;
  // The issue's repro: text/plain from a foreign origin.
  auto forged = Call("POST", "/api/v1/xray/DeleteSamplingRule",
                     {{"Content-Type", "text/plain"}, {"Origin", "http://evil.example"}},
                     R"({"RuleName":"r1"})");
  EXPECT_EQ(forged.status, 403) << forged.body;
  EXPECT_NE(ErrorOf(forged).find("http://evil.example"), std::string::npos) << forged.body;
  auto cross_site = Call("POST", "/api/v1/xray/DeleteSamplingRule",
                         {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "cross-site"}},
                         R"({"RuleName":"r1"})");
  EXPECT_EQ(cross_site.status, 403) << cross_site.body;
  auto plain = Call("POST", "/api/v1/xray/DeleteSamplingRule", {{"Content-Type", "text/plain"}},
                    R"({"RuleName":"r1"})");
  EXPECT_EQ(plain.status, 415) << plain.body;
  auto rules = Get("/api/v1/xray/sampling");
  EXPECT_NE(rules.body.find("r1"), std::string::npos) << rules.body;
  // The UI's own calls (same origin) still work.
  const std::string self = "http://127.0.0.1:" + std::to_string(server_.ports().http);
  auto deleted = PostJson("/api/v1/xray/DeleteSamplingRule", R"({"RuleName":"r1"})", "",
                          {{"Origin", self}, {"Sec-Fetch-Site", "same-origin"}});
  EXPECT_EQ(deleted.status, 200) << deleted.body;
}

TEST_F(AuthTest, HostHeaderMustNameThisServer) {
  Start({"--public-url", "https://tracing.example.com"});
  EXPECT_EQ(RawGet("/api/v1/services", "evil.example").status, 421);
  auto rebinding = RawGet("/api/v1/services", "evil.example:8686");
  EXPECT_EQ(rebinding.status, 421);
  EXPECT_NE(ErrorOf(rebinding).find("--public-url"), std::string::npos) << rebinding.body;
  EXPECT_EQ(RawGet("/", "evil.example").status, 421);
  EXPECT_EQ(RawGet("/api/v1/services", "localhost:1234").status, 200);
  EXPECT_EQ(RawGet("/api/v1/services", "127.0.0.1").status, 200);
  EXPECT_EQ(RawGet("/api/v1/services", "[::1]:8686").status, 200);
  EXPECT_EQ(RawGet("/api/v1/services", "tracing.example.com").status, 200);
  EXPECT_EQ(RawGet("/healthz", "evil.example").status, 200);
}

TEST_F(AuthTest, OtlpCorsAnswersOnlyConfiguredOrigins) {
  Start({"--cors-origin", "http://localhost:3000"});
  net::HttpClient client("127.0.0.1", server_.ports().otlp_http, 30s);
  auto preflight = [&](const std::string& origin) {
    auto r = client.Request("OPTIONS", "/v1/traces",
                            {{"Origin", origin},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "content-type"}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(r).value() : net::ClientResponse{};
  };
  auto allowed = preflight("http://localhost:3000");
  EXPECT_EQ(allowed.Header("access-control-allow-origin").value_or(""), "http://localhost:3000");
  auto foreign = preflight("http://evil.example");
  EXPECT_FALSE(foreign.Header("access-control-allow-origin").has_value());
  auto post =
      client.Request("POST", "/v1/traces",
                     {{"Content-Type", "application/json"}, {"Origin", "http://evil.example"}},
                     SpanJson(kTraceA, "svc"));
  ASSERT_TRUE(post.ok());
  EXPECT_FALSE(post->Header("access-control-allow-origin").has_value());
}

TEST_F(AuthTest, OpenServerStaysOnLoopbackUnlessAllowed) {
  // (A server that does not refuse would run on: `timeout` ends it and the test fails.)
  CommandResult refused =
      RunCommand("timeout 30 " + g_ariadne + " serve --data-dir " + data_ +
                 " --listen 0.0.0.0 --otlp-http 0 --http 0 --xray 127.0.0.1:0 2>&1");
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.out.find("--allow-open"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("ariadne keys create"), std::string::npos) << refused.out;
  Start({"--listen", "0.0.0.0", "--allow-open"});
  EXPECT_EQ(Get("/api/v1/services").status, 200);
  EXPECT_NE(Slurp(server_.stderr_path()).find("the server is OPEN"), std::string::npos);
}

TEST_F(AuthTest, KeysAreStoredHashedAndPlainTextFilesAreMigrated) {
  std::filesystem::create_directories(data_);
  {
    std::ofstream(data_ + "/keys.json")
        << R"({"keys":[{"key":"legacy-ingest-key-123","environment":"prod"}]})";
  }
  Start();
  EXPECT_EQ(Ingest(kTraceA, "svc", "legacy-ingest-key-123"), 200);
  const std::string text = Slurp(data_ + "/keys.json");
  EXPECT_EQ(text.find("legacy-ingest-key-123"), std::string::npos) << text;
  EXPECT_NE(text.find("\"hash\""), std::string::npos) << text;
  server_.Stop(SIGTERM);
  // New keys are hashed too, and a revoked key stops working after a restart.
  const std::string read = CreateKey("read");
  EXPECT_EQ(Slurp(data_ + "/keys.json").find(read), std::string::npos);
  CommandResult list = RunCommand(g_ariadne + " keys list --data-dir " + data_);
  EXPECT_NE(list.out.find(read.substr(0, 12)), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(read), std::string::npos) << list.out;
  Start();
  EXPECT_EQ(Get("/api/v1/services", read).status, 200);
  server_.Stop(SIGTERM);
  CommandResult revoked = RunCommand(g_ariadne + " keys revoke " + read.substr(0, 12) +
                                     " --data-dir " + data_ + " 2>&1");
  EXPECT_EQ(revoked.exit_code, 0) << revoked.out;
  Start();
  EXPECT_EQ(Get("/api/v1/services", read).status, 401);
}

TEST_F(AuthTest, DataFilesAreOwnerOnly) {
  Start({"--xray-access-key", "AKIDTEST:s3cr3t"});
  ASSERT_EQ(Ingest(kTraceA, "svc", ""), 200);
  // X-Ray settings, through the UI proxy (signed by the server).
  auto group = PostJson("/api/v1/xray/CreateGroup",
                        R"({"GroupName":"g","FilterExpression":"responsetime > 5"})");
  ASSERT_EQ(group.status, 200) << group.body;
  ASSERT_EQ(server_.Stop(SIGTERM), 0);  // flushes: blocks and manifest are written
  int files = 0;
  struct stat st {};
  ASSERT_EQ(stat(data_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_)) {
    ASSERT_EQ(lstat(entry.path().c_str(), &st), 0);
    if (S_ISDIR(st.st_mode)) {
      EXPECT_EQ(st.st_mode & 0777, 0700u) << entry.path();
    } else if (S_ISREG(st.st_mode)) {
      EXPECT_EQ(st.st_mode & 0777, 0600u) << entry.path();
      ++files;
    }
  }
  EXPECT_GE(files, 3);
  EXPECT_TRUE(std::filesystem::exists(data_ + "/xray-config.json"));
}

TEST_F(AuthTest, CliReadsWithKeyFlagOrEnvironmentVariable) {
  const std::string ingest = CreateKey("ingest", "prod");
  const std::string read = CreateKey("read");
  const std::string read_dev = CreateKey("read", "dev");
  const std::string read_prod = CreateKey("read", "prod");
  Start();
  ASSERT_EQ(Ingest(kTraceA, "svc-cli", ingest), 200);
  const std::string server = " --server http://127.0.0.1:" + std::to_string(server_.ports().http);
  CommandResult without =
      RunCommand("env -u ARIADNE_KEY " + g_ariadne + " query --calc COUNT" + server + " 2>&1");
  EXPECT_NE(without.exit_code, 0);
  EXPECT_NE(without.out.find("--key"), std::string::npos) << without.out;
  CommandResult with_flag = RunCommand(g_ariadne + " query --calc COUNT --by service.name --key " +
                                       read + server + " 2>&1");
  EXPECT_EQ(with_flag.exit_code, 0) << with_flag.out;
  EXPECT_NE(with_flag.out.find("svc-cli"), std::string::npos) << with_flag.out;
  CommandResult with_env =
      RunCommand("ARIADNE_KEY=" + read + " " + g_ariadne + " trace " + kTraceA + server + " 2>&1");
  EXPECT_EQ(with_env.exit_code, 0) << with_env.out;
  EXPECT_NE(with_env.out.find("svc-cli"), std::string::npos) << with_env.out;
  // Environments through the CLI: a dev key neither names prod nor finds prod's trace.
  CommandResult dev_names_prod = RunCommand(
      g_ariadne + " query --calc COUNT --environment prod --key " + read_dev + server + " 2>&1");
  EXPECT_NE(dev_names_prod.exit_code, 0);
  EXPECT_NE(dev_names_prod.out.find("may only read environment 'dev'"), std::string::npos)
      << dev_names_prod.out;
  CommandResult dev_trace =
      RunCommand(g_ariadne + " trace " + kTraceA + " --key " + read_dev + server + " 2>&1");
  EXPECT_NE(dev_trace.exit_code, 0);
  EXPECT_NE(dev_trace.out.find("not found"), std::string::npos) << dev_trace.out;
  CommandResult prod_trace =
      RunCommand(g_ariadne + " trace " + kTraceA + " --key " + read_prod + server + " 2>&1");
  EXPECT_EQ(prod_trace.exit_code, 0) << prod_trace.out;
  CommandResult dev_query = RunCommand(g_ariadne + " query --calc COUNT --by service.name --key " +
                                       read_dev + server + " 2>&1");
  EXPECT_EQ(dev_query.exit_code, 0) << dev_query.out;
  EXPECT_EQ(dev_query.out.find("svc-cli"), std::string::npos) << dev_query.out;
  CommandResult trace_without =
      RunCommand("env -u ARIADNE_KEY " + g_ariadne + " trace " + kTraceA + server + " 2>&1");
  EXPECT_NE(trace_without.exit_code, 0);
  EXPECT_NE(trace_without.out.find("--key"), std::string::npos) << trace_without.out;
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
