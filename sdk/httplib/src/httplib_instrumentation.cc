#include "ariadne/sdk/httplib.h"

#include <exception>

namespace ariadne::sdk {

std::string_view HttplibHeaderCarrier::Get(std::string_view key) const {
  const httplib::Headers& h = headers_ != nullptr ? *headers_ : *const_;
  auto it = h.find(std::string(key));
  return it == h.end() ? std::string_view() : std::string_view(it->second);
}

void HttplibHeaderCarrier::Set(std::string_view key, std::string_view value) {
  if (headers_ == nullptr) return;
  headers_->erase(std::string(key));
  headers_->emplace(std::string(key), std::string(value));
}

std::string RouteTemplateToRegex(std::string_view route) {
  std::string out;
  for (size_t i = 0; i < route.size(); ++i) {
    const char c = route[i];
    if (c == '{') {
      size_t close = route.find('}', i);
      if (close != std::string_view::npos) {
        out += "([^/]+)";
        i = close;
        continue;
      }
    }
    if (std::string_view(".^$|()[]*+?\\").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

TracedRoutes::Handler TracedRoutes::Wrap(std::string route, Handler handler) const {
  const HttpServerTracer* tracer = &tracer_;
  return [tracer, route = std::move(route), handler = std::move(handler)](
             const httplib::Request& req, httplib::Response& res) {
    HttplibHeaderCarrier request_headers(req.headers);
    HttpServerRequest info;
    info.method = req.method;
    info.target = req.target.empty() ? std::string_view(req.path) : std::string_view(req.target);
    info.route = route;
    const std::string host = req.get_header_value("Host");
    info.host = host;
    const std::string user_agent = req.get_header_value("User-Agent");
    info.user_agent = user_agent;
    info.client_ip = req.remote_addr;
    HttpServerSpan server_span = tracer->Start(info, request_headers);
    HttplibHeaderCarrier response_headers(res.headers);
    try {
      Scope scope = server_span.span.Activate();
      handler(req, res);
    } catch (const std::exception& e) {
      server_span.span.RecordException("std::exception", e.what());
      tracer->Finish(server_span, 500, 0, &response_headers);
      throw;
    }
    const int status = res.status < 0 ? 200 : res.status;
    tracer->Finish(server_span, status, static_cast<int64_t>(res.body.size()), &response_headers);
  };
}

TracedRoutes& TracedRoutes::Get(std::string_view route, Handler handler) {
  server_.Get(RouteTemplateToRegex(route), Wrap(std::string(route), std::move(handler)));
  return *this;
}
TracedRoutes& TracedRoutes::Post(std::string_view route, Handler handler) {
  server_.Post(RouteTemplateToRegex(route), Wrap(std::string(route), std::move(handler)));
  return *this;
}
TracedRoutes& TracedRoutes::Put(std::string_view route, Handler handler) {
  server_.Put(RouteTemplateToRegex(route), Wrap(std::string(route), std::move(handler)));
  return *this;
}
TracedRoutes& TracedRoutes::Delete(std::string_view route, Handler handler) {
  server_.Delete(RouteTemplateToRegex(route), Wrap(std::string(route), std::move(handler)));
  return *this;
}

namespace {

template <typename Call>
httplib::Result Traced(const HttpClientTracer& tracer, std::string_view method,
                       std::string_view base_url, const std::string& path,
                       httplib::Headers& headers, Call call) {
  HttplibHeaderCarrier carrier(headers);
  std::string url = std::string(base_url) + path;
  Span span = tracer.Start(method, url, carrier);
  httplib::Result result = call();
  if (result) {
    tracer.Finish(span, result->status);
  } else {
    tracer.Finish(span, 0, httplib::to_string(result.error()));
  }
  return result;
}

}  // namespace

httplib::Result TracedGet(httplib::Client& client, const HttpClientTracer& tracer,
                          std::string_view base_url, const std::string& path,
                          httplib::Headers headers) {
  return Traced(tracer, "GET", base_url, path, headers, [&] { return client.Get(path, headers); });
}

httplib::Result TracedPost(httplib::Client& client, const HttpClientTracer& tracer,
                           std::string_view base_url, const std::string& path,
                           const std::string& body, const std::string& content_type,
                           httplib::Headers headers) {
  return Traced(tracer, "POST", base_url, path, headers,
                [&] { return client.Post(path, headers, body, content_type); });
}

}  // namespace ariadne::sdk
