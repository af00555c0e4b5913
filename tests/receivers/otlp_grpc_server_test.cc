// OTLP/gRPC against the real `ariadne serve`, with a real gRPC client (the stub generated from
// trace_service.proto, and a generic stub for bytes that are not a valid message): spans exported
// with a key in the metadata are stored in that key's environment and read back through the API;
// a missing or unknown key is UNAUTHENTICATED and stores nothing; undecodable bytes are
// INVALID_ARGUMENT; gzip-compressed requests are accepted and their decompressed size is capped;
// invalid spans come back as partial success; TLS with --tls-cert/--tls-key, reloaded on SIGHUP;
// answers are counted on /metrics.
//
// Usage: otlp_grpc_server_test --ariadne=/path/to/build/bin/ariadne
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "google/rpc/status.pb.h"
#include "net/http_client.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "tests/common/server_fixture.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"
#include "tests/common/test_certs.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using nlohmann::json;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
using opentelemetry::proto::collector::trace::v1::TraceService;
using namespace std::chrono_literals;

constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

std::string RunForOutput(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

uint64_t NowNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// 16 bytes: the test's pid, then `n`.
std::string TraceIdBytes(int n) {
  std::string id(16, '\0');
  const uint32_t pid = static_cast<uint32_t>(::getpid());
  std::memcpy(id.data(), &pid, sizeof pid);
  id[14] = 0x7e;
  id[15] = static_cast<char>(n);
  return id;
}

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// A server span and its client child in service "grpc-svc", trace TraceIdBytes(trace).
ExportTraceServiceRequest TwoSpans(int trace) {
  const uint64_t now = NowNanos() - 1'000'000'000;
  ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  auto* service = rs->mutable_resource()->add_attributes();
  service->set_key("service.name");
  service->mutable_value()->set_string_value("grpc-svc");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("grpc.test");
  for (int i = 0; i < 2; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(TraceIdBytes(trace));
    span->set_span_id(std::string(7, '\x11') + static_cast<char>(i + 1));
    if (i == 1) span->set_parent_span_id(std::string(7, '\x11') + '\x01');
    span->set_name(i == 0 ? "GET /grpc" : "db.query");
    span->set_kind(i == 0 ? opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER
                          : opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT);
    span->set_start_time_unix_nano(now + i * 1000);
    span->set_end_time_unix_nano(now + 5'000'000);
    auto* attr = span->add_attributes();
    attr->set_key("rows");
    attr->mutable_value()->set_int_value(40 + i);
  }
  return request;
}

struct Metadata {
  std::vector<std::pair<std::string, std::string>> pairs;
};

std::shared_ptr<grpc::Channel> PlainChannel(uint16_t port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureChannelCredentials());
}

// A TLS channel that trusts only `ca_pem` and expects the name "localhost".
std::shared_ptr<grpc::Channel> TlsChannel(uint16_t port, const std::string& ca_pem) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca_pem;
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  // A fresh connection per channel, so a reloaded certificate is seen.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(ssl),
                                   args);
}

grpc::Status Export(const std::shared_ptr<grpc::Channel>& channel,
                    const ExportTraceServiceRequest& request, const Metadata& metadata,
                    ExportTraceServiceResponse* response, bool gzip = false) {
  auto stub = TraceService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 30s);
  for (const auto& [key, value] : metadata.pairs) context.AddMetadata(key, value);
  if (gzip) context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
  return stub->Export(&context, request, response);
}

// Sends `bytes` as the request message, whatever they are.
grpc::Status ExportRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& bytes,
                       const Metadata& metadata) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 30s);
  for (const auto& [key, value] : metadata.pairs) context.AddMetadata(key, value);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, kExportMethod, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

class OtlpGrpcServerTest : public ServerFixture {
 protected:
  OtlpGrpcServerTest() : ServerFixture("grpc") {}

  std::string CreateKey(const std::string& role, const std::string& env = "") {
    return RunForOutput(g_ariadne + " keys create --role " + role +
                        (env.empty() ? "" : " --env " + env) + " --data-dir " + DataDir() +
                        " 2>/dev/null");
  }

  void StartServer(const std::vector<std::string>& extra = {}) {
    server_ = ServerProcess::Start(g_ariadne, DataDir(), extra);
    ASSERT_NE(server_.ports().otlp_grpc, 0);
  }

