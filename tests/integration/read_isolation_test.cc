// Issue 10, item 10: a heavy read must not starve anything else. Against a real `ariadne serve`
// holding many traces, slow reads (X-Ray GetTraceSummaries with a filter nothing matches, so every
// trace is scanned; and the same view on the query port) are started first; then an X-Ray
// sampling call, /healthz and an OTLP export are sent. Each of those must be answered while the
// heavy reads are still running — an order of completion, not a time. Also: 300 concurrent
// requests through the UI's X-Ray proxy keep the server's thread count bounded.
//
// Usage: integration_read_isolation_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
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

constexpr int kBatches = 60;
constexpr int kTracesPerBatch = 200;
constexpr int kSpansPerTrace = 10;  // 120,000 spans

// A filter nothing matches, decided per trace from its summary: many of these at once.
const char* const kXrayBody =
    R"J({"StartTime":0,"EndTime":4102444800,"FilterExpression":"service(\"nothing-matches\")"})J";
// A filter nothing matches and the trace summaries cannot decide (instance.id needs the spans), so
// every trace of the window is read whole: a read of seconds, with or without the summary index.
const char* const kHeavyXrayBody =
    R"J({"StartTime":0,"EndTime":4102444800,"FilterExpression":"instance.id = \"nothing-matches\""})J";
const char* const kHeavyView =
    "/api/v1/xray/"
    "trace-summaries?start=0&end=4102444800&filter=instance.id%20%3D%20%22nothing-matches%22";

class ReadIsolationTest : public ServerFixture {
 protected:
  ReadIsolationTest() : ServerFixture("read-isolation") {}

  void SetUp() override {
    ServerFixture::SetUp();
    // Room for the 300 proxy clients below (the query port's default cap is 256).
    server_ = ServerProcess::Start(g_ariadne, (dir_ / "data").string(),
                                   {"--http-max-connections", "1000"});
    net::HttpClient otlp("127.0.0.1", server_.ports().otlp_http, 60s);
    for (int b = 0; b < kBatches; ++b) {
      auto response =
          otlp.Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                       OtlpBatch(b, kTracesPerBatch, kSpansPerTrace));
      ASSERT_TRUE(response.ok()) << response.status().ToString();
      ASSERT_EQ(response->status, 200) << response->body;
    }
  }
};

// Sends one request from a new connection on its own thread; `done` counts completions.
std::thread Fire(uint16_t port, std::string method, std::string target, std::string body,
                 net::HeaderList headers, std::atomic<int>* done, std::atomic<int>* status) {
  return std::thread([=] {
    net::HttpClient client("127.0.0.1", port, 120s);
    auto response = client.Request(method, target, headers, body);
    status->store(response.ok() ? response->status : -1);
    done->fetch_add(1);
  });
}

TEST_F(ReadIsolationTest, SamplingHealthAndIngestAnswerWhileHeavyReadsRun) {
  // Heavy X-Ray reads on the X-Ray port and heavy views on the query port, more than the read
  // workers run at once, so the last of them finish well after the first (each reads every trace
  // of 120,000 spans whole).
  constexpr int kHeavyPerPort = 2;
  constexpr int kHeavy = 2 * kHeavyPerPort;
  std::atomic<int> heavy_done{0};
  std::vector<std::atomic<int>> heavy_status(kHeavy);
  std::vector<std::thread> heavy;
  for (int i = 0; i < kHeavyPerPort; ++i) {
    heavy.push_back(Fire(server_.ports().xray, "POST", "/TraceSummaries", kHeavyXrayBody,
                         {{"Content-Type", "application/json"}}, &heavy_done, &heavy_status[i]));
    heavy.push_back(Fire(server_.ports().http, "GET", kHeavyView, "", {}, &heavy_done,
                         &heavy_status[kHeavyPerPort + i]));
  }
  // Let the server receive the heavy requests first (sequencing only; nothing is timed).
  std::this_thread::sleep_for(100ms);

  net::HttpClient xray("127.0.0.1", server_.ports().xray, 120s);
  auto sampling = xray.Request("POST", "/SamplingTargets", {{"Content-Type", "application/json"}},
                               R"({"SamplingStatisticsDocuments":[]})");
  const int heavy_done_at_sampling = heavy_done.load();
  net::HttpClient api("127.0.0.1", server_.ports().http, 120s);
  auto health = api.Request("GET", "/healthz");
  const int heavy_done_at_health = heavy_done.load();
  net::HttpClient otlp("127.0.0.1", server_.ports().otlp_http, 120s);
  auto ingest = otlp.Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                             OtlpBatch(999, 10, 3));
  const int heavy_done_at_ingest = heavy_done.load();

  for (std::thread& t : heavy) t.join();
  std::cout << "heavy reads done when the light calls were answered: " << heavy_done_at_sampling
            << ", " << heavy_done_at_health << ", " << heavy_done_at_ingest << " of " << kHeavy
            << "\n";
  ASSERT_TRUE(sampling.ok()) << sampling.status().ToString();
  EXPECT_EQ(sampling->status, 200) << sampling->body;
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200);
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  EXPECT_EQ(ingest->status, 200);
  for (auto& status : heavy_status) EXPECT_EQ(status.load(), 200);
  // Some heavy reads may finish first on a fast run; what must not happen is that a light call
  // waits until every heavy read is done, as it did when reads ran on the listeners' I/O threads.
  EXPECT_LT(heavy_done_at_sampling, kHeavy) << "the sampling call waited for the heavy reads";
  EXPECT_LT(heavy_done_at_health, kHeavy) << "/healthz waited for the heavy reads";
  EXPECT_LT(heavy_done_at_ingest, kHeavy) << "OTLP ingest waited for the heavy reads";
}

TEST_F(ReadIsolationTest, ManyProxyRequestsDoNotStartAThreadEach) {
  const long threads_before = ProcStatus(server_.pid(), "Threads");
  ASSERT_GT(threads_before, 0);
  constexpr int kClients = 300;
  std::vector<std::unique_ptr<net::HttpClient>> clients;
  const std::string request =
      std::string("POST /api/v1/xray/TraceSummaries HTTP/1.1\r\n") +
      "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(std::strlen(kXrayBody)) + "\r\n\r\n" + kXrayBody;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<net::HttpClient>("127.0.0.1", server_.ports().http, 300s));
    ASSERT_TRUE(clients.back()->SendRaw(request).ok());
  }
  // While the proxied reads are queued or running (sequencing only).
  std::this_thread::sleep_for(500ms);
  const long threads_during = ProcStatus(server_.pid(), "Threads");
  int answered = 0, throttled = 0;
  for (auto& client : clients) {
    auto response = client->ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    if (response->status == 200) ++answered;
    if (response->status == 429 || response->status == 503) ++throttled;
  }
  EXPECT_EQ(answered + throttled, kClients);
  EXPECT_GT(answered, 0);
  // A thread per request would put this near 300.
  EXPECT_LT(threads_during, threads_before + 16)
      << "threads before: " << threads_before << ", during: " << threads_during;
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::RunWithAriadneBinary(argc, argv, &ariadne::testing::g_ariadne);
}
