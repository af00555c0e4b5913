// A minimal blocking HTTP client on libcurl for the exporter and the X-Ray sampler's pollers.
// libcurl gives us keep-alive, HTTPS (Honeycomb's endpoint is https, as is `ariadne serve
// --tls-cert`) and proxies for free. HTTPS servers are verified against the system's trust store,
// or against `ca_file` (PEM) when one is set, e.g. for a self-signed certificate.
//
// Threads: one HttpClient per thread; it reuses one connection.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ariadne::sdk::internal {

struct HttpResponse {
  int status = 0;           // 0 = no response (connection failed, timeout)
  std::string error;        // transport error text when status == 0
  std::string retry_after;  // Retry-After header value, if any
  std::string body;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // PEM CA certificate(s) to verify https:// servers with; empty = the system's trust store.
  void set_ca_file(std::string ca_file) { ca_file_ = std::move(ca_file); }

  HttpResponse Post(const std::string& url,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    std::string_view body, std::chrono::milliseconds timeout);

 private:
  void* curl_;
  std::string ca_file_;
};

}  // namespace ariadne::sdk::internal
