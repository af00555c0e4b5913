// The embedded store under disk trouble and on-disk damage, through the real `ariadne serve`
// (issue 10, items 2 and 7):
// - disk full: a small tmpfs fills up, the server answers 503 + Retry-After and the X-Ray daemon
//   port counts what it could not store, space is freed, later batches are acknowledged, kill -9,
//   restart: every acknowledged batch is readable exactly once;
// - retention (issue 11): a per-environment retention from --store-config removes old blocks
//   (logged, counted on /metrics) and keeps new ones; --max-disk bounds the block files;
// - a flipped byte in a WAL segment costs one batch, reported on /metrics;
// - a flipped byte in a block file: queries over its window still answer 200 from the other
//   blocks, the file is in quarantine/, /metrics counts it.
//
// Usage: store_server_test --ariadne=/path/to/build/bin/ariadne. The disk-full test mounts a
// tmpfs and needs root (CI and the dev machine run as root); elsewhere it is skipped.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"

namespace ariadne::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string g_ariadne;
constexpr int kSpans = 10;

// Trace id of batch `n`: one trace per batch.
std::string TraceId(int n) {
  std::string id(16, '\0');
  id[0] = static_cast<char>(0xD1);
  id[1] = static_cast<char>(n >> 16);
  id[2] = static_cast<char>(n >> 8);
  id[3] = static_cast<char>(n);
  id[15] = 0x02;
  return id;
}

std::string TraceHex(int n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : TraceId(n)) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

uint64_t NowNano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Batch `n` with spans starting at `now` (Unix ns).
std::string BatchBodyAt(int n, uint64_t now) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("store-test");
  auto* ss = rs->add_scope_spans();
  for (int i = 0; i < kSpans; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(TraceId(n));
    std::string span_id(8, '\0');
    span_id[0] = 0x33;
    span_id[7] = static_cast<char>(i + 1);
    span->set_span_id(span_id);
    span->set_name("op");
    span->set_start_time_unix_nano(now + static_cast<uint64_t>(i));
    span->set_end_time_unix_nano(now + static_cast<uint64_t>(i) + 1000);
    auto* attr = span->add_attributes();
    attr->set_key("request.id");
    attr->mutable_value()->set_string_value("req-" + std::to_string(n) + "-" + std::to_string(i) +
                                            std::string(200, 'r'));
  }
  return request.SerializeAsString();
}

std::string BatchBody(int n) { return BatchBodyAt(n, NowNano()); }

// Posts batch `n` (spans starting at `start`, Unix ns; 0: now); the HTTP status, or 0 when the
// server did not answer.
int Post(const ServerProcess& server, int n, std::string* retry_after = nullptr,
         uint64_t start = 0) {
  net::HttpClient http("127.0.0.1", server.ports().otlp_http, 10s);
  auto response = http.Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                               start == 0 ? BatchBody(n) : BatchBodyAt(n, start));
  if (!response.ok()) return 0;
  if (retry_after != nullptr) {
    auto header = response->Header("Retry-After");
    *retry_after = header ? std::string(*header) : "";
  }
  return response->status;
}

// Span count of batch `n`'s trace as the API answers it (0 when it is not found).
int StoredSpans(const ServerProcess& server, int n) {
  net::HttpClient api("127.0.0.1", server.ports().http, 10s);
  auto response = api.Request("GET", "/api/v1/traces/" + TraceHex(n));
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  if (!response.ok() || response->status != 200) return 0;
  return nlohmann::json::parse(response->body)["span_count"].get<int>();
}

// The value of Prometheus metric `name` from /metrics (-1 when absent).
int64_t Metric(const ServerProcess& server, const std::string& name) {
  net::HttpClient api("127.0.0.1", server.ports().http, 10s);
  auto response = api.Request("GET", "/metrics");
  EXPECT_TRUE(response.ok());
  if (!response.ok()) return -1;
  std::istringstream in(response->body);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  return -1;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x20));
}

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

// The block files of a blocks directory (not their .tsum trace-summary side files).
std::vector<std::string> BlockFilesIn(const std::string& dir) {
  std::vector<std::string> files;
  for (const std::string& f : FilesIn(dir))
    if (f.size() > 4 && f.compare(f.size() - 4, 4, ".blk") == 0) files.push_back(f);
  return files;
}

class StoreServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ariadne-store-server-XXXXXX";
    root_ = mkdtemp(pattern);
    data_ = root_ + "/data";
  }
  void TearDown() override {
    if (mounted_) ::umount2(root_.c_str(), MNT_DETACH);
    fs::remove_all(root_);
  }
  // Mounts a tmpfs of `megabytes` on the test directory; false when not permitted.
  bool MountSmallDisk(int megabytes) {
    std::string options = "size=" + std::to_string(megabytes) + "m";
    if (::mount("tmpfs", root_.c_str(), "tmpfs", 0, options.c_str()) != 0) return false;
    mounted_ = true;
    return true;
  }

  std::string root_;
  std::string data_;
  bool mounted_ = false;
};

// Sends one X-Ray segment document to the daemon port (UDP: no answer).
void SendXraySegment(const ServerProcess& server, int n) {
  const std::string datagram =
      "{\"format\": \"json\", \"version\": 1}\n{\"name\":\"udp-svc\",\"id\":\"70de5b6f19ff" +
      std::to_string(1000 + n) +
      "\",\"trace_id\":\"1-581cf771-a006649127e371903a2de979\","
      "\"start_time\":1478293361.271,\"end_time\":1478293361.449}";
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.ports().xray);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  (void)::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&addr),
                 sizeof(addr));
  ::close(fd);
}

// Regression (issue 10, item 2): after a disk-full write, batches acknowledged once space was back
// were lost at the next kill -9.
TEST_F(StoreServerTest, DiskFullThenFreedLosesNoAcknowledgedBatch) {
  if (!MountSmallDisk(8))
    GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << std::strerror(errno);
  ServerProcess server = ServerProcess::Start(g_ariadne, data_);
  std::vector<int> acknowledged;
  int n = 0;
  for (; n < 20; ++n)
    if (Post(server, n) == 200) acknowledged.push_back(n);
  // Fill the disk to the last byte with a file of our own.
  const std::string filler = root_ + "/filler";
  {
    std::ofstream out(filler, std::ios::binary);
    std::string chunk(64 * 1024, 'f');
    while (out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()))) {
    }
  }
  int refused = 0;
  std::string retry_after;
  for (int tries = 0; tries < 500 && refused < 5; ++tries, ++n) {
    int status = Post(server, n, &retry_after);
    if (status == 200) acknowledged.push_back(n);
    if (status >= 500) {
      ++refused;
      EXPECT_EQ(status, 503);
      EXPECT_FALSE(retry_after.empty()) << "a 503 for a full disk carries Retry-After";
    }
  }
  ASSERT_GE(refused, 5) << "the server never said the disk was full";
  // The X-Ray daemon port cannot answer: it counts what it could not store.
  const std::string udp_store_drops = "ariadne_xray_udp_dropped_total{reason=\"store_failed\"}";
  for (int i = 0; i < 200 && Metric(server, udp_store_drops) < 1; ++i) {
    SendXraySegment(server, i);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE(Metric(server, udp_store_drops), 1);
  fs::remove(filler);
  int after = 0;
  for (int tries = 0; tries < 200 && after < 20; ++tries, ++n) {
    if (Post(server, n) == 200) {
      acknowledged.push_back(n);
      ++after;
    }
  }
  ASSERT_EQ(after, 20) << "ingest did not resume after space came back";
  server.Kill();

  ServerProcess restarted = ServerProcess::Start(g_ariadne, data_);
  int missing = 0;
  for (int id : acknowledged) {
    int spans = StoredSpans(restarted, id);
    if (spans != kSpans) {
      ++missing;
      ADD_FAILURE() << "acknowledged batch " << id << " has " << spans << " spans, not " << kSpans;
    }
  }
  EXPECT_EQ(missing, 0) << "of " << acknowledged.size() << " acknowledged batches";
  EXPECT_EQ(restarted.Stop(SIGTERM), 0);
}

