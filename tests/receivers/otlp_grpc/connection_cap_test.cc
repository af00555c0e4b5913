// The OTLP/gRPC listener's connection cap (`ariadne serve --otlp-grpc-max-connections N`) against
// the real server and real gRPC clients: with N connections open, one more is closed at once (the
// client's call fails UNAVAILABLE and nothing is stored), while the N open connections keep
// exporting; the refusal is counted on /metrics; once a connection closes, a new one is served. The
// same over TLS. Without the flag the default cap leaves ordinary use alone.
//
// Usage: otlp_grpc_connection_cap_test --ariadne=/path/to/build/bin/ariadne
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "tests/common/server_fixture.h"
#include "tests/common/server_test_main.h"
#include "tests/common/test_certs.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
using opentelemetry::proto::collector::trace::v1::TraceService;

uint64_t NowNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// One span of service "cap-svc" in trace `trace` (16 bytes: the pid, then `trace`).
ExportTraceServiceRequest OneSpan(int trace) {
  std::string trace_id(16, '\0');
  const uint32_t pid = static_cast<uint32_t>(::getpid());
  std::memcpy(trace_id.data(), &pid, sizeof pid);
  trace_id[14] = 0x6c;
  trace_id[15] = static_cast<char>(trace);
  ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  auto* service = rs->mutable_resource()->add_attributes();
  service->set_key("service.name");
  service->mutable_value()->set_string_value("cap-svc");
  auto* span = rs->add_scope_spans()->add_spans();
  span->set_trace_id(trace_id);
  span->set_span_id(std::string(7, '\x22') + '\x01');
  span->set_name("capped");
  span->set_start_time_unix_nano(NowNanos() - 2'000'000);
  span->set_end_time_unix_nano(NowNanos());
  return request;
}

std::string TraceHex(int trace) {
  const std::string id = OneSpan(trace).resource_spans(0).scope_spans(0).spans(0).trace_id();
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : id) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// A channel with its own connection: no subchannel sharing with the test's other channels.
std::shared_ptr<grpc::Channel> OwnChannel(uint16_t port, const std::string& ca_pem = "") {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!ca_pem.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_pem;
    credentials = grpc::SslCredentials(ssl);
    args.SetSslTargetNameOverride("localhost");
  }
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), credentials, args);
}

grpc::Status Export(const std::shared_ptr<grpc::Channel>& channel, int trace) {
  auto stub = TraceService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  ExportTraceServiceResponse response;
  return stub->Export(&context, OneSpan(trace), &response);
}

class GrpcConnectionCapTest : public ServerFixture {
 protected:
  GrpcConnectionCapTest() : ServerFixture("grpc-cap") {}

  net::ClientResponse Get(const std::string& target) {
    net::HttpClient client("127.0.0.1", server_.ports().http);
    auto response = client.Request("GET", target);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? std::move(response).value() : net::ClientResponse{};
  }

  // The value of a /metrics line for the otlp-grpc listener ("" when absent).
  std::string Metric(const std::string& name) {
    const std::string text = Get("/metrics").body;
    const std::string key = name + "{listener=\"otlp-grpc\"} ";
    const size_t at = text.find(key);
    if (at == std::string::npos) return "";
    return text.substr(at + key.size(), text.find('\n', at) - at - key.size());
  }

  bool Stored(int trace) { return Get("/api/v1/traces/" + TraceHex(trace)).status == 200; }

  // Two channels fill a cap of 2; a third is refused; the first two keep working; closing one
  // frees its place.
  void CheckCap(const std::string& ca_pem) {
    const uint16_t port = server_.ports().otlp_grpc;
    ASSERT_GT(port, 0);
    auto first = OwnChannel(port, ca_pem);
    auto second = OwnChannel(port, ca_pem);
    ASSERT_TRUE(Export(first, 1).ok());
    ASSERT_TRUE(Export(second, 2).ok());
    EXPECT_EQ(Metric("ariadne_http_connections_open"), "2");

    auto third = OwnChannel(port, ca_pem);
    const grpc::Status refused = Export(third, 3);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
    EXPECT_FALSE(Stored(3)) << "a refused connection stored a span";
    EXPECT_NE(Metric("ariadne_http_connections_refused_total"), "0");
    EXPECT_NE(Metric("ariadne_http_connections_refused_total"), "");

    // The connections that were open are not taken down: they keep exporting.
    EXPECT_TRUE(Export(first, 4).ok());
    EXPECT_TRUE(Export(second, 5).ok());
    EXPECT_TRUE(Stored(1) && Stored(2) && Stored(4) && Stored(5));

    // One client goes away: its place is free again (the server notices the close shortly).
    first.reset();
    bool served = false;
    for (int attempt = 0; attempt < 300 && !served; ++attempt) {
      served = Export(OwnChannel(port, ca_pem), 6).ok();
      if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(served) << "a freed place was not given to a new connection";
    EXPECT_TRUE(Export(second, 7).ok());
  }
};

TEST_F(GrpcConnectionCapTest, ConnectionsPastTheCapAreRefusedAndOpenOnesKeepWorking) {
  server_ = ServerProcess::Start(g_ariadne, DataDir(), {"--otlp-grpc-max-connections", "2"});
  CheckCap("");
}

TEST_F(GrpcConnectionCapTest, TheCapHoldsOverTls) {
  const TestCertificate cert = MakeSelfSignedCertificate(dir_.string(), "cap");
  server_ = ServerProcess::Start(g_ariadne, DataDir(),
                                 {"--otlp-grpc-max-connections", "2", "--tls-cert", cert.cert_file,
                                  "--tls-key", cert.key_file, "--tls-listeners", "otlp-grpc"});
  std::ifstream in(cert.cert_file);
  std::stringstream pem;
  pem << in.rdbuf();
  CheckCap(pem.str());
}

TEST_F(GrpcConnectionCapTest, ZeroMeansNoCap) {
  server_ = ServerProcess::Start(g_ariadne, DataDir(), {"--otlp-grpc-max-connections", "0"});
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 4; ++i) channels.push_back(OwnChannel(server_.ports().otlp_grpc));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Export(channels[i], 10 + i).ok()) << i;
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
