// Issue 10, items 8 and 9, against a real `ariadne serve`:
//  - requests without a valid key are refused from their headers (401), before any body byte is
//    read or buffered;
//  - the bytes of request bodies held across all OTLP connections are bounded (503 +
//    Retry-After past --otlp-max-buffered-bytes), and resident memory stays near that bound;
//  - running out of file descriptors does not make the accept loop spin, and the ports serve
//    again once connections close; a connection cap per listener keeps one port from taking
//    every descriptor.
//
// Usage: integration_limits_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "tests/common/server_fixture.h"
#include "tests/common/server_process.h"
#include "tests/integration/availability_util.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using namespace std::chrono_literals;

class LimitsTest : public ServerFixture {
 protected:
  LimitsTest() : ServerFixture("limits") {}

  std::string CreateKey() {
    std::string command = g_ariadne + " keys create --env prod --data-dir " +
                          (dir_ / "data").string() + " 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return "";
    char line[256] = {0};
    std::string key = std::fgets(line, sizeof line, pipe) ? line : "";
    ::pclose(pipe);
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    return key;
  }

  void Start(const std::vector<std::string>& args = {}) {
    server_ = ServerProcess::Start(g_ariadne, (dir_ / "data").string(), args);
  }

  std::string Metrics() {
    net::HttpClient api("127.0.0.1", server_.ports().http, 30s);
    auto response = api.Request("GET", "/metrics");
    return response.ok() ? response->body : "";
  }
};

std::string PostHeaders(size_t content_length, const std::string& key) {
  return "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
         "x-honeycomb-team: " +
         key + "\r\nContent-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

TEST_F(LimitsTest, RequestsWithoutAValidKeyAreRefusedBeforeTheirBody) {
  ASSERT_FALSE(CreateKey().empty());
  Start();
  constexpr int kConnections = 40;
  std::vector<std::unique_ptr<net::HttpClient>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(
        std::make_unique<net::HttpClient>("127.0.0.1", server_.ports().otlp_http, 30s));
    // 16 MB announced, not one body byte sent: only a header-stage check can answer.
    ASSERT_TRUE(clients.back()->SendRaw(PostHeaders(16'000'000, "not-a-key")).ok());
  }
  for (auto& client : clients) {
    auto response = client->ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->status, 401) << response->body;
  }
  EXPECT_NE(Metrics().find("ariadne_http_rejected_before_body_total{listener=\"otlp-http\"} 40"),
            std::string::npos);
}

TEST_F(LimitsTest, BodyBytesAcrossConnectionsAreBoundedWith503AndRetryAfter) {
  const std::string key = CreateKey();
  ASSERT_FALSE(key.empty());
  constexpr size_t kBudget = 8'000'000;
  Start({"--otlp-max-buffered-bytes", std::to_string(kBudget)});
  // About 3 MB per request: two fit in the budget at once.
  int traces = 500;
  std::string body = OtlpBatch(7, traces, 10);
  while (body.size() < 3'000'000) body = OtlpBatch(7, traces *= 2, 10);
  constexpr int kConnections = 8;
  std::vector<std::unique_ptr<net::HttpClient>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(
        std::make_unique<net::HttpClient>("127.0.0.1", server_.ports().otlp_http, 60s));
    ASSERT_TRUE(clients.back()->SendRaw(PostHeaders(body.size(), key)).ok());
  }
  // Every request has announced its body before any body byte is sent.
  for (auto& client : clients) (void)client->SendRaw(body);  // a refused one may reset
  int ok = 0, refused = 0;
  for (auto& client : clients) {
    auto response = client->ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    if (response->status == 200) ++ok;
    if (response->status == 503) {
      ++refused;
      EXPECT_TRUE(response->Header("Retry-After").has_value());
    }
  }
  EXPECT_EQ(ok + refused, kConnections);
  EXPECT_GE(ok, 1);
  EXPECT_GE(refused, 1);
  const long rss_kb = ProcStatus(server_.pid(), "VmRSS");
  EXPECT_LT(rss_kb * 1024L, static_cast<long>(kBudget) + 200L * 1024 * 1024);
}