  // GET on the API with the read key; the JSON body (null when not 200).
  json GetJson(const std::string& target, int* status = nullptr) {
    net::HttpClient api("127.0.0.1", server_.ports().http, 30s);
    net::HeaderList headers;
    if (!read_key_.empty()) headers.push_back({"Authorization", "Bearer " + read_key_});
    auto response = api.Request("GET", target, headers);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) return nullptr;
    if (status != nullptr) *status = response->status;
    if (response->status != 200) return nullptr;
    return json::parse(response->body);
  }

  // Keys: an ingest key of environment "prod" and a read key.
  void CreateKeys() {
    ingest_key_ = CreateKey("ingest", "prod");
    read_key_ = CreateKey("read");
    ASSERT_FALSE(ingest_key_.empty());
    ASSERT_FALSE(read_key_.empty());
  }

  std::string ingest_key_;
  std::string read_key_;
};

TEST_F(OtlpGrpcServerTest, ExportedSpansAreStoredInTheKeysEnvironmentAndReadBack) {
  CreateKeys();
  StartServer();
  ExportTraceServiceResponse response;
  grpc::Status status = Export(PlainChannel(server_.ports().otlp_grpc), TwoSpans(1),
                               {{{"x-honeycomb-team", ingest_key_}}}, &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_FALSE(response.has_partial_success());

  json trace = GetJson("/api/v1/traces/" + Hex(TraceIdBytes(1)));
  ASSERT_FALSE(trace.is_null());
  ASSERT_EQ(trace["span_count"], 2);
  std::vector<std::string> names;
  for (const json& span : trace["spans"]) {
    names.push_back(span["name"]);
    EXPECT_EQ(span["environment"], "prod");
    EXPECT_EQ(span["service_name"], "grpc-svc");
    EXPECT_EQ(span["scope"]["name"], "grpc.test");
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"GET /grpc", "db.query"}));

  // `authorization: Bearer KEY` works as well.
  status = Export(PlainChannel(server_.ports().otlp_grpc), TwoSpans(2),
                  {{{"authorization", "Bearer " + ingest_key_}}}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(GetJson("/api/v1/traces/" + Hex(TraceIdBytes(2))).is_null());
}

