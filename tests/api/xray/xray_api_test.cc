// The X-Ray API handler and the UDP listener over the real pipeline and embedded store: pagination,
// UnprocessedTraceSegments, in-progress replacement, sampling-target shapes, error forms, and
// datagrams up to 64 KiB next to malformed ones.
#include "api/xray/xray_api.h"

#include <utility>  // before Asio

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "receivers/xray/daemon_udp.h"
#include "store/embedded/embedded_store.h"

namespace ariadne::api::xray {
namespace {

using receivers::xray::UdpDrop;
using receivers::xray::XrayUdpCounters;
using receivers::xray::XrayUdpListener;
using receivers::xray::XrayUdpOptions;
using sampling::SamplingTargets;
using sampling::XrayConfigStore;

using json = nlohmann::json;

class XrayApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("xray-api-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = (dir_ / "data").string();
    store_ = std::move(store::embedded::OpenEmbeddedStore(options)).value();
    pipeline_ = std::make_unique<pipeline::Pipeline>(store_.get(), &metrics_);
    config_ = std::move(XrayConfigStore::Open((dir_ / "xray-config.json").string())).value();
    sampling_ = std::make_unique<SamplingTargets>();
    XrayApiOptions api_options;
    api_options.trace_summaries_page = 100;
    handler_ = std::make_unique<XrayApiHandler>(pipeline_.get(), store_.get(), config_.get(),
                                                sampling_.get(), api_options);
  }
  void TearDown() override {
    (void)store_->Close();
    std::filesystem::remove_all(dir_);
  }

  net::HttpResponse Call(const std::string& path, const std::string& body,
                         net::HeaderList headers = {{"User-Agent", "test"}},
                         const std::string& method = "POST") {
    net::HttpRequest request;
    request.method = method;
    request.target = request.path = path;
    request.headers = std::move(headers);
    request.body = std::make_shared<const std::string>(body);
    std::promise<net::HttpResponse> promise;
    handler_->Handle(std::move(request), [&promise](net::HttpResponse response) {
      promise.set_value(std::move(response));
    });
    return promise.get_future().get();
  }
  json CallJson(const std::string& path, const json& body) {
    net::HttpResponse response = Call(path, body.dump());
    EXPECT_EQ(response.status, 200) << path << ": " << response.body;
    return json::parse(response.body);
  }

  static std::string Doc(const std::string& trace, const std::string& id, double start,
                         const std::string& extra = "") {
    return R"({"name":"svc","id":")" + id + R"(","trace_id":")" + trace + R"(","start_time":)" +
           std::to_string(start) + R"(,"end_time":)" + std::to_string(start + 0.5) + extra + "}";
  }

