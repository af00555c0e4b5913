#include "ariadne/sdk/xray_exporter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "ariadne/sdk/tracer.h"

namespace ariadne::sdk {
namespace {

// A real UDP socket standing in for the X-Ray daemon.
class UdpDaemon {
 public:
  UdpDaemon() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 8 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~UdpDaemon() { close(fd_); }
  uint16_t port() const { return port_; }

  // Datagrams received within `wait`, each split into header and parsed document.
  std::vector<std::pair<std::string, nlohmann::json>> Receive(int wait_ms = 300) {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    std::vector<char> buf(70000);
    pollfd pfd{fd_, POLLIN, 0};
    while (poll(&pfd, 1, wait_ms) > 0) {
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      std::string d(buf.data(), n);
      sizes.push_back(d.size());
      size_t nl = d.find('\n');
      out.emplace_back(d.substr(0, nl), nlohmann::json::parse(d.substr(nl + 1)));
    }
    return out;
  }
  std::vector<size_t> sizes;

 private:
  int fd_;
  uint16_t port_ = 0;
};

struct XRaySetup {
  UdpDaemon daemon;
  XRayUdpExporter* exporter;
  std::unique_ptr<TracerProvider> provider;
  explicit XRaySetup(size_t max_datagram = 65507) {
    TracerProviderOptions po;
    po.resource = Resource({OwnedAttribute("service.name", "backend-flask"),
                            OwnedAttribute("service.version", "1.0")});
    po.id_generator = IdGeneratorKind::kXRay;
    provider = std::make_unique<TracerProvider>(std::move(po));
    XRayExporterOptions o;
    o.address.udp_port = daemon.port();
    o.max_datagram_bytes = max_datagram;
    auto e = std::make_unique<XRayUdpExporter>(o);
    exporter = e.get();
    provider->AddSpanProcessor(std::make_unique<SimpleSpanProcessor>(std::move(e)));
  }
};

TEST(XRayExporterTest, ServerRootBecomesASegmentWithEmbeddedSubsegments) {
  XRaySetup s;
  Tracer& tracer = s.provider->GetTracer("t");
  SpanContext remote;
  remote.trace_id = *TraceId::FromXRay("1-5759e988-bd862e3fe1be46a994272793");
  remote.span_id = *SpanId::FromHex("53995c3f42cd8ad8");
  remote.trace_flags = kTraceFlagSampled;
  remote.is_remote = true;
  std::string root_id, custom_id, client_id;
  {
    const KeyValueArg attrs[] = {{"http.method", "GET"},
                                 {"http.scheme", "http"},
                                 {"http.host", "localhost:4567"},
                                 {"http.target", "/api/activities/home"},
                                 {"user_agent.original", "curl/8"},
                                 {"http.client_ip", "10.0.0.1"},
                                 {"aws.xray.segment_name", "backend-flask"},
                                 {"aws.xray.sampling_rule_name", "Cruddur"}};
    Span root =
        tracer.StartSpan("/api/activities/home",
                         {.kind = SpanKind::kServer, .parent = &remote, .attributes = attrs});
    root_id = root.context().span_id.ToHex();
    Scope scope = root.Activate();
    {
      Span custom = tracer.StartSpan("home-activities-mock-data");
      custom_id = custom.context().span_id.ToHex();
      custom.SetAttribute("app.now", "2026-01-01T00:00:00+00:00");
      custom.SetAttribute("app.result_length", 3);
      Scope inner = custom.Activate();
      const KeyValueArg client_attrs[] = {{"http.method", "GET"},
                                          {"http.url", "http://notif:4567/api/x"},
                                          {"net.peer.name", "notif"}};
      Span client =
          tracer.StartSpan("HTTP GET", {.kind = SpanKind::kClient, .attributes = client_attrs});
      client_id = client.context().span_id.ToHex();
      client.SetAttribute("http.status_code", 429);
    }
    root.SetAttribute("http.status_code", 503);
    root.RecordException("std::runtime_error", "db down");
  }
  auto docs = s.daemon.Receive();
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(docs[0].first),
            (nlohmann::json{{"format", "json"}, {"version", 1}}));
  const nlohmann::json& seg = docs[0].second;
  EXPECT_EQ(seg["name"], "backend-flask");
  EXPECT_EQ(seg["id"], root_id);
  EXPECT_EQ(seg["trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_EQ(seg["parent_id"], "53995c3f42cd8ad8");
  EXPECT_TRUE(seg["start_time"].is_number());
  EXPECT_GE(seg["end_time"].get<double>(), seg["start_time"].get<double>());
  EXPECT_GT(seg["start_time"].get<double>(), 1.7e9);
  EXPECT_EQ(seg["http"]["request"]["method"], "GET");
  EXPECT_EQ(seg["http"]["request"]["url"], "http://localhost:4567/api/activities/home");
  EXPECT_EQ(seg["http"]["request"]["user_agent"], "curl/8");
  EXPECT_EQ(seg["http"]["request"]["client_ip"], "10.0.0.1");
  EXPECT_EQ(seg["http"]["response"]["status"], 503);
  EXPECT_EQ(seg["fault"], true);
  EXPECT_FALSE(seg.contains("error"));
  EXPECT_EQ(seg["cause"]["exceptions"][0]["message"], "db down");
  EXPECT_EQ(seg["cause"]["exceptions"][0]["type"], "std::runtime_error");
  EXPECT_EQ(seg["aws"]["xray"]["sampling_rule_name"], "Cruddur");
  EXPECT_EQ(seg["service"]["version"], "1.0");
  ASSERT_EQ(seg["subsegments"].size(), 1u);
  const nlohmann::json& custom = seg["subsegments"][0];
  EXPECT_EQ(custom["name"], "home-activities-mock-data");
  EXPECT_EQ(custom["id"], custom_id);
  EXPECT_EQ(custom["annotations"]["app_now"], "2026-01-01T00:00:00+00:00");
  EXPECT_EQ(custom["annotations"]["app_result_length"], 3);
  EXPECT_FALSE(custom.contains("trace_id"));  // embedded
  ASSERT_EQ(custom["subsegments"].size(), 1u);
  const nlohmann::json& client = custom["subsegments"][0];
  EXPECT_EQ(client["name"], "notif");
  EXPECT_EQ(client["id"], client_id);
  EXPECT_EQ(client["namespace"], "remote");
  EXPECT_EQ(client["http"]["request"]["url"], "http://notif:4567/api/x");
  EXPECT_EQ(client["http"]["response"]["status"], 429);
  EXPECT_EQ(client["throttle"], true);
  EXPECT_EQ(client["error"], true);
}

TEST(XRayExporterTest, LargeTracesAreSplitIntoIndependentSubsegmentsThatFit) {
  XRaySetup s;
  Tracer& tracer = s.provider->GetTracer("t");
  std::set<std::string> ids;
  std::string root_id, trace_id;
  {
    Span root = tracer.StartSpan("big", {.kind = SpanKind::kServer});
    root_id = root.context().span_id.ToHex();
    trace_id = root.context().trace_id.ToXRay();
    Scope scope = root.Activate();
    for (int i = 0; i < 40; ++i) {
      Span mid = tracer.StartSpan("mid" + std::to_string(i));
      ids.insert(mid.context().span_id.ToHex());
      mid.SetAttribute("payload", std::string(2000, 'a' + i % 26));
      Scope inner = mid.Activate();
      for (int j = 0; j < 3; ++j) {
        Span leaf = tracer.StartSpan("leaf");
        ids.insert(leaf.context().span_id.ToHex());
        leaf.SetAttribute("payload", std::string(300, 'z'));
      }
    }
  }
  auto docs = s.daemon.Receive();
  ASSERT_GT(docs.size(), 1u);  // ~100 KB of annotations cannot travel in one datagram
  for (size_t n : s.daemon.sizes) EXPECT_LE(n, 65507u);
  // Every span arrives exactly once; independent subsegments carry type, trace_id, parent_id.
  std::multiset<std::string> seen;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& d) {
    seen.insert(d["id"].get<std::string>());
    if (d.contains("subsegments")) {
      for (const auto& c : d["subsegments"]) walk(c);
    }
  };
  int segments = 0;
  for (const auto& [header, doc] : docs) {
    if (doc.contains("type")) {
      EXPECT_EQ(doc["type"], "subsegment");
      EXPECT_EQ(doc["trace_id"], trace_id);
      EXPECT_TRUE(doc["parent_id"] == root_id || ids.count(doc["parent_id"].get<std::string>()));
    } else {
      ++segments;
      EXPECT_EQ(doc["id"], root_id);
    }
    walk(doc);
  }
  EXPECT_EQ(segments, 1);
  ids.insert(root_id);
  EXPECT_EQ(seen.size(), ids.size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), ids);
}

TEST(XRayExporterTest, ChildrenEndingAfterTheirRootGoOutIndependently) {
  XRaySetup s;
  Tracer& tracer = s.provider->GetTracer("t");
  Span root = tracer.StartSpan("root", {.kind = SpanKind::kServer});
  Span late = tracer.StartSpan("late", {.parent = &root.context()});
  const std::string root_id = root.context().span_id.ToHex();
  root.End();
  late.End();
  auto docs = s.daemon.Receive();
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_FALSE(docs[0].second.contains("subsegments"));
  EXPECT_EQ(docs[1].second["type"], "subsegment");
  EXPECT_EQ(docs[1].second["parent_id"], root_id);
  EXPECT_EQ(docs[1].second["name"], "late");
}

TEST(XRayExporterTest, DaemonAddressForms) {
  XRayDaemonAddress a;
  ASSERT_TRUE(ParseXRayDaemonAddress("xray-daemon:2000", a));
  EXPECT_EQ(a.udp_host, "xray-daemon");
  EXPECT_EQ(a.tcp_host, "xray-daemon");
  EXPECT_EQ(a.udp_port, 2000);
  ASSERT_TRUE(ParseXRayDaemonAddress("tcp:127.0.0.1:2001 udp:10.0.0.2:2002", a));
  EXPECT_EQ(a.tcp_port, 2001);
  EXPECT_EQ(a.udp_host, "10.0.0.2");
  EXPECT_EQ(a.udp_port, 2002);
  EXPECT_FALSE(ParseXRayDaemonAddress("nonsense", a));
  EXPECT_FALSE(ParseXRayDaemonAddress("host:99999", a));
}

}  // namespace
}  // namespace ariadne::sdk
