// A minimal blocking HTTP client on libcurl for the exporter and the X-Ray sampler's pollers.
// libcurl gives us keep-alive, HTTPS (Honeycomb's endpoint is https) and proxies for free.
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

  HttpResponse Post(const std::string& url,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    std::string_view body, std::chrono::milliseconds timeout);

 private:
  void* curl_;
};

}  // namespace ariadne::sdk::internal