// Lowers the running server's open-file limit from outside (prlimit), as a tight ulimit would.
void LimitServerFiles(pid_t pid, rlim_t files) {
  struct rlimit limit = {files, files};
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &limit, nullptr), 0);
}

TEST_F(LimitsTest, RunningOutOfDescriptorsDoesNotSpinAndTheServerRecovers) {
  struct rlimit own;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &own), 0);
  own.rlim_cur = own.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &own), 0);
  Start();
  LimitServerFiles(server_.pid(), 128);
  std::vector<std::unique_ptr<net::HttpClient>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<net::HttpClient>("127.0.0.1", server_.ports().otlp_http, 5s));
    ASSERT_TRUE(idle.back()->SendRaw("").ok());  // connects; the kernel backlog takes the rest
  }
  std::this_thread::sleep_for(500ms);  // let the server reach its limit (sequencing only)
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  const long before = CpuTicks(server_.pid());
  std::this_thread::sleep_for(2s);
  const long used = CpuTicks(server_.pid()) - before;
  // A spinning accept loop takes a whole core when it can (under 50 % on this shared 2-core
  // machine); a paused one next to nothing. Bound: a quarter of one core over the 2 s.
  EXPECT_LT(used, ticks_per_second / 2)
      << "the server used " << used << " ticks in 2 s while out of descriptors";
  idle.clear();
  net::HttpClient api("127.0.0.1", server_.ports().http, 30s);
  auto health = api.Request("GET", "/healthz");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200);
  net::HttpClient otlp("127.0.0.1", server_.ports().otlp_http, 30s);
  auto ingest = otlp.Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                             OtlpBatch(3, 5, 2));
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  EXPECT_EQ(ingest->status, 200);
  EXPECT_EQ(Metrics().find("ariadne_http_accept_backoffs_total{listener=\"otlp-http\"} 0\n"),
            std::string::npos);
}

TEST_F(LimitsTest, ConnectionCapKeepsOtherPortsServing) {
  Start({"--otlp-max-connections", "10"});
  std::vector<std::unique_ptr<net::HttpClient>> idle;
  for (int i = 0; i < 30; ++i) {
    idle.push_back(std::make_unique<net::HttpClient>("127.0.0.1", server_.ports().otlp_http, 5s));
    ASSERT_TRUE(idle.back()->SendRaw("").ok());
  }
  net::HttpClient api("127.0.0.1", server_.ports().http, 30s);
  auto health = api.Request("GET", "/healthz");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200);
  // The server refuses the connections past the cap as it accepts them: wait for that (up to 20 s
  // on a loaded machine; sequencing only).
  std::string metrics = Metrics();
  for (int i = 0; i < 200 && metrics.find("ariadne_http_connections_refused_total{listener=\"otlp-"
                                          "http\"} 0\n") != std::string::npos;
       ++i) {
    std::this_thread::sleep_for(100ms);
    metrics = Metrics();
  }
  EXPECT_EQ(metrics.find("ariadne_http_connections_refused_total{listener=\"otlp-http\"} 0\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("ariadne_http_connections_refused_total{listener=\"otlp-http\"}"),
            std::string::npos);
  idle.clear();
}

TEST_F(LimitsTest, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  Start({"--idle-timeout", "1"});
  net::HttpClient idle("127.0.0.1", server_.ports().otlp_http, 30s);
  ASSERT_TRUE(idle.SendRaw("POST /v1/traces HTTP/1.1\r\nHost: x\r\n").ok());  // never finished
  auto response = idle.ReadResponse();  // the server closes: no response, not a client timeout
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.status().code(), StatusCode::kDeadlineExceeded)
      << response.status().ToString();
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::RunWithAriadneBinary(argc, argv, &ariadne::testing::g_ariadne);
}
