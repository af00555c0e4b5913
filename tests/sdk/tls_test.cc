// The C++ SDK's transport over HTTPS: the OTLP exporter and the X-Ray sampler's pollers against
// Ariadne's own HTTPS listener (net::HttpServer with a self-signed certificate made by openssl),
// trusting it through OtlpHttpExporterOptions::ca_file / OTEL_EXPORTER_OTLP_CERTIFICATE and
// XRaySamplerOptions::ca_file, and refusing it without.
#include <stdlib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "../common/test_certs.h"
#include "ariadne/sdk/otlp_exporter.h"
#include "ariadne/sdk/tracer.h"
#include "ariadne/sdk/xray_sampler.h"
#include "net/http_server.h"
#include "net/tls.h"

namespace ariadne::sdk {
namespace {

class SdkTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/ariadne-sdk-tls-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    cert_ = testing::MakeSelfSignedCertificate(dir_, "server");
    other_ = testing::MakeSelfSignedCertificate(dir_, "other");
    auto tls = net::TlsServerContext::Load(cert_.cert_file, cert_.key_file);
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    net::HttpServerOptions options;
    options.tls = *tls;
    auto server = net::HttpServer::Start(
        "127.0.0.1", 0,
        [this](net::HttpRequest&& request, net::Responder respond) {
          paths_seen_.fetch_add(1);
          if (request.path == "/v1/traces") {
            otlp_bytes_.fetch_add(request.body->size());
            return respond(net::HttpResponse(200, "application/x-protobuf", ""));
          }
          if (request.path == "/GetSamplingRules") {
            return respond(net::HttpResponse(
                200, "application/json",
                R"({"SamplingRuleRecords":[{"SamplingRule":{"RuleName":"Default","Priority":10000,)"
                R"("FixedRate":0.5,"ReservoirSize":1,"ServiceName":"*","ServiceType":"*",)"
                R"("Host":"*","HTTPMethod":"*","URLPath":"*","ResourceARN":"*","Version":1}}]})"));
          }
          respond(net::HttpResponse(404, "text/plain", "no"));
        },
        options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    base_ = "https://127.0.0.1:" + std::to_string(server_->bound_port());
  }
  void TearDown() override {
    server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  ExportResult ExportOne(OtlpHttpExporterOptions options) {
    options.max_attempts = 1;
    OtlpHttpExporter exporter(options);
    auto memory = std::make_unique<InMemorySpanExporter>();
    InMemorySpanExporter* spans = memory.get();
    TracerProvider provider({});
    provider.AddSpanProcessor(std::make_unique<SimpleSpanProcessor>(std::move(memory)));
    provider.GetTracer("tls").StartSpan("over https").End();
    auto finished = spans->Take();
    last_error_.clear();
    ExportResult result = exporter.Export(finished);
    last_error_ = exporter.last_error();
    return result;
  }

  std::string dir_;
  testing::TestCertificate cert_, other_;
  std::unique_ptr<net::HttpServer> server_;
  std::string base_;
  std::atomic<size_t> otlp_bytes_{0};
  std::atomic<int> paths_seen_{0};
  std::string last_error_;
};

TEST_F(SdkTlsTest, OtlpExporterTrustsTheConfiguredCaFile) {
  OtlpHttpExporterOptions options;
  options.url = base_ + "/v1/traces";
  options.ca_file = cert_.cert_file;
  EXPECT_EQ(ExportOne(options), ExportResult::kSuccess) << last_error_;
  EXPECT_GT(otlp_bytes_.load(), 0u);
}

TEST_F(SdkTlsTest, OtlpExporterRefusesAnUntrustedCertificate) {
  OtlpHttpExporterOptions options;
  options.url = base_ + "/v1/traces";
  options.ca_file = other_.cert_file;
  EXPECT_EQ(ExportOne(options), ExportResult::kFailure);
  EXPECT_EQ(otlp_bytes_.load(), 0u);
}

TEST_F(SdkTlsTest, CertificateFromTheOtelEnvironmentVariable) {
  ::setenv("OTEL_EXPORTER_OTLP_ENDPOINT", base_.c_str(), 1);
  ::setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", cert_.cert_file.c_str(), 1);
  OtlpHttpExporterOptions options = OtlpHttpExporterOptions::FromEnvironment();
  ::unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
  ::unsetenv("OTEL_EXPORTER_OTLP_CERTIFICATE");
  EXPECT_EQ(options.ca_file, cert_.cert_file);
  EXPECT_EQ(ExportOne(options), ExportResult::kSuccess) << last_error_;
}

TEST_F(SdkTlsTest, XRaySamplerPollsAnHttpsDaemonAddress) {
  XRaySamplerOptions options;
  options.endpoint = base_;
  options.ca_file = cert_.cert_file;
  options.start_poller = false;
  options.service_name = "tls";
  XRayRemoteSampler sampler(options);
  EXPECT_TRUE(sampler.RefreshRules());

  options.ca_file = other_.cert_file;
  XRayRemoteSampler untrusting(options);
  EXPECT_FALSE(untrusting.RefreshRules());
}

}  // namespace
}  // namespace ariadne::sdk
