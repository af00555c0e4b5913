#include "internal/http_client.h"

#include <curl/curl.h>

#include <mutex>

#include "internal/env.h"

namespace ariadne::sdk::internal {

namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* out = static_cast<HttpResponse*>(userdata);
  if (out->body.size() < (1 << 20)) out->body.append(ptr, size * nmemb);
  return size * nmemb;
}

size_t ReadHeader(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* out = static_cast<HttpResponse*>(userdata);
  std::string_view line(buffer, size * nitems);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos &&
      EqualsIgnoreCase(Trim(line.substr(0, colon)), "retry-after")) {
    out->retry_after = std::string(Trim(line.substr(colon + 1)));
  }
  return size * nitems;
}

}  // namespace

HttpClient::HttpClient() {
  GlobalInitOnce();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResponse HttpClient::Post(const std::string& url,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              std::string_view body, std::chrono::milliseconds timeout) {
  HttpResponse response;
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    response.error = "curl_easy_init failed";
    return response;
  }
  curl_easy_reset(curl);
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(timeout.count(), 5000)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "ariadne-sdk-cpp/0.1.0");
  if (!ca_file_.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    response.status = static_cast<int>(code);
  } else {
    response.error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(list);
  return response;
}

}  // namespace ariadne::sdk::internal
