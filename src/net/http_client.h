// HttpClient: a minimal blocking HTTP/1.1 client over a plain TCP socket, for the `ariadne` CLI
// (trace, keys) and for tests that need to see exactly what goes over the wire.
//
// It sends a request (or raw bytes), and reads one response: status line, headers, and a body
// delimited by Content-Length, chunked encoding, or connection close. One connection can carry
// several requests (keep-alive); `connection_id()` changes only when a new socket is opened, so
// tests can check that a connection was reused.
//
// Threads: one HttpClient per thread. No TLS.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "net/http_server.h"

namespace ariadne::net {

struct ClientResponse {
  int status = 0;
  HeaderList headers;
  std::string body;
  bool connection_closed = false;  // the server closed the connection after this response

  std::optional<std::string_view> Header(std::string_view name) const;
};

// "http://host:port/path" → parts. Port defaults to 80.
struct ParsedUrl {
  std::string host;
  uint16_t port = 80;
  std::string path;  // "/" when empty
};
Result<ParsedUrl> ParseHttpUrl(std::string_view url);

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request (adds Host and Content-Length) and reads the response. Reconnects when the
  // previous response closed the connection.
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
  Result<std::string> ReadLine();
  Status ReadExactly(size_t n, std::string* out);
  Status Fill();

  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  int connection_id_ = 0;
  std::string buffer_;  // bytes received but not yet consumed
  size_t pos_ = 0;
};

}  // namespace ariadne::net