// Regression (issue 10, item 7): one flipped byte in the middle of a WAL segment dropped every
// record after it.
TEST_F(StoreServerTest, FlippedByteInTheWalCostsOneBatch) {
  constexpr int kBatches = 40;
  {
    ServerProcess server = ServerProcess::Start(g_ariadne, data_);
    for (int n = 0; n < kBatches; ++n) ASSERT_EQ(Post(server, n), 200);
    server.Kill();
  }
  std::vector<std::string> segments = FilesIn(data_ + "/wal");
  std::string biggest = *std::max_element(segments.begin(), segments.end(),
                                          [](const std::string& a, const std::string& b) {
                                            return fs::file_size(a) < fs::file_size(b);
                                          });
  FlipByte(biggest, fs::file_size(biggest) / 2);

  ServerProcess server = ServerProcess::Start(g_ariadne, data_);
  int lost = 0;
  for (int n = 0; n < kBatches; ++n) {
    int spans = StoredSpans(server, n);
    if (spans == 0)
      ++lost;
    else
      EXPECT_EQ(spans, kSpans) << "batch " << n;
  }
  EXPECT_EQ(lost, 1) << "only the damaged record is lost";
  EXPECT_EQ(Metric(server, "ariadne_store_wal_corrupt_records_total"), 1);
  EXPECT_EQ(Metric(server, "ariadne_store_wal_skipped_spans_total"), kSpans);
  EXPECT_GT(Metric(server, "ariadne_store_wal_skipped_bytes_total"), 0);
  EXPECT_FALSE(FilesIn(data_ + "/quarantine").empty()) << "a copy of the damaged segment is kept";
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// Regression (issue 10, item 7): one flipped byte in a block section made every query over that
// block's window answer 500.
TEST_F(StoreServerTest, DamagedBlockIsQuarantinedAndQueriesStillAnswer) {
  constexpr int kPerBlock = 10;
  for (int round = 0; round < 2; ++round) {  // SIGTERM seals the head: one block per round
    ServerProcess server = ServerProcess::Start(g_ariadne, data_);
    for (int n = round * kPerBlock; n < (round + 1) * kPerBlock; ++n)
      ASSERT_EQ(Post(server, n), 200);
    ASSERT_EQ(server.Stop(SIGTERM), 0);
  }
  std::vector<std::string> blocks = BlockFilesIn(data_ + "/blocks");
  ASSERT_EQ(blocks.size(), 2u);
  FlipByte(blocks[0], 40);  // inside the first column section

  ServerProcess server = ServerProcess::Start(g_ariadne, data_);
  net::HttpClient api("127.0.0.1", server.ports().http, 10s);
  // Queries read only the columns they use: this one reads the damaged trace-id section.
  auto response = api.Request("POST", "/api/v1/query", {{"Content-Type", "application/json"}},
                              R"({"time_range":3600,"calculations":[{"op":"COUNT"}],)"
                              R"("filters":[{"column":"trace.trace_id","op":"exists"}]})");
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(nlohmann::json::parse(response->body)["data"]["totals"]["COUNT"], kPerBlock * kSpans)
      << "the other block still answers";
  EXPECT_EQ(Metric(server, "ariadne_store_blocks_quarantined_total"), 1);
  EXPECT_TRUE(fs::exists(data_ + "/quarantine/" + fs::path(blocks[0]).filename().string()));
  for (int n = kPerBlock; n < 2 * kPerBlock; ++n) EXPECT_EQ(StoredSpans(server, n), kSpans);
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// The bytes --max-disk counts: the block files with their trace-summary side files.
uint64_t BlockBytes(const std::string& blocks_dir) {
  uint64_t total = 0;
  for (const std::string& f : BlockFilesIn(blocks_dir)) {
    total += fs::file_size(f);
    if (fs::exists(f + ".tsum")) total += fs::file_size(f + ".tsum");
  }
  return total;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Retention (issue 11): blocks older than the retention are removed (logged, counted), newer spans
// stay, and a kill -9 brings nothing removed back.
TEST_F(StoreServerTest, RetentionRemovesOldBlocksAndKeepsNewOnes) {
  // The environment's own retention (1d) overrides the global one (30d) from the same file.
  const std::string config = root_ + "/store.json";
  std::ofstream(config) << R"({"retention": "30d",
                              "environments": {"default": {"retention": "1d"}}})";
  const std::vector<std::string> flags = {"--store-config", config, "--max-disk", "0"};
  const uint64_t three_days_ago = NowNano() - 3ULL * 86400 * 1'000'000'000ULL;
  constexpr int kOld = 10;
  {
    ServerProcess server = ServerProcess::Start(g_ariadne, data_, flags);
    for (int n = 0; n < kOld; ++n) ASSERT_EQ(Post(server, n, nullptr, three_days_ago), 200);
    EXPECT_EQ(StoredSpans(server, 0), kSpans) << "unsealed spans are not removed";
    ASSERT_EQ(server.Stop(SIGTERM), 0);  // seals them into a block
  }
  ServerProcess server = ServerProcess::Start(g_ariadne, data_, flags);
  for (int i = 0; i < 400 && Metric(server, "ariadne_store_retention_blocks_removed_total") < 1;
       ++i)
    std::this_thread::sleep_for(25ms);  // the pass after open runs in the background
  EXPECT_EQ(Metric(server, "ariadne_store_retention_blocks_removed_total"), 1);
  EXPECT_EQ(Metric(server, "ariadne_store_retention_spans_removed_total"), kOld * kSpans);
  for (int n = 0; n < kOld; ++n) EXPECT_EQ(StoredSpans(server, n), 0) << "batch " << n;
  for (int n = 100; n < 110; ++n) ASSERT_EQ(Post(server, n), 200);
  for (int n = 100; n < 110; ++n) EXPECT_EQ(StoredSpans(server, n), kSpans);
  EXPECT_NE(ReadText(server.stderr_path()).find("retention removed block"), std::string::npos);
  server.Kill();
  ServerProcess restarted = ServerProcess::Start(g_ariadne, data_, flags);
  for (int n = 0; n < kOld; ++n) EXPECT_EQ(StoredSpans(restarted, n), 0) << "batch " << n;
  for (int n = 100; n < 110; ++n) EXPECT_EQ(StoredSpans(restarted, n), kSpans);
  EXPECT_NE(ReadText(restarted.stderr_path()).find("environment \"default\": retention 1d"),
            std::string::npos)
      << "the settings are stated at start";
  EXPECT_EQ(restarted.Stop(SIGTERM), 0);
}

// --max-disk bounds the block files: the oldest blocks go first, the newest stay readable.
TEST_F(StoreServerTest, MaxDiskBoundsTheBlockFilesOldestFirst) {
  constexpr int kPerRound = 40;
  auto round = [&](int r, const std::vector<std::string>& flags) {
    ServerProcess server = ServerProcess::Start(g_ariadne, data_, flags);
    for (int n = r * kPerRound; n < (r + 1) * kPerRound; ++n) ASSERT_EQ(Post(server, n), 200);
    ASSERT_EQ(server.Stop(SIGTERM), 0);  // seals one block
  };
  round(0, {"--max-disk", "0"});
  const uint64_t one_block = BlockBytes(data_ + "/blocks");
  ASSERT_GT(one_block, 0u);
  const uint64_t limit = one_block * 5 / 2;  // room for two blocks, not three
  const std::vector<std::string> flags = {"--max-disk", std::to_string(limit) + "B"};
  for (int r = 1; r < 5; ++r) round(r, flags);  // each open removes what is over the limit
  ServerProcess server = ServerProcess::Start(g_ariadne, data_, flags);
  for (int i = 0; i < 400 && Metric(server, "ariadne_store_block_bytes") > int64_t(limit); ++i)
    std::this_thread::sleep_for(25ms);  // the pass after open runs in the background
  EXPECT_LE(Metric(server, "ariadne_store_block_bytes"), static_cast<int64_t>(limit));
  EXPECT_GE(Metric(server, "ariadne_store_retention_blocks_removed_total"), 1);
  for (int n = 3 * kPerRound; n < 5 * kPerRound; ++n) EXPECT_EQ(StoredSpans(server, n), kSpans);
  for (int n = 0; n < 2 * kPerRound; ++n) EXPECT_EQ(StoredSpans(server, n), 0) << "batch " << n;
  EXPECT_NE(ReadText(server.stderr_path()).find("store over its max-disk"), std::string::npos);
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  EXPECT_LE(BlockBytes(data_ + "/blocks"), limit) << "the removed files are gone";
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
