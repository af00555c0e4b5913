// Crash safety of `ariadne serve` as a real process: concurrent clients post protobuf batches,
// the server is killed with SIGKILL mid-stream, restarted on the same data directory, and every
// batch that was answered 200 must be fully readable through the API. Also: SIGTERM exits 0.
//
// Usage: integration_crash_test --ariadne=/path/to/build/bin/ariadne
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"
#include "tests/integration/availability_util.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;

using namespace std::chrono_literals;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

std::string TraceIdBytes(int client, int seq) {
  std::string id(16, '\0');
  id[0] = static_cast<char>(0xC0);
  id[1] = static_cast<char>(client);
  id[2] = static_cast<char>(seq >> 16);
  id[3] = static_cast<char>(seq >> 8);
  id[4] = static_cast<char>(seq);
  id[15] = 0x01;
  return id;
}

constexpr int kSpansPerBatch = 20;

std::string Batch(int client, int seq) {
  ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("crash-client-" + std::to_string(client));
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("crash");
  uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  for (int i = 0; i < kSpansPerBatch; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(TraceIdBytes(client, seq));
    std::string span_id(8, '\0');
    span_id[0] = 0x5A;
    span_id[7] = static_cast<char>(i + 1);
    span->set_span_id(span_id);
    if (i > 0) {
      std::string parent = span_id;
      parent[7] = 1;
      span->set_parent_span_id(parent);
    }
    span->set_name("op-" + std::to_string(i));
    span->set_start_time_unix_nano(now + i);
    span->set_end_time_unix_nano(now + i + 1000);
    auto* attr = span->add_attributes();
    attr->set_key("payload");
    attr->mutable_value()->set_string_value(std::string(64, 'p'));
  }
  return request.SerializeAsString();
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ariadne-crash-test-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CrashTest, EveryAcknowledgedBatchSurvivesKillDashNine) {
  ServerProcess server = ServerProcess::Start(g_ariadne, dir_);
  constexpr int kClients = 4;
  std::mutex mu;
  std::vector<std::pair<int, int>> acknowledged;  // (client, seq)
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      net::HttpClient http("127.0.0.1", server.ports().otlp_http, 5s);
      for (int seq = 0; !stop.load(); ++seq) {
        auto response = http.Request(
            "POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}}, Batch(client, seq));
        if (!response.ok()) break;  // the server is gone
        if (response->status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.emplace_back(client, seq);
        }
      }
    });
  }
  // Let the clients get going, then pull the plug while they are mid-stream.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    std::this_thread::sleep_for(20ms);
    std::lock_guard<std::mutex> lock(mu);
    if (acknowledged.size() >= 200 || std::chrono::steady_clock::now() > deadline) break;
  }
  EXPECT_EQ(server.Stop(SIGKILL), 128 + SIGKILL);
  stop = true;
  for (auto& thread : clients) thread.join();
  ASSERT_GT(acknowledged.size(), 50u) << "too few batches were acknowledged to test anything";

  ServerProcess restarted = ServerProcess::Start(g_ariadne, dir_);
  net::HttpClient api("127.0.0.1", restarted.ports().http, 10s);
  size_t missing = 0;
  for (const auto& [client, seq] : acknowledged) {
    std::string id = HexOf(TraceIdBytes(client, seq));
    auto response = api.Request("GET", "/api/v1/traces/" + id);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    if (response->status != 200) {
      ++missing;
      ADD_FAILURE() << "acknowledged trace " << id << " is gone: " << response->status;
      continue;
    }
    auto trace = nlohmann::json::parse(response->body);
    EXPECT_EQ(trace["span_count"], kSpansPerBatch) << id;
    EXPECT_EQ(trace["services"][0], "crash-client-" + std::to_string(client));
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged batches";
  EXPECT_EQ(restarted.Stop(SIGTERM), 0);
}

TEST_F(CrashTest, SigtermFlushesAndExitsZero) {
  ServerProcess server = ServerProcess::Start(g_ariadne, dir_);
  net::HttpClient http("127.0.0.1", server.ports().otlp_http);
  auto response =
      http.Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}}, Batch(9, 1));
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->status, 200);
  EXPECT_EQ(server.Stop(SIGTERM), 0);

  ServerProcess restarted = ServerProcess::Start(g_ariadne, dir_);
  net::HttpClient api("127.0.0.1", restarted.ports().http);
  auto trace = api.Request("GET", "/api/v1/traces/" + HexOf(TraceIdBytes(9, 1)));
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace->status, 200);
  EXPECT_EQ(restarted.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