  std::filesystem::path dir_;
  pipeline::IngestMetrics metrics_;
  std::unique_ptr<store::SpanStore> store_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<XrayConfigStore> config_;
  std::unique_ptr<SamplingTargets> sampling_;
  std::unique_ptr<XrayApiHandler> handler_;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The same id for the same n throughout the run (the epoch part is taken once, so a test that
// crosses a second boundary still names the same traces).
std::string TraceId(int n) {
  static const unsigned epoch = static_cast<unsigned>(Now());
  char buf[40];
  std::snprintf(buf, sizeof buf, "1-%08x-%024x", epoch, n);
  return buf;
}

TEST_F(XrayApiTest, PutTraceSegmentsReportsEachBadDocumentAndStoresTheGoodOnes) {
  double now = Now();
  json body = {{"TraceSegmentDocuments",
                {Doc(TraceId(1), "a000000000000001", now), "{bad json",
                 Doc(TraceId(2), "a000000000000002", 100.0),  // before 2000: a unit mix-up
                 R"({"name":"x","id":"zz","trace_id":")" + TraceId(3) +
                     R"(","start_time":1,"end_time":2})"}}};
  json out = CallJson("/TraceSegments", body);
  ASSERT_EQ(out["UnprocessedTraceSegments"].size(), 3u) << out.dump();
  EXPECT_EQ(out["UnprocessedTraceSegments"][0]["ErrorCode"], "InvalidJson");
  EXPECT_EQ(out["UnprocessedTraceSegments"][1]["ErrorCode"], "InvalidSegment");
  EXPECT_EQ(out["UnprocessedTraceSegments"][1]["Id"], "a000000000000002");
  EXPECT_EQ(out["UnprocessedTraceSegments"][2]["ErrorCode"], "InvalidId");
  json traces = CallJson("/Traces", {{"TraceIds", {TraceId(1), TraceId(2)}}});
  ASSERT_EQ(traces["Traces"].size(), 1u);
  EXPECT_EQ(traces["UnprocessedTraceIds"], json::array({TraceId(2)}));
}

TEST_F(XrayApiTest, TraceSummariesPaginateWithNextTokenUntilDone) {
  double now = Now();
  json docs = json::array();
  for (int i = 0; i < 250; ++i) {
    char id[17];
    std::snprintf(id, sizeof id, "b%015x", i + 1);
    docs.push_back(Doc(TraceId(1000 + i), id, now - 10 + i * 0.01));
    if (docs.size() == 50) {
      CallJson("/TraceSegments", {{"TraceSegmentDocuments", docs}});
      docs = json::array();
    }
  }
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    json request = {{"StartTime", now - 60}, {"EndTime", now + 60}};
    if (!token.empty()) request["NextToken"] = token;
    json page = CallJson("/TraceSummaries", request);
    for (const json& s : page["TraceSummaries"]) seen.insert(s["Id"].get<std::string>());
    std::string next = page.value("NextToken", "");
    EXPECT_NE(next, token) << "a repeated token would make the CLI abort";
    token = next;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 250u);
  net::HttpResponse bad = Call("/TraceSummaries", R"({"StartTime":1,"EndTime":2,"NextToken":"x"})");
  EXPECT_EQ(bad.status, 400);
}

// Pages resume where the previous one stopped: the second page looks at the traces after the
// first page's last one, not at the first page's again (TracesProcessedCount), and a token cannot
// be replayed against another window.
TEST_F(XrayApiTest, NextTokenResumesAtThePositionWithoutRereadingEarlierPages) {
  double now = Now();
  json docs = json::array();
  for (int i = 0; i < 250; ++i) {
    char id[17];
    std::snprintf(id, sizeof id, "d%015x", i + 1);
    docs.push_back(Doc(TraceId(3000 + i), id, now - 10 + i * 0.01));
    if (docs.size() == 50) {
      CallJson("/TraceSegments", {{"TraceSegmentDocuments", docs}});
      docs = json::array();
    }
  }
  const json window = {{"StartTime", now - 60}, {"EndTime", now + 60}};
  json first = CallJson("/TraceSummaries", window);
  ASSERT_EQ(first["TraceSummaries"].size(), 100u);
  ASSERT_TRUE(first.contains("NextToken"));
  json request = window;
  request["NextToken"] = first["NextToken"];
  json second = CallJson("/TraceSummaries", request);
  ASSERT_EQ(second["TraceSummaries"].size(), 100u);
  // 100 returned + the one that showed there is more; re-reading from the start would be 201.
  EXPECT_EQ(second["TracesProcessedCount"], 101) << second["TracesProcessedCount"];
  // Window order: the second page starts right after the first page's last trace.
  EXPECT_EQ(first["TraceSummaries"][99]["Id"], TraceId(3099));
  EXPECT_EQ(second["TraceSummaries"][0]["Id"], TraceId(3100));
  request["NextToken"] = second["NextToken"];
  json third = CallJson("/TraceSummaries", request);
  EXPECT_EQ(third["TraceSummaries"].size(), 50u);
  EXPECT_EQ(third["TracesProcessedCount"], 50);
  EXPECT_FALSE(third.contains("NextToken"));
  // With a filter, the position is the last matching trace returned.
  json filtered = window;
  filtered["FilterExpression"] = "responsetime > 0.1";
  json all = CallJson("/TraceSummaries", filtered);
  ASSERT_EQ(all["TraceSummaries"].size(), 100u);
  filtered["NextToken"] = all["NextToken"];
  EXPECT_EQ(CallJson("/TraceSummaries", filtered)["TraceSummaries"][0]["Id"], TraceId(3100));
  json moved = {{"StartTime", now - 30}, {"EndTime", now + 60}, {"NextToken", first["NextToken"]}};
  net::HttpResponse mismatch = Call("/TraceSummaries", moved.dump());
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_NE(mismatch.body.find("another StartTime"), std::string::npos) << mismatch.body;
}

// A store whose trace scans wait at a gate until the test opens it: a read that is "heavy" for as
// long as the test wants, over the real embedded store.
class GatedStore : public store::SpanStore {
 public:
  explicit GatedStore(store::SpanStore* inner) : inner_(inner) {}
  void Open() {
    if (!open_.exchange(true)) gate_.set_value();
  }
  std::future<void> entered() { return entered_.get_future(); }

