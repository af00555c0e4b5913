// ApiAuth's checks called directly with real registries (no server): Host names, origins,
// sessions, roles and environment narrowing. The same behaviour through the real server is in
// auth_server_test.cc.
#include "api/auth.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ariadne::api {
namespace {

using pipeline::KeyEntry;
using pipeline::KeyRegistry;
using pipeline::KeyRole;

net::HttpRequest Request(std::string method, std::string target, net::HeaderList headers = {},
                         std::string body = "") {
  net::HttpRequest request;
  request.method = std::move(method);
  net::ParseRequestTarget(target, &request);
  request.headers = std::move(headers);
  request.headers.emplace_back("Host", "127.0.0.1:8686");
  request.body = std::make_shared<const std::string>(std::move(body));
  return request;
}

KeyRegistry Keys() {
  KeyRegistry keys;
  KeyEntry read{"read-all-key-0001", "", 0, KeyRole::kRead};
  KeyEntry prod{"read-prod-key-0001", "prod", 0, KeyRole::kRead};
  KeyEntry admin{"admin-key-0000001", "", 0, KeyRole::kAdmin};
  KeyEntry ingest{"ingest-key-000001", "prod", 0, KeyRole::kIngest};
  for (KeyEntry* e : {&read, &prod, &admin, &ingest}) EXPECT_TRUE(keys.Add(*e).ok());
  return keys;
}

TEST(ApiAuthTest, DefaultHostsAreLoopbackNamesAndIpLiterals) {
  for (const char* ok : {"localhost", "localhost:8686", "app.localhost", "127.0.0.1:1", "10.1.2.3",
                         "[::1]:8686", "[fe80::1]"}) {
    EXPECT_TRUE(IsDefaultAllowedHost(ok)) << ok;
  }
  for (const char* bad : {"evil.example", "evil.example:8686", "localhost.evil.example",
                          "127.0.0.1.nip.io", "", "[::1"}) {
    EXPECT_FALSE(IsDefaultAllowedHost(bad)) << bad;
  }
}

TEST(ApiAuthTest, OriginOfUrlDropsPathAndDefaultPort) {
  EXPECT_EQ(OriginOfUrl("https://Tracing.Example.com:443/ui/"), "https://tracing.example.com");
  EXPECT_EQ(OriginOfUrl("http://h:8686"), "http://h:8686");
  EXPECT_EQ(OriginOfUrl("ftp://h"), "");
  EXPECT_EQ(OriginOfUrl("h:8686"), "");
}

TEST(ApiAuthTest, ScopedKeyIsNarrowedToItsEnvironmentAndRefusedOthers) {
  KeyRegistry keys = Keys();
  ApiAuth auth(&keys, {});
  net::HeaderList bearer = {{"Authorization", "Bearer read-prod-key-0001"}};
  auto narrowed = Request("GET", "/api/v1/services", bearer);
  EXPECT_FALSE(auth.Check(narrowed).has_value());
  EXPECT_EQ(narrowed.QueryParam("environment").value_or(""), "prod");
  auto other = Request("GET", "/api/v1/services?environment=dev", bearer);
  auto refused = auth.Check(other);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 403);
  net::HeaderList post = bearer;
  post.emplace_back("Content-Type", "application/json");
  auto query = Request("POST", "/api/v1/bubbleup", post, R"({"time_range":60})");
  EXPECT_FALSE(auth.Check(query).has_value());
  EXPECT_EQ(nlohmann::json::parse(*query.body)["environment"], "prod");
  auto foreign = Request("POST", "/api/v1/query", post, R"({"environment":"dev"})");
  ASSERT_TRUE(auth.Check(foreign).has_value());
  // An unscoped read key is left alone.
  auto all = Request("GET", "/api/v1/services?environment=dev",
                     {{"Authorization", "Bearer read-all-key-0001"}});
  EXPECT_FALSE(auth.Check(all).has_value());
  EXPECT_EQ(all.QueryParam("environment").value_or(""), "dev");
}

TEST(ApiAuthTest, RolesDecideXrayChanges) {
  KeyRegistry keys = Keys();
  ApiAuth auth(&keys, {});
  auto call = [&](const std::string& key, const std::string& op) {
    auto request =
        Request("POST", "/api/v1/xray/" + op,
                {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}}, "{}");
    auto answer = auth.Check(request);
    return answer ? answer->status : 0;
  };
  EXPECT_EQ(call("read-all-key-0001", "GetSamplingRules"), 0);
  EXPECT_EQ(call("read-all-key-0001", "CreateGroup"), 403);
  EXPECT_EQ(call("read-all-key-0001", "DeleteSamplingRule"), 403);
  EXPECT_EQ(call("admin-key-0000001", "DeleteSamplingRule"), 0);
  EXPECT_EQ(call("ingest-key-000001", "GetSamplingRules"), 403);
  EXPECT_EQ(call("nope", "GetSamplingRules"), 401);
}

TEST(ApiAuthTest, SessionsComeFromLoginAndEndAtLogout) {
  KeyRegistry keys = Keys();
  ApiAuth auth(&keys, {});
  auto login = Request("POST", "/api/v1/login", {{"Content-Type", "application/json"}},
                       R"({"key":"read-prod-key-0001"})");
  auto answer = auth.Check(login);
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->status, 200) << answer->body;
  std::string cookie(answer->Header("Set-Cookie").value_or(""));
  std::string session = cookie.substr(0, cookie.find(';'));
  auto read = Request("GET", "/api/v1/services", {{"Cookie", "a=b; " + session}});
  EXPECT_FALSE(auth.Check(read).has_value());
  auto logout = Request("POST", "/api/v1/logout",
                        {{"Cookie", session}, {"Content-Type", "application/json"}}, "{}");
  ASSERT_TRUE(auth.Check(logout).has_value());
  auto after = Request("GET", "/api/v1/services", {{"Cookie", session}});
  auto refused = auth.Check(after);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 401);
}

TEST(ApiAuthTest, SessionStoreExpiresAndCapsSessions) {
  SessionStore expired(std::chrono::seconds(0), 10);
  std::string token = expired.Create({KeyRole::kRead, "", "id"});
  EXPECT_FALSE(expired.Find(token).has_value());
  SessionStore capped(std::chrono::seconds(60), 2);
  std::string first = capped.Create({KeyRole::kRead, "", "1"});
  capped.Create({KeyRole::kRead, "", "2"});
  capped.Create({KeyRole::kRead, "", "3"});
  EXPECT_FALSE(capped.Find(first).has_value());
}

TEST(ApiAuthTest, CrossSiteChangesAreRefusedEvenWhenOpen) {
  KeyRegistry none;
  ApiAuth auth(&none, {{"https://tracing.example.com"}});
  auto forged = Request("POST", "/api/v1/xray/DeleteSamplingRule",
                        {{"Origin", "http://evil.example"}, {"Content-Type", "text/plain"}});
  auto answer = auth.Check(forged);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 403);
  auto listed = Request("POST", "/api/v1/xray/DeleteSamplingRule",
                        {{"Origin", "https://tracing.example.com"},
                         {"Content-Type", "application/json; charset=utf-8"}});
  EXPECT_FALSE(auth.Check(listed).has_value());
  auto same = Request("POST", "/api/v1/query",
                      {{"Origin", "http://127.0.0.1:8686"}, {"Content-Type", "application/json"}});
  EXPECT_FALSE(auth.Check(same).has_value());
}

}  // namespace
}  // namespace ariadne::api
