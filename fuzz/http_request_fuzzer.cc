// Fuzzes HTTP request parsing as the server does it: Boost.Beast's request parser with the
// server's header limit (64 KiB, http_server.cc) and default body limit (16 MiB), then Ariadne's
// own part — ParseRequestTarget (path, query split, percent-decoding), header and query lookups.
// The input is the raw bytes a client would send on a connection (several pipelined requests are
// parsed one after another).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "net/http_server.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kHeaderLimit = 64 * 1024;  // as http_server.cc
  const ariadne::net::HttpServerOptions options;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (int request_index = 0; request_index < 8 && !input.empty(); ++request_index) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options.max_body_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    size_t used = 0;
    while (used < input.size() && !parser.is_done()) {
      size_t n = parser.put(boost::asio::buffer(input.data() + used, input.size() - used), ec);
      if (ec == http::error::need_more) {
        ec = {};
        if (n == 0) break;
      }
      if (ec) break;
      used += n;
      if (n == 0) break;
    }
    if (!ec && !parser.is_done()) parser.put_eof(ec);
    if (!parser.is_header_done()) return 0;
    auto& req = parser.get();
    ariadne::net::HttpRequest request;
    request.method = std::string(req.method_string());
    ariadne::net::ParseRequestTarget(std::string_view(req.target().data(), req.target().size()),
                                     &request);
    for (const auto& field : req) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::make_shared<const std::string>(req.body());
    (void)request.Header("content-type");
    (void)request.Header("x-honeycomb-team");
    (void)request.QueryParam("filter");
    for (const auto& [name, value] : request.query) (void)request.QueryParam(name);
    if (ec || !parser.is_done()) return 0;
    input.remove_prefix(used);
  }
  return 0;
}