  void AppendAsync(std::string environment, model::SpanBatch batch, AppendCallback done) override {
    inner_->AppendAsync(std::move(environment), std::move(batch), std::move(done));
  }
  Result<store::TraceResult> GetTrace(const model::TraceId& id,
                                      std::string_view environment) override {
    return inner_->GetTrace(id, environment);
  }
  Status ForEachTrace(uint64_t start, uint64_t end, std::string_view environment,
                      const std::function<bool(const store::TraceResult&)>& visit) override {
    if (!signalled_.exchange(true)) entered_.set_value();
    opened_.wait();
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
  Result<std::vector<store::ColumnInfo>> ListColumns(std::string_view environment, uint64_t start,
                                                     uint64_t end) override {
    return inner_->ListColumns(environment, start, end);
  }
  Result<store::ServiceGraph> GetServiceGraph(std::string_view environment, uint64_t start,
                                              uint64_t end) override {
    return inner_->GetServiceGraph(environment, start, end);
  }
  Result<std::vector<store::ServiceSummary>> ListServices(std::string_view environment) override {
    return inner_->ListServices(environment);
  }
  store::StoreAdmin* Admin() override { return inner_->Admin(); }
  Status Close() override { return inner_->Close(); }

 private:
  store::SpanStore* inner_;
  std::promise<void> gate_;
  std::shared_future<void> opened_ = gate_.get_future().share();
  std::promise<void> entered_;
  std::atomic<bool> signalled_{false};
  std::atomic<bool> open_{false};
};

// The X-Ray listener with one I/O thread: while a GetServiceGraph is stuck in its trace scan,
// GetSamplingTargets and PutTraceSegments on the same listener are still answered (the read runs
// on the read pool). Were the read on the I/O thread, both calls would time out.
TEST_F(XrayApiTest, SamplingTargetsAndPutTraceSegmentsAnswerWhileAHeavyReadRuns) {
  GatedStore gated(store_.get());
  XrayApiHandler handler(pipeline_.get(), &gated, config_.get(), sampling_.get(), {});
  // Opens the gate however the test ends, before the handler joins its read pool.
  std::shared_ptr<void> open_on_exit(nullptr, [&gated](void*) { gated.Open(); });
  net::HttpServerOptions options;
  options.io_threads = 1;
  auto server = net::HttpServer::Start("127.0.0.1", 0, handler.AsHandler(), options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const uint16_t port = (*server)->bound_port();
  const double now = Now();
  const std::string window = json{{"StartTime", now - 60}, {"EndTime", now + 60}}.dump();
  std::future<void> entered = gated.entered();
  auto graph = std::async(std::launch::async, [&] {
    net::HttpClient client("127.0.0.1", port, std::chrono::seconds(120));
    return client.Request("POST", "/ServiceGraph", {{"Content-Type", "application/json"}}, window);
  });
  entered.wait();  // the read is inside its trace scan now
  net::HttpClient client("127.0.0.1", port, std::chrono::seconds(20));
  json stats = {{"SamplingStatisticsDocuments",
                 {{{"RuleName", "Default"},
                   {"ClientID", "0123456789abcdef01234567"},
                   {"Timestamp", now},
                   {"RequestCount", 10},
                   {"SampledCount", 1},
                   {"BorrowCount", 0}}}}};
  auto targets = client.Request("POST", "/SamplingTargets", {{"User-Agent", "test"}}, stats.dump());
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  EXPECT_EQ(targets->status, 200) << targets->body;
  EXPECT_EQ(json::parse(targets->body)["SamplingTargetDocuments"][0]["RuleName"], "Default");
  json put = {{"TraceSegmentDocuments", {Doc(TraceId(4000), "e000000000000001", now - 1)}}};
  auto stored = client.Request("POST", "/TraceSegments", {}, put.dump());
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->status, 200) << stored->body;
  EXPECT_EQ(json::parse(stored->body)["UnprocessedTraceSegments"].size(), 0u);
  gated.Open();
  auto answer = graph.get();
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->status, 200) << answer->body;
  // The segment stored while the read waited is in the graph it then built.
  EXPECT_NE(answer->body.find("\"svc\""), std::string::npos) << answer->body;
  (*server)->Stop();
}

TEST_F(XrayApiTest, CompleteDocumentReplacesItsInProgressVersion) {
  double now = Now();
  std::string trace = TraceId(7);
  std::string in_progress = R"({"name":"svc","id":"c000000000000001","trace_id":")" + trace +
                            R"(","start_time":)" + std::to_string(now) + R"(,"in_progress":true})";
  CallJson("/TraceSegments", {{"TraceSegmentDocuments", {in_progress}}});
  json summaries = CallJson("/TraceSummaries", {{"StartTime", now - 60}, {"EndTime", now + 60}});
  ASSERT_EQ(summaries["TraceSummaries"].size(), 1u);
  EXPECT_TRUE(summaries["TraceSummaries"][0]["IsPartial"].get<bool>());
  CallJson("/TraceSegments",
           {{"TraceSegmentDocuments", {Doc(trace, "c000000000000001", now, R"(,"fault":true)")}}});
  summaries = CallJson("/TraceSummaries", {{"StartTime", now - 60}, {"EndTime", now + 60}});
  ASSERT_EQ(summaries["TraceSummaries"].size(), 1u);
  EXPECT_FALSE(summaries["TraceSummaries"][0]["IsPartial"].get<bool>());
  EXPECT_TRUE(summaries["TraceSummaries"][0]["HasFault"].get<bool>());
  json traces = CallJson("/Traces", {{"TraceIds", {trace}}});
  ASSERT_EQ(traces["Traces"][0]["Segments"].size(), 1u);
  json doc = json::parse(traces["Traces"][0]["Segments"][0]["Document"].get<std::string>());
  EXPECT_FALSE(doc.contains("in_progress"));
  EXPECT_NEAR(doc["end_time"].get<double>() - doc["start_time"].get<double>(), 0.5, 1e-3);
}

