// Issue 10, item 11: overload sheds. A real `ariadne serve` with a small --max-inflight-bytes is
// pushed by many concurrent OTLP clients: some requests are refused at once with a retryable
// status and Retry-After, every request answered 200 is readable afterwards, and after the burst
// resident memory holds no more than what the memory budget accounts for (the freed heap is
// returned).
//
// Usage: integration_overload_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "tests/common/server_process.h"
#include "tests/integration/availability_util.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using namespace std::chrono_literals;

TEST(OverloadTest, InflightLimitShedsWithRetryAfterAndAcceptedSpansAreReadable) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ariadne-overload-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ServerProcess server =
      ServerProcess::Start(g_ariadne, (dir / "data").string(), {"--max-inflight-bytes", "4000000"});
  constexpr int kClients = 16;
  constexpr int kBatchesPerClient = 12;
  constexpr int kTraces = 300, kSpansPerTrace = 5;  // 1,500 spans, ~1 MB decoded per batch
  std::mutex mu;
  std::vector<uint32_t> accepted_seeds;
  std::atomic<int> shed{0}, shed_without_retry_after{0}, other{0};
  std::atomic<bool> burst_over{false};
  std::atomic<long> peak_rss_kb{0};
  const long baseline_kb = ProcStatus(server.pid(), "VmRSS");
  std::thread monitor([&] {
    while (!burst_over.load()) {
      long rss = ProcStatus(server.pid(), "VmRSS");
      long peak = peak_rss_kb.load();
      if (rss > peak) peak_rss_kb.store(rss);
      std::this_thread::sleep_for(20ms);
    }
  });
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      net::HttpClient otlp("127.0.0.1", server.ports().otlp_http, 120s);
      for (int b = 0; b < kBatchesPerClient; ++b) {
        const uint32_t seed = static_cast<uint32_t>(c * 1000 + b);
        auto response =
            otlp.Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                         OtlpBatch(seed, kTraces, kSpansPerTrace));
        if (!response.ok()) {
          ++other;
          continue;
        }
        if (response->status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          accepted_seeds.push_back(seed);
        } else if (response->status == 503 || response->status == 429) {
          ++shed;
          if (!response->Header("Retry-After")) ++shed_without_retry_after;
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  burst_over = true;
  monitor.join();

  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(shed.load(), 0) << "nothing was shed";
  EXPECT_EQ(shed_without_retry_after.load(), 0);
  ASSERT_FALSE(accepted_seeds.empty());
  // Memory given back after the burst. The process keeps, by design, what its memory budget
  // accounts for (the head holding the accepted spans, the trace summaries, the WAL buffers);
  // what the burst used besides (request bodies, decoded batches, refused requests) must be
  // returned: once the trimmer has run, RSS above the idle start stays within what the budget
  // accounts for plus a fixed allowance for allocator slack and thread stacks. Measured before
  // the read-back below, whose decoded columns stay in the column cache by design.
  net::HttpClient api("127.0.0.1", server.ports().http, 60s);
  auto metrics = [&]() {
    std::map<std::string, double> out;
    auto r = api.Request("GET", "/metrics");
    if (!r.ok() || r->status != 200) return out;
    std::istringstream in(r->body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const size_t space = line.rfind(' ');
      if (space == std::string::npos) continue;
      out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return out;
  };
  // The trimmer checks once a second and trims on the quiet periods after a burst and after each
  // seal the burst caused (those finish later, the more so on a loaded machine): poll, for at most
  // 15 s, until what RSS holds beyond the budget's figures is within the allowance.
  // Measured on this workload: 14-27 MiB unaccounted (heap fragmented around the resident trace
  // summaries); 48-50 MiB when the trimmer does not run.
  constexpr long kAllowanceKb = 32 * 1024;
  std::map<std::string, double> after;
  long after_kb = 0, unaccounted_kb = 0;
  double accounted_bytes = 0;
  for (int i = 0; i < 150; ++i) {
    if (i > 0) std::this_thread::sleep_for(100ms);
    after = metrics();
    accounted_bytes = after["ariadne_store_wal_buffer_bytes"];
    for (const auto& [name, value] : after) {
      if (name.rfind("ariadne_memory_share_used_bytes{", 0) == 0) accounted_bytes += value;
    }
    after_kb = ProcStatus(server.pid(), "VmRSS");
    unaccounted_kb = after_kb - baseline_kb - static_cast<long>(accounted_bytes / 1024);
    if (after["ariadne_memory_trims_total"] >= 1 && unaccounted_kb < kAllowanceKb) break;
  }
  EXPECT_GE(after["ariadne_memory_trims_total"], 1) << "the trimmer never ran after the burst";
  EXPECT_LT(unaccounted_kb, kAllowanceKb)
      << "RSS idle " << baseline_kb << " kB, peak " << peak_rss_kb.load() << " kB, after the burst "
      << after_kb << " kB of which the budget accounts for " << accounted_bytes / 1024 << " kB";
  std::cerr << "RSS idle " << baseline_kb << " kB, peak " << peak_rss_kb.load()
            << " kB, after the burst " << after_kb << " kB, accounted "
            << static_cast<long>(accounted_bytes / 1024) << " kB\n";
  for (uint32_t seed : accepted_seeds) {
    for (int t : {0, kTraces - 1}) {
      auto trace = api.Request("GET", "/api/v1/traces/" + HexOf(OtlpTraceId(seed, t)));
      ASSERT_TRUE(trace.ok()) << trace.status().ToString();
      ASSERT_EQ(trace->status, 200) << "acknowledged batch " << seed << " trace " << t;
    }
  }
  if (HasFailure()) {
    std::ifstream log(server.stderr_path());
    std::cerr << "server stderr:\n" << log.rdbuf() << "\n";
  }
  server.Stop(SIGTERM);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::RunWithAriadneBinary(argc, argv, &ariadne::testing::g_ariadne);
}
