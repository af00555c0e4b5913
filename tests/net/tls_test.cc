// HTTPS on HttpServer (HttpServerOptions::tls) with a self-signed certificate made by openssl in
// the test, driven by HttpClient over TLS: verification against the certificate as CA, plain HTTP
// refused with a 400, reload for new connections, the handshake timeout and the body limit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../common/test_certs.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/tls.h"

namespace ariadne::net {
namespace {

using namespace std::chrono_literals;

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/ariadne-tls-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    first_ = testing::MakeSelfSignedCertificate(dir_, "first");
    second_ = testing::MakeSelfSignedCertificate(dir_, "second");
    // The server reads these two paths; tests copy other certificates over them.
    cert_ = dir_ + "/server.crt";
    key_ = dir_ + "/server.key";
    Install(first_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Install(const testing::TestCertificate& cert) {
    std::filesystem::copy_file(cert.cert_file, cert_,
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(cert.key_file, key_,
                               std::filesystem::copy_options::overwrite_existing);
  }

  std::unique_ptr<HttpServer> StartTls(HttpServerOptions options = {}) {
    auto tls = TlsServerContext::Load(cert_, key_);
    EXPECT_TRUE(tls.ok()) << tls.status().ToString();
    tls_ = *tls;
    options.tls = tls_;
    auto server = HttpServer::Start(
        "127.0.0.1", 0,
        [](HttpRequest&& request, Responder respond) {
          respond(HttpResponse(200, "text/plain", "got " + request.path + " " + *request.body));
        },
        std::move(options));
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return std::move(server).value();
  }

  // A client that trusts `ca` (the self-signed certificate itself).
  std::unique_ptr<HttpClient> Client(uint16_t port, const std::string& ca) {
    auto client = std::make_unique<HttpClient>("127.0.0.1", port, 10s);
    client->UseTls({ca, true});
    return client;
  }

  std::string dir_;
  testing::TestCertificate first_, second_;
  std::string cert_, key_;
  std::shared_ptr<TlsServerContext> tls_;
};

TEST_F(TlsServerTest, ServesHttpsWithTheConfiguredCertificate) {
  auto server = StartTls();
  EXPECT_TRUE(server->tls());
  auto client = Client(server->bound_port(), first_.cert_file);
  for (int i = 0; i < 3; ++i) {  // keep-alive over one TLS connection
    auto response = client->Request("POST", "/v1/traces", {}, "body" + std::to_string(i));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "got /v1/traces body" + std::to_string(i));
  }
  EXPECT_EQ(client->connection_id(), 1);
  EXPECT_EQ(client->PeerCertificateFingerprint(),
            testing::CertificateFingerprint(first_.cert_file));
  EXPECT_EQ(tls_->Fingerprint(), testing::CertificateFingerprint(first_.cert_file));
}

TEST_F(TlsServerTest, ClientRefusesAnUntrustedCertificate) {
  auto server = StartTls();
  auto client = Client(server->bound_port(), second_.cert_file);  // trusts another certificate
  auto response = client->Request("GET", "/");
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.status().message().find("--ca-file"), std::string::npos)
      << response.status().ToString();

  HttpClient insecure("127.0.0.1", server->bound_port(), 10s);
  insecure.UseTls({"", /*verify=*/false});
  auto accepted = insecure.Request("GET", "/x");
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->status, 200);
}

TEST_F(TlsServerTest, PlainHttpGetsA400SayingUseHttps) {
  auto server = StartTls();
  HttpClient plain("127.0.0.1", server->bound_port(), 10s);
  auto response = plain.Request("POST", "/v1/traces", {{"Content-Type", "application/json"}}, "{}");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("https://"), std::string::npos) << response->body;
  EXPECT_EQ(server->stats().plaintext_on_tls, 1u);
}