TEST_F(XrayApiTest, IndependentSubsegmentsMergeIntoTheirSegmentWhicheverArrivesFirst) {
  double now = Now();
  for (bool subsegment_first : {true, false}) {
    std::string trace = TraceId(subsegment_first ? 21 : 22);
    std::string sub =
        R"({"type":"subsegment","name":"query","id":"e000000000000002","trace_id":")" + trace +
        R"(","parent_id":"e000000000000001","namespace":"remote","start_time":)" +
        std::to_string(now + 0.1) + R"(,"end_time":)" + std::to_string(now + 0.2) +
        R"(,"cause":"aaaaaaaaaaaaaaaa","error":true})";
    std::string nested =
        R"({"type":"subsegment","name":"inner","id":"e000000000000003","trace_id":")" + trace +
        R"(","parent_id":"e000000000000002","start_time":)" + std::to_string(now + 0.12) +
        R"(,"end_time":)" + std::to_string(now + 0.15) + "}";
    std::string segment = Doc(trace, "e000000000000001", now);
    std::vector<std::string> order = subsegment_first
                                         ? std::vector<std::string>{nested, sub, segment}
                                         : std::vector<std::string>{segment, sub, nested};
    for (const std::string& doc : order)
      CallJson("/TraceSegments", {{"TraceSegmentDocuments", {doc}}});
    json traces = CallJson("/Traces", {{"TraceIds", {trace}}});
    ASSERT_EQ(traces["Traces"].size(), 1u);
    json segments = traces["Traces"][0]["Segments"];
    // The real segment plus the inferred node for the remote call.
    ASSERT_EQ(segments.size(), 2u) << segments.dump();
    json doc = json::parse(segments[0]["Document"].get<std::string>());
    EXPECT_EQ(doc["name"], "svc");
    ASSERT_EQ(doc["subsegments"].size(), 1u) << doc.dump();
    EXPECT_EQ(doc["subsegments"][0]["name"], "query");
    EXPECT_EQ(doc["subsegments"][0]["cause"], "aaaaaaaaaaaaaaaa");
    EXPECT_EQ(doc["subsegments"][0]["subsegments"][0]["name"], "inner");
    json graph = CallJson("/TraceGraph", {{"TraceIds", {trace}}});
    ASSERT_EQ(graph["Services"].size(), 2u);
    EXPECT_EQ(graph["Services"][0]["Name"], "svc");
    EXPECT_EQ(graph["Services"][1]["Name"], "query");
    EXPECT_EQ(graph["Services"][0]["Edges"][0]["ReferenceId"], 1);
  }
}

