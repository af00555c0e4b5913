// The Jaeger API's reads run on a pool of their own, next to the analysis queries' pool, so a
// Grafana dashboard that keeps every Jaeger worker busy (and its queue full) cannot starve
// POST /api/v1/query. Wired as `ariadne serve` wires it (JaegerRoutes in front of ApiHandler, one
// HTTP server), over the real embedded store and real sockets; the store is wrapped so that the
// Jaeger read (ListServices, behind GET /api/services) waits at a gate the test opens, which makes
// "Jaeger is saturated" a state the test holds rather than a race it hopes to win.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/api_handler.h"
#include "api/jaeger_routes.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "pipeline/metrics.h"
#include "store/embedded/embedded_store.h"

namespace ariadne::testing {
namespace {

// The real store, with ListServices held at a gate until Open().
class GatedStore : public store::SpanStore {
 public:
  explicit GatedStore(store::SpanStore* inner) : inner_(inner) {}

  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Blocks until `n` ListServices calls are waiting at the gate (or have passed it).
  void WaitForWaiting(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return waiting_ >= n; });
  }

  Result<std::vector<store::ServiceSummary>> ListServices(std::string_view environment) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++waiting_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    return inner_->ListServices(environment);
  }

  void AppendAsync(std::string environment, model::SpanBatch batch, AppendCallback done) override {
    inner_->AppendAsync(std::move(environment), std::move(batch), std::move(done));
  }
  Result<store::TraceResult> GetTrace(const model::TraceId& id,
                                      std::string_view environment) override {
    return inner_->GetTrace(id, environment);
  }
  Status ForEachTrace(uint64_t start, uint64_t end, std::string_view environment,
                      const std::function<bool(const store::TraceResult&)>& visit) override {
    return inner_->ForEachTrace(start, end, environment, visit);
  }
  Result<query::QueryResult> RunQuery(const query::QuerySpec& spec,
                                      const query::ExecContext& context) override {
    return inner_->RunQuery(spec, context);
  }
  Result<std::vector<store::TraceSummary>> SearchTraces(
      const store::TraceSearchRequest& request, const query::ExecContext& context) override {
    return inner_->SearchTraces(request, context);
  }
  Result<query::BubbleUpCounts> ScanBubbleUp(const query::BubbleUpRequest& request,
                                             const query::ExecContext& context) override {
    return inner_->ScanBubbleUp(request, context);
  }
  Result<std::vector<store::ColumnInfo>> ListColumns(std::string_view environment, uint64_t start,
                                                     uint64_t end) override {
    return inner_->ListColumns(environment, start, end);
  }
  Result<store::ServiceGraph> GetServiceGraph(std::string_view environment, uint64_t start,
                                              uint64_t end) override {
    return inner_->GetServiceGraph(environment, start, end);
  }
  store::StoreAdmin* Admin() override { return inner_->Admin(); }
  Status Close() override { return inner_->Close(); }

 private:
  store::SpanStore* inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

class JaegerReadPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ariadne-jaeger-pool-XXXXXX";
    dir_ = mkdtemp(pattern);
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = dir_;
    auto opened = store::embedded::OpenEmbeddedStore(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    real_ = std::move(opened).value();
    gated_ = std::make_unique<GatedStore>(real_.get());
    // One worker and one queue place on each side, as `serve --query-concurrency 1
    // --query-queue 1` gives both pools.
    api::QueryRoutesOptions query_options;
    query_options.concurrency = 1;
    query_options.max_queued = 1;
    api_ = std::make_unique<api::ApiHandler>(gated_.get(), &metrics_, query_options);
    api::JaegerRoutesOptions jaeger_options;
    jaeger_options.threads = 1;
    jaeger_options.max_queued = 1;
    jaeger_ = std::make_unique<api::JaegerRoutes>(gated_.get(), jaeger_options);
    auto server = net::HttpServer::Start("127.0.0.1", 0, jaeger_->Wrap(api_->AsHandler()));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }
  void TearDown() override {
    gated_->Open();  // whatever still waits may finish
    if (server_) server_->Stop();
    jaeger_.reset();
    api_.reset();
    (void)real_->Close();
    std::filesystem::remove_all(dir_);
  }

  net::ClientResponse Call(const std::string& method, const std::string& target,
                           const std::string& body = "") {
    net::HttpClient client("127.0.0.1", server_->bound_port(), std::chrono::seconds(60));
    auto response = client.Request(method, target, {{"Content-Type", "application/json"}}, body);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? std::move(response).value() : net::ClientResponse{};
  }

  std::string dir_;
  pipeline::IngestMetrics metrics_;
  std::unique_ptr<store::SpanStore> real_;
  std::unique_ptr<GatedStore> gated_;
  std::unique_ptr<api::ApiHandler> api_;
  std::unique_ptr<api::JaegerRoutes> jaeger_;
  std::unique_ptr<net::HttpServer> server_;
};

TEST_F(JaegerReadPoolTest, QueriesAnswerWhileJaegerReadsSaturateTheirPool) {
  // The Jaeger worker is busy (held at the gate) and its queue place is taken.
  auto running = std::async(std::launch::async, [&] { return Call("GET", "/api/services"); });
  gated_->WaitForWaiting(1);
  // Five more Jaeger reads at once: one takes the queue place, the other four are turned away at
  // once, in Jaeger's error envelope. Which one waits is the scheduler's choice, so the test waits
  // for four answers and checks them.
  constexpr int kMore = 5;
  std::vector<std::future<net::ClientResponse>> more;
  for (int i = 0; i < kMore; ++i) {
    more.push_back(std::async(std::launch::async, [&] { return Call("GET", "/api/services"); }));
  }
  std::vector<bool> answered(kMore, false);
  int refused = 0;
  while (refused < kMore - 1) {
    for (int i = 0; i < kMore; ++i) {
      if (answered[i] ||
          more[i].wait_for(std::chrono::milliseconds(10)) != std::future_status::ready) {
        continue;
      }
      answered[i] = true;
      net::ClientResponse busy = more[i].get();
      ASSERT_EQ(busy.status, 503) << "a Jaeger read passed the closed gate: " << busy.body;
      EXPECT_NE(busy.body.find("too many reads are running"), std::string::npos) << busy.body;
      EXPECT_EQ(busy.Header("Retry-After").value_or(""), "1");
      ++refused;
    }
  }

  // Meanwhile the analysis queries have their own worker: they answer, several in a row.
  for (int i = 0; i < 3; ++i) {
    net::ClientResponse query =
        Call("POST", "/api/v1/query", R"({"time_range":3600,"calculations":[{"op":"COUNT"}]})");
    EXPECT_EQ(query.status, 200) << query.body;
    EXPECT_NE(query.body.find("\"results\""), std::string::npos) << query.body;
  }
  EXPECT_EQ(running.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "the Jaeger read finished before the gate opened";

  // Open the gate: the held and the queued Jaeger reads are answered.
  gated_->Open();
  EXPECT_EQ(running.get().status, 200);
  for (int i = 0; i < kMore; ++i) {
    if (!answered[i]) EXPECT_EQ(more[i].get().status, 200) << "the queued Jaeger read";
  }
}

}  // namespace
}  // namespace ariadne::testing