TEST_F(TlsServerTest, ReloadServesTheNewCertificateToNewConnections) {
  auto server = StartTls();
  auto old_connection = Client(server->bound_port(), first_.cert_file);
  ASSERT_TRUE(old_connection->Request("GET", "/a").ok());

  Install(second_);
  ASSERT_TRUE(tls_->Reload().ok());
  EXPECT_EQ(tls_->Fingerprint(), testing::CertificateFingerprint(second_.cert_file));

  auto fresh = Client(server->bound_port(), second_.cert_file);
  auto response = fresh->Request("GET", "/b");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(fresh->PeerCertificateFingerprint(),
            testing::CertificateFingerprint(second_.cert_file));
  // The connection made before the reload goes on with the certificate it started with.
  auto again = old_connection->Request("GET", "/c");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(old_connection->connection_id(), 1);
  EXPECT_EQ(old_connection->PeerCertificateFingerprint(),
            testing::CertificateFingerprint(first_.cert_file));
}

TEST_F(TlsServerTest, FailedReloadKeepsTheCurrentCertificate) {
  auto server = StartTls();
  { std::ofstream(cert_) << "not a certificate\n"; }
  Status reloaded = tls_->Reload();
  ASSERT_FALSE(reloaded.ok());
  EXPECT_NE(reloaded.message().find(cert_), std::string::npos) << reloaded.ToString();
  auto client = Client(server->bound_port(), first_.cert_file);
  auto response = client->Request("GET", "/still");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(client->PeerCertificateFingerprint(),
            testing::CertificateFingerprint(first_.cert_file));
}

TEST_F(TlsServerTest, LoadRejectsMissingFilesAndAKeyOfAnotherCertificate) {
  auto missing = TlsServerContext::Load(dir_ + "/nope.crt", key_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--tls-cert"), std::string::npos);
  auto mismatch = TlsServerContext::Load(first_.cert_file, second_.key_file);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("does not belong"), std::string::npos)
      << mismatch.status().ToString();
}

// A client that connects and says nothing is closed after the handshake timeout, so it does not
// keep a connection slot.
TEST_F(TlsServerTest, SilentClientIsClosedAfterTheHandshakeTimeout) {
  HttpServerOptions options;
  options.max_connections = 1;
  options.tls_handshake_timeout = 200ms;
  auto server = StartTls(options);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server->bound_port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  pollfd pfd{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 30000), 1) << "the server never closed the silent connection";
  char byte;
  EXPECT_LE(::recv(fd, &byte, 1, 0), 0);
  ::close(fd);
  // The slot is free again.
  auto client = Client(server->bound_port(), first_.cert_file);
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    auto response = client->Request("GET", "/after");
    served = response.ok() && response->status == 200;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served);
}

TEST_F(TlsServerTest, BodyLimitAppliesOverTls) {
  HttpServerOptions options;
  options.max_body_bytes = 16;
  auto server = StartTls(options);
  auto client = Client(server->bound_port(), first_.cert_file);
  auto response = client->Request("POST", "/v1/traces", {}, std::string(1000, 'x'));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413);
  auto small =
      Client(server->bound_port(), first_.cert_file)->Request("POST", "/v1/traces", {}, "ok");
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->status, 200);
}

// After the handshake the usual idle timeout holds: a TLS client that sends no request is closed.
TEST_F(TlsServerTest, IdleTimeoutAppliesAfterTheHandshake) {
  HttpServerOptions options;
  options.idle_timeout = 200ms;
  auto server = StartTls(options);
  auto client = Client(server->bound_port(), first_.cert_file);
  ASSERT_TRUE(client->Request("GET", "/first").ok());
  // Wait for the server to close the idle connection: the next read sees the close.
  auto closed = client->ReadResponse();
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().code(), StatusCode::kAborted) << closed.status().ToString();
}

TEST_F(TlsServerTest, OversizedHeadersGet431OverTls) {
  auto server = StartTls();
  auto client = Client(server->bound_port(), first_.cert_file);
  auto response = client->Request("GET", "/", {{"X-Big", std::string(70 * 1024, 'a')}});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 431);
}

}  // namespace
}  // namespace ariadne::net