TEST_F(XrayApiTest, SamplingTargetsShapesForEverySdk) {
  json request = {{"SamplingStatisticsDocuments",
                   {{{"RuleName", "Default"},
                     {"ClientID", "0123456789abcdef01234567"},
                     {"Timestamp", Now()},
                     {"RequestCount", 10},
                     {"SampledCount", 1},
                     {"BorrowCount", 1}},
                    {{"RuleName", "Gone"},
                     {"ClientID", "0123456789abcdef01234567"},
                     {"Timestamp", Now()},
                     {"RequestCount", 1},
                     {"SampledCount", 0},
                     {"BorrowCount", 0}}}}};
  json out = CallJson("/SamplingTargets", request);
  ASSERT_EQ(out["SamplingTargetDocuments"].size(), 1u);
  const json& target = out["SamplingTargetDocuments"][0];
  EXPECT_TRUE(target["FixedRate"].is_number());
  EXPECT_EQ(target["ReservoirQuota"], 1);
  EXPECT_TRUE(target["ReservoirQuotaTTL"].is_number()) << "botocore and Go clients get numbers";
  EXPECT_EQ(target["Interval"], 10);
  EXPECT_TRUE(out["LastRuleModification"].is_number());
  ASSERT_EQ(out["UnprocessedStatistics"].size(), 1u);
  EXPECT_EQ(out["UnprocessedStatistics"][0]["ErrorCode"], "400");

  // The Node SDK sends no User-Agent and reads the TTL through `new Date(x)`.
  net::HttpResponse node = Call("/SamplingTargets", request.dump(), {});
  json node_out = json::parse(node.body);
  ASSERT_TRUE(node_out["SamplingTargetDocuments"][0]["ReservoirQuotaTTL"].is_string());
  EXPECT_EQ(node_out["SamplingTargetDocuments"][0]["ReservoirQuotaTTL"].get<std::string>().size(),
            20u);  // 2026-11-25T22:00:00Z

  json summaries = CallJson("/SamplingStatisticSummaries", json::object());
  ASSERT_EQ(summaries["SamplingStatisticSummaries"].size(), 1u);
  EXPECT_EQ(summaries["SamplingStatisticSummaries"][0]["RequestCount"], 20);

  json many = {{"SamplingStatisticsDocuments", json::array()}};
  for (int i = 0; i < 26; ++i)
    many["SamplingStatisticsDocuments"].push_back(request["SamplingStatisticsDocuments"][0]);
  EXPECT_EQ(Call("/SamplingTargets", many.dump()).status, 400);
  EXPECT_EQ(CallJson("/GetSamplingRules",
                     json::object())["SamplingRuleRecords"][0]["SamplingRule"]["Attributes"],
            json::object());
  EXPECT_EQ(Call("/GetSamplingRules", "").status, 200) << "an empty body is {}";
}