TEST_F(OtlpGrpcServerTest, MissingOrUnknownKeyIsUnauthenticatedAndStoresNothing) {
  CreateKeys();
  StartServer();
  auto channel = PlainChannel(server_.ports().otlp_grpc);
  ExportTraceServiceResponse response;
  grpc::Status missing = Export(channel, TwoSpans(3), {}, &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(missing.error_message().find("x-honeycomb-team"), std::string::npos)
      << missing.error_message();
  grpc::Status unknown =
      Export(channel, TwoSpans(3), {{{"x-honeycomb-team", "not-a-key"}}}, &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(unknown.error_message().find("unknown API key"), std::string::npos)
      << unknown.error_message();
  // A read key is not an ingest key.
  grpc::Status read_key =
      Export(channel, TwoSpans(3), {{{"authorization", "Bearer " + read_key_}}}, &response);
  EXPECT_EQ(read_key.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  int http_status = 0;
  EXPECT_TRUE(GetJson("/api/v1/traces/" + Hex(TraceIdBytes(3)), &http_status).is_null());
  EXPECT_EQ(http_status, 404);

  // The answers are counted by receiver and (HTTP-equivalent) code.
  ASSERT_TRUE(Export(channel, TwoSpans(4), {{{"x-honeycomb-team", ingest_key_}}}, &response).ok());
  net::HttpClient api("127.0.0.1", server_.ports().http, 30s);
  auto metrics = api.Request("GET", "/metrics", {{"Authorization", "Bearer " + read_key_}});
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(
      metrics->body.find("ariadne_ingest_requests_total{receiver=\"otlp_grpc\",code=\"401\"} 3"),
      std::string::npos)
      << metrics->body;
  EXPECT_NE(
      metrics->body.find("ariadne_ingest_requests_total{receiver=\"otlp_grpc\",code=\"200\"} 1"),
      std::string::npos)
      << metrics->body;
}

TEST_F(OtlpGrpcServerTest, UndecodableBytesAreInvalidArgumentAndTheServerKeepsServing) {
  StartServer();
  auto channel = PlainChannel(server_.ports().otlp_grpc);
  // Field 1 (resource_spans) claims 100 bytes but the message ends after 3.
  grpc::Status truncated = ExportRaw(channel, std::string("\x0a\x64\x01\x02\x03", 5), {});
  EXPECT_EQ(truncated.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(truncated.error_message().find("ExportTraceServiceRequest"), std::string::npos)
      << truncated.error_message();
  grpc::Status garbage = ExportRaw(channel, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", {});
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // The raw path takes a valid message too, and an empty one (no spans) is a success.
  EXPECT_TRUE(ExportRaw(channel, "", {}).ok());
  ASSERT_TRUE(ExportRaw(channel, TwoSpans(5).SerializeAsString(), {}).ok());
  EXPECT_FALSE(GetJson("/api/v1/traces/" + Hex(TraceIdBytes(5))).is_null());

  // Other methods of the port are UNIMPLEMENTED.
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  grpc::Slice slice(std::string{});
  grpc::ByteBuffer request(&slice, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
                 grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(OtlpGrpcServerTest, GzipRequestsAreAcceptedAndTheirDecompressedSizeIsCapped) {
  StartServer({"--max-decompressed-bytes", "200000"});
  auto channel = PlainChannel(server_.ports().otlp_grpc);
  ExportTraceServiceResponse response;
  grpc::Status status = Export(channel, TwoSpans(6), {}, &response, /*gzip=*/true);
  ASSERT_TRUE(status.ok()) << status.error_message();
  json trace = GetJson("/api/v1/traces/" + Hex(TraceIdBytes(6)));
  ASSERT_FALSE(trace.is_null());
  EXPECT_EQ(trace["span_count"], 2);

  // 1 MB of one repeated letter gzips to about a kilobyte, but decompresses past the cap.
  ExportTraceServiceRequest big = TwoSpans(7);
  auto* attr =
      big.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->add_attributes();
  attr->set_key("blob");
  attr->mutable_value()->set_string_value(std::string(1'000'000, 'a'));
  status = Export(channel, big, {}, &response, /*gzip=*/true);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  int http_status = 0;
  EXPECT_TRUE(GetJson("/api/v1/traces/" + Hex(TraceIdBytes(7)), &http_status).is_null());
  EXPECT_EQ(http_status, 404);
}

TEST_F(OtlpGrpcServerTest, InvalidSpansComeBackAsPartialSuccessAndTheRestIsStored) {
  StartServer();
  ExportTraceServiceRequest request = TwoSpans(8);
  auto* spans = request.mutable_resource_spans(0)->mutable_scope_spans(0);
  auto* bad_id = spans->add_spans();
  *bad_id = spans->spans(0);
  bad_id->set_trace_id("short");  // not 16 bytes
  bad_id->set_span_id(std::string(7, '\x22') + '\x01');
  auto* backwards = spans->add_spans();
  *backwards = spans->spans(0);
  backwards->set_span_id(std::string(7, '\x22') + '\x02');
  backwards->set_end_time_unix_nano(backwards->start_time_unix_nano() - 1);  // ends before start
  ExportTraceServiceResponse response;
  grpc::Status status =
      Export(PlainChannel(server_.ports().otlp_grpc), request, {}, &response, /*gzip=*/true);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(response.has_partial_success());
  EXPECT_EQ(response.partial_success().rejected_spans(), 2);
  EXPECT_FALSE(response.partial_success().error_message().empty());
  json trace = GetJson("/api/v1/traces/" + Hex(TraceIdBytes(8)));
  ASSERT_FALSE(trace.is_null());
  EXPECT_EQ(trace["span_count"], 2);
}

// RetryInfo{retry_delay: Duration{seconds}} inside google.rpc.Status.details, or -1.
int RetryDelaySeconds(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return -1;
  for (const auto& any : details.details()) {
    if (any.type_url() != "type.googleapis.com/google.rpc.RetryInfo") continue;
    const std::string& v = any.value();  // 0x0A len (0x08 seconds)
    if (v.size() == 4 && v[0] == 0x0A && v[1] == 2 && v[2] == 0x08) return v[3];
  }
  return -1;
}

TEST_F(OtlpGrpcServerTest, OverloadIsUnavailableWithRetryInfoAndAcknowledgedSpansAreStored) {
  StartServer({"--max-inflight-bytes", "2000000"});
  // Big batches from many concurrent calls: more than the in-flight bound at once.
  constexpr int kClients = 12, kCallsPerClient = 6;
  std::atomic<int> ok{0}, shed{0}, shed_without_retry_info{0}, other{0};
  std::mutex mu;
  std::vector<int> acknowledged;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto channel = PlainChannel(server_.ports().otlp_grpc);
      for (int i = 0; i < kCallsPerClient; ++i) {
        const int trace = 20 + c * kCallsPerClient + i;
        ExportTraceServiceRequest request = TwoSpans(trace);
        auto* span = request.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0);
        for (int a = 0; a < 2000; ++a) {
          auto* attr = span->add_attributes();
          attr->set_key("k" + std::to_string(a));
          attr->mutable_value()->set_string_value(std::string(200, 'x'));
        }
        ExportTraceServiceResponse response;
        grpc::Status status = Export(channel, request, {}, &response);
        if (status.ok()) {
          ++ok;
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(trace);
        } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                   status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          ++shed;
          if (RetryDelaySeconds(status) != 1) ++shed_without_retry_info;
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(shed.load(), 0) << "nothing was shed";
  EXPECT_EQ(shed_without_retry_info.load(), 0);
  ASSERT_GT(ok.load(), 0);
  for (int trace : acknowledged) {
    ASSERT_FALSE(GetJson("/api/v1/traces/" + Hex(TraceIdBytes(trace))).is_null())
        << "acknowledged trace " << trace;
  }
}

TEST_F(OtlpGrpcServerTest, AnAddressInUseIsRefusedAtStart) {
  StartServer();
  const std::string second_dir = (dir_ / "second").string();
  FILE* pipe = ::popen(("timeout 30 " + g_ariadne + " serve --data-dir " + second_dir +
                        " --otlp-http 0 --http 0 --xray 0 --zipkin 0 --otlp-grpc 127.0.0.1:" +
                        std::to_string(server_.ports().otlp_grpc) + " 2>&1")
                           .c_str(),
                       "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << out;
  EXPECT_NE(out.find("--otlp-grpc: cannot listen on 127.0.0.1:"), std::string::npos) << out;
}

TEST_F(OtlpGrpcServerTest, TlsListenerServesTheCertificateAndReloadsItOnSighup) {
  const TestCertificate first = MakeSelfSignedCertificate(dir_.string(), "first");
  const TestCertificate second = MakeSelfSignedCertificate(dir_.string(), "second");
  const std::string live_cert = (dir_ / "live.crt").string();
  const std::string live_key = (dir_ / "live.key").string();
  std::filesystem::copy_file(first.cert_file, live_cert);
  std::filesystem::copy_file(first.key_file, live_key);
  // Only the gRPC listener speaks TLS here, so the API is read back over plain HTTP.
  StartServer({"--tls-cert", live_cert, "--tls-key", live_key, "--tls-listeners", "otlp-grpc"});
  const uint16_t port = server_.ports().otlp_grpc;
  ExportTraceServiceResponse response;
  grpc::Status status =
      Export(TlsChannel(port, Slurp(first.cert_file)), TwoSpans(9), {}, &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_FALSE(GetJson("/api/v1/traces/" + Hex(TraceIdBytes(9))).is_null());
  // Plaintext is not spoken there.
  EXPECT_FALSE(Export(PlainChannel(port), TwoSpans(10), {}, &response).ok());
  // A client that trusts another certificate refuses the server.
  EXPECT_FALSE(Export(TlsChannel(port, Slurp(second.cert_file)), TwoSpans(10), {}, &response).ok());

  // Replace the files and send SIGHUP: new connections get the second certificate.
  std::filesystem::copy_file(second.cert_file, live_cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(second.key_file, live_key,
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(::kill(server_.pid(), SIGHUP), 0);
  bool switched = false;
  for (int attempt = 0; attempt < 60 && !switched; ++attempt) {
    switched = Export(TlsChannel(port, Slurp(second.cert_file)), TwoSpans(11), {}, &response).ok();
    if (!switched) std::this_thread::sleep_for(250ms);
  }
  ASSERT_TRUE(switched) << "the gRPC listener never presented the reloaded certificate";
  EXPECT_FALSE(Export(TlsChannel(port, Slurp(first.cert_file)), TwoSpans(12), {}, &response).ok());
  EXPECT_FALSE(GetJson("/api/v1/traces/" + Hex(TraceIdBytes(11))).is_null());

  // A key that does not belong to the certificate is refused; the listener keeps the second pair.
  std::filesystem::copy_file(first.key_file, live_key,
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(::kill(server_.pid(), SIGHUP), 0);
  bool refused_logged = false;
  for (int attempt = 0; attempt < 60 && !refused_logged; ++attempt) {
    refused_logged = Slurp(server_.stderr_path()).find("reload failed") != std::string::npos;
    if (!refused_logged) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(refused_logged) << Slurp(server_.stderr_path());
  EXPECT_TRUE(Export(TlsChannel(port, Slurp(second.cert_file)), TwoSpans(13), {}, &response).ok());
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
