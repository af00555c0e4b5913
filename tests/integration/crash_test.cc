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

namespace ariadne::testing {
namespace {

std::string g_ariadne;

using namespace std::chrono_literals;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

struct ServerProcess {
  pid_t pid = -1;
  uint16_t otlp_port = 0;
  uint16_t http_port = 0;
};

uint16_t PortOf(const std::string& address) {
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

// Starts `ariadne serve` on free ports and waits for its two `listening` lines.
ServerProcess StartServer(const std::string& data_dir) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execl(g_ariadne.c_str(), g_ariadne.c_str(), "serve", "--data-dir", data_dir.c_str(),
          "--otlp-http", "0", "--http", "0", "--xray", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipe_fds[1]);
  ServerProcess server;
  server.pid = pid;
  FILE* out = fdopen(pipe_fds[0], "r");
  char line[512];
  while ((server.otlp_port == 0 || server.http_port == 0) && fgets(line, sizeof(line), out)) {
    std::string text(line);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (text.rfind("listening otlp-http ", 0) == 0) server.otlp_port = PortOf(text);
    if (text.rfind("listening http ", 0) == 0) server.http_port = PortOf(text);
  }
  fclose(out);  // the server's later writes to stdout go nowhere; it prints nothing more there
  if (server.otlp_port == 0 || server.http_port == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    throw std::runtime_error("ariadne serve did not print its listening lines");
  }
  return server;
}

int StopServer(const ServerProcess& server, int signal_number) {
  kill(server.pid, signal_number);
  int status = 0;
  waitpid(server.pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

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

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
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
  ServerProcess server = StartServer(dir_);
  constexpr int kClients = 4;
  std::mutex mu;
  std::vector<std::pair<int, int>> acknowledged;  // (client, seq)
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      net::HttpClient http("127.0.0.1", server.otlp_port, 5s);
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
  EXPECT_EQ(StopServer(server, SIGKILL), 128 + SIGKILL);
  stop = true;
  for (auto& thread : clients) thread.join();
  ASSERT_GT(acknowledged.size(), 50u) << "too few batches were acknowledged to test anything";

  ServerProcess restarted = StartServer(dir_);
  net::HttpClient api("127.0.0.1", restarted.http_port, 10s);
  size_t missing = 0;
  for (const auto& [client, seq] : acknowledged) {
    std::string id = Hex(TraceIdBytes(client, seq));
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
  EXPECT_EQ(StopServer(restarted, SIGTERM), 0);
}

TEST_F(CrashTest, SigtermFlushesAndExitsZero) {
  ServerProcess server = StartServer(dir_);
  net::HttpClient http("127.0.0.1", server.otlp_port);
  auto response =
      http.Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}}, Batch(9, 1));
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->status, 200);
  EXPECT_EQ(StopServer(server, SIGTERM), 0);

  ServerProcess restarted = StartServer(dir_);
  net::HttpClient api("127.0.0.1", restarted.http_port);
  auto trace = api.Request("GET", "/api/v1/traces/" + Hex(TraceIdBytes(9, 1)));
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace->status, 200);
  EXPECT_EQ(StopServer(restarted, SIGTERM), 0);
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--ariadne=", 0) == 0) ariadne::testing::g_ariadne = arg.substr(10);
  }
  if (ariadne::testing::g_ariadne.empty()) {
    if (const char* env = getenv("ARIADNE_BIN")) ariadne::testing::g_ariadne = env;
  }
  if (ariadne::testing::g_ariadne.empty()) {
    std::fprintf(stderr, "pass --ariadne=/path/to/build/bin/ariadne\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}
