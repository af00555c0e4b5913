// HttpClient: a minimal blocking HTTP/1.1 client over a TCP socket (plain, or TLS through OpenSSL
// after UseTls), for the `ariadne` CLI (trace, query, doctor) and for tests that need to see
// exactly what goes over the wire.
//
// It sends a request (or raw bytes), and reads one response: status line, headers, and a body
// delimited by Content-Length, chunked encoding, or connection close. One connection can carry
// several requests (keep-alive); `connection_id()` changes only when a new socket is opened, so
// tests can check that a connection was reused.
//
// TLS: the server's certificate is verified against TlsClientOptions::ca_file (or the system's
// trust store) and must name the host connected to (DNS name or IP address), unless `verify` is
// false. OpenSSL stays in http_client.cc.
//
// Threads: one HttpClient per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "net/http_server.h"
#include "net/tls.h"

namespace ariadne::net {

struct ClientResponse {
  int status = 0;
  HeaderList headers;
  std::string body;
  bool connection_closed = false;  // the server closed the connection after this response

  std::optional<std::string_view> Header(std::string_view name) const;
};

// "http://host:port/path" or "https://host:port/path" → parts. Port defaults to 80 (443).
struct ParsedUrl {
  std::string host;
  uint16_t port = 80;
  std::string path;  // "/" when empty
  bool tls = false;  // https://
};
Result<ParsedUrl> ParseHttpUrl(std::string_view url);

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Speak TLS on every connection opened from now on (call before the first request).
  void UseTls(TlsClientOptions options);
  bool tls() const { return tls_options_ != nullptr; }
  // SHA-256 fingerprint (as TlsServerContext::Fingerprint prints it) of the certificate the
  // server presented on the current connection; empty without TLS or connection.
  std::string PeerCertificateFingerprint() const;

  // Sends one request (adds Host and Content-Length) and reads the response. Reconnects when the
  // previous response closed the connection or the server closed it while idle. A reused
  // connection that fails before any response arrives is retried once for idempotent methods
  // only; a POST then fails with kAborted, since the server may have processed it.
  Result<ClientResponse> Request(std::string_view method, std::string_view target,
                                 const HeaderList& headers = {}, std::string_view body = {});

  // Low level: connects if needed and writes `bytes` as they are.
  Status SendRaw(std::string_view bytes);
  // Reads one response from the current connection.
  Result<ClientResponse> ReadResponse();

  // Increments each time a new TCP connection is opened.
  int connection_id() const { return connection_id_; }
  void Close();

 private:
  Status EnsureConnected();
  static bool IsIdempotentMethod(std::string_view method);
  bool IdleConnectionUsable() const;
  Result<std::string> ReadLine();
  Status ReadExactly(size_t n, std::string* out);
  Status Fill();
  Status StartTls();
  struct TlsConnection;  // OpenSSL state, defined in http_client.cc

  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  int connection_id_ = 0;
  std::string buffer_;  // bytes received but not yet consumed
  size_t pos_ = 0;
  std::unique_ptr<TlsClientOptions> tls_options_;
  std::unique_ptr<TlsConnection> tls_;  // while connected with TLS
};

}  // namespace ariadne::net