TEST_F(XrayApiTest, ErrorsUseXrayForm) {
  net::HttpResponse unknown = Call("/Nope", "{}");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.Header("x-amzn-ErrorType"), "UnknownOperationException");
  net::HttpResponse get = Call("/Groups", "", {}, "GET");
  EXPECT_EQ(get.status, 404);
  net::HttpResponse bad_json = Call("/Groups", "{oops");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(json::parse(bad_json.body)["__type"], "InvalidRequestException");
  net::HttpResponse bad_type = Call("/CreateGroup", R"({"GroupName": 5})");
  EXPECT_EQ(bad_type.status, 400);
  EXPECT_NE(
      json::parse(bad_type.body)["message"].get<std::string>().find("GroupName must be a string"),
      std::string::npos);
  net::HttpResponse range = Call("/TraceSummaries", R"({"StartTime": 10, "EndTime": 5})");
  EXPECT_EQ(range.status, 400);
  net::HttpResponse update_missing =
      Call("/UpdateSamplingRule", R"({"SamplingRuleUpdate":{"RuleName":"Nope","FixedRate":0.5}})");
  EXPECT_EQ(update_missing.status, 400);
  EXPECT_EQ(update_missing.Header("x-amzn-ErrorType"), "InvalidRequestException");
}

TEST_F(XrayApiTest, UdpListenerStoresBigDatagramsAndCountsBadOnesWithoutLosingGoodOnes) {
  auto listener = XrayUdpListener::Start("127.0.0.1", 0, pipeline_.get());
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  boost::asio::io_context io;
  boost::asio::ip::udp::socket socket(io);
  socket.open(boost::asio::ip::udp::v4());
  boost::asio::ip::udp::endpoint target(boost::asio::ip::make_address("127.0.0.1"),
                                        (*listener)->bound_port());
  const std::string header = "{\"format\": \"json\", \"version\": 1}\n";
  double now = Now();
  std::string big_trace = TraceId(64);
  std::string filler(64 * 1024 - 400, 'x');
  std::string big = header + Doc(big_trace, "d000000000000001", now,
                                 R"(,"metadata":{"default":{"blob":")" + filler + R"("}})");
  ASSERT_LE(big.size(), 65507u);
  ASSERT_GT(big.size(), 64000u);
  std::vector<std::string> datagrams = {
      big,
      "no newline",
      "{\"format\":\"json\",\"version\":1}\n",
      "{\"format\":\"xml\",\"version\":1}\n{}",
      header + "{not json",
      header + R"({"name":"x"})",
      header + Doc(TraceId(65), "d000000000000002", now),
  };
  for (const std::string& d : datagrams) socket.send_to(boost::asio::buffer(d), target);
  const XrayUdpCounters& c = (*listener)->counters();
  for (int i = 0; i < 100 && c.documents_accepted.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(c.datagrams.load(), datagrams.size());
  EXPECT_EQ(c.documents_accepted.load(), 2u);
  EXPECT_EQ(c.dropped[static_cast<int>(UdpDrop::kMissingHeader)].load(), 2u);
  EXPECT_EQ(c.dropped[static_cast<int>(UdpDrop::kBadHeader)].load(), 1u);
  EXPECT_EQ(c.dropped[static_cast<int>(UdpDrop::kInvalidJson)].load(), 1u);
  EXPECT_EQ(c.dropped[static_cast<int>(UdpDrop::kInvalidDocument)].load(), 1u);
  // Accepted means decoded and handed to the pipeline; the store makes them readable once the
  // group commit is durable, a few milliseconds later.
  json traces;
  for (int i = 0; i < 100; ++i) {
    traces = CallJson("/Traces", {{"TraceIds", {big_trace, TraceId(65)}}});
    if (traces["Traces"].size() == 2u) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(traces["Traces"].size(), 2u);
  std::string metrics;
  (*listener)->AppendPrometheus(&metrics);
  EXPECT_NE(metrics.find("ariadne_xray_udp_dropped_total{reason=\"bad_header\"} 1"),
            std::string::npos);
  (*listener)->Stop();
}

}  // namespace
}  // namespace ariadne::api::xray
