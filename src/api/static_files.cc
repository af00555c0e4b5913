#include "api/static_files.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace ariadne::api {
namespace {

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kNoCache = "no-cache";
constexpr std::string_view kShortCache = "public, max-age=3600";

// realpath(3) or "" when the path does not exist.
std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return {};
  return buf;
}

bool IsRegularFile(const std::string& path, struct stat* st) {
  return ::stat(path.c_str(), st) == 0 && S_ISREG(st->st_mode);
}

std::string_view Extension(std::string_view name) {
  size_t slash = name.rfind('/');
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return {};
  return name.substr(dot + 1);
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The decoded path split into segments, or false when it is unsafe.
bool SafeSegments(std::string_view decoded, std::vector<std::string_view>* segments) {
  if (decoded.empty() || decoded.front() != '/') return false;
  for (char c : decoded) {
    if (c == '\0' || c == '\\') return false;
  }
  size_t pos = 1;
  while (pos <= decoded.size()) {
    size_t next = decoded.find('/', pos);
    if (next == std::string_view::npos) next = decoded.size();
    std::string_view segment = decoded.substr(pos, next - pos);
    if (segment == ".." || segment == ".") return false;
    if (!segment.empty()) segments->push_back(segment);
    pos = next + 1;
  }
  return true;
}

}  // namespace

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)), resolved_(RealPath(root_)) {}

bool StaticFiles::available() const {
  struct stat st;
  return !root_.empty() && IsRegularFile(root_ + "/index.html", &st);
}

bool StaticFiles::IsAppRoute(std::string_view path) {
  if (path == "/" || path == "/index.html") return true;
  for (std::string_view page : {"/query", "/traces", "/service-map", "/xray"}) {
    if (path == page) return true;
    if (StartsWith(path, page) && path.size() > page.size() && path[page.size()] == '/') {
      return true;
    }
  }
  return false;
}

std::string_view StaticFiles::ContentTypeFor(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kTypes = {{
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"txt", "text/plain; charset=utf-8"},
      {"wasm", "application/wasm"},
      {"xml", "application/xml"},
      {"pdf", "application/pdf"},
  }};
  std::string ext(Extension(file_name));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [name, type] : kTypes) {
    if (name == ext) return type;
  }
  return "application/octet-stream";
}

net::HttpResponse StaticFiles::NotBuilt() const {
  std::string dir = HtmlEscape(root_.empty() ? std::string("(none)") : root_);
  std::string body =
      "<!doctype html><html lang=en><head><meta charset=utf-8><title>Ariadne: web UI not "
      "built</title><style>body{font:15px/1.5 system-ui,sans-serif;max-width:44rem;margin:4rem "
      "auto;padding:0 1rem;color:#1f2430}code,pre{background:#f1f3f7;border-radius:4px;padding:"
      "2px 5px}pre{padding:.8rem}</style></head><body><h1>The web UI has not been built</h1>"
      "<p>Ariadne is running and its API works (try <a href=\"/api/v1/services\">/api/v1/"
      "services</a>), but there is no <code>index.html</code> in <code>" +
      dir +
      "</code>.</p><p>Build the UI (needs Node.js and npm) and reload this page:</p>"
      "<pre>./scripts/build-ui</pre><p>or by hand:</p><pre>cd ui &amp;&amp; npm ci &amp;&amp; npm "
      "run build</pre><p>To serve a UI from another folder start the server with "
      "<code>ariadne serve --ui-dir DIR</code>.</p></body></html>\n";
  net::HttpResponse response(503, "text/html; charset=utf-8", std::move(body));
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

net::HttpResponse StaticFiles::ServeFile(const std::string& resolved,
                                         std::string_view cache_control, int status,
                                         const net::HttpRequest& request) const {
  struct stat st;
  if (!IsRegularFile(resolved, &st)) {
    return net::HttpResponse(404, "text/plain; charset=utf-8", "not found\n");
  }
  char etag[64];
  std::snprintf(etag, sizeof(etag), "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ULL +
                    static_cast<unsigned long long>(st.st_mtim.tv_nsec));
  if (status == 200) {
    if (auto match = request.Header("If-None-Match"); match && *match == etag) {
      net::HttpResponse not_modified;
      not_modified.status = 304;
      not_modified.SetHeader("ETag", etag);
      not_modified.SetHeader("Cache-Control", std::string(cache_control));
      return not_modified;
    }
  }
  std::ifstream in(resolved, std::ios::binary);
  if (!in) return net::HttpResponse(404, "text/plain; charset=utf-8", "not found\n");
  std::string body;
  body.resize(static_cast<size_t>(st.st_size));
  in.read(body.data(), static_cast<std::streamsize>(body.size()));
  body.resize(static_cast<size_t>(in.gcount()));
  net::HttpResponse response(status, std::string(ContentTypeFor(resolved)),
                             request.method == "HEAD" ? std::string() : std::move(body));
  response.SetHeader("Cache-Control", std::string(cache_control));
  response.SetHeader("ETag", etag);
  response.SetHeader("X-Content-Type-Options", "nosniff");
  return response;
}

net::HttpResponse StaticFiles::Serve(const net::HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    net::HttpResponse response(
        405, "text/plain; charset=utf-8",
        "method " + request.method + " not allowed on " + request.path + "\n");
    response.SetHeader("Allow", "GET, HEAD");
    return response;
  }
  std::string decoded = net::PercentDecode(request.path, false);
  std::vector<std::string_view> segments;
  if (!SafeSegments(decoded, &segments)) {
    return net::HttpResponse(400, "text/plain; charset=utf-8",
                             "bad path: '.', '..', backslashes and NUL are not allowed\n");
  }
  if (!available()) return NotBuilt();
  // The folder may have been created after start.
  const std::string base = resolved_.empty() ? RealPath(root_) : resolved_;
  if (base.empty()) return NotBuilt();
  const std::string index = base + "/index.html";

  if (!segments.empty() && !IsAppRoute(decoded)) {
    std::string candidate = base;
    for (std::string_view segment : segments) {
      candidate.push_back('/');
      candidate.append(segment);
    }
    std::string real = RealPath(candidate);
    struct stat st;
    if (!real.empty()) {
      if (!StartsWith(real, base + "/")) {
        return net::HttpResponse(404, "text/plain; charset=utf-8", "not found\n");
      }
      if (IsRegularFile(real, &st)) {
        std::string_view cache = kShortCache;
        if (segments.front() == "assets") cache = kImmutable;
        if (real == index) cache = kNoCache;
        return ServeFile(real, cache, 200, request);
      }
    }
    if (!Extension(segments.back()).empty()) {
      return net::HttpResponse(404, "text/plain; charset=utf-8", "not found: " + decoded + "\n");
    }
    // An unknown page: the app shows its not-found page.
    return ServeFile(index, kNoCache, 404, request);
  }
  return ServeFile(index, kNoCache, 200, request);
}

std::string DefaultUiDir() {
  std::vector<std::string> candidates;
  std::string exe = RealPath("/proc/self/exe");
  if (!exe.empty()) {
    std::filesystem::path dir = std::filesystem::path(exe).parent_path();
    candidates.push_back((dir / "../../ui/dist").lexically_normal().string());
    candidates.push_back((dir / "../ui/dist").lexically_normal().string());
    candidates.push_back((dir / "../share/ariadne/ui").lexically_normal().string());
  }
  candidates.push_back("ui/dist");
  for (const std::string& dir : candidates) {
    struct stat st;
    if (IsRegularFile(dir + "/index.html", &st)) return dir;
  }
  return candidates.front();
}

net::HttpHandler WithStaticFiles(net::HttpHandler api, const StaticFiles* files) {
  return [api = std::move(api), files](net::HttpRequest&& request, net::Responder respond) {
    const std::string& path = request.path;
    if (StartsWith(path, "/api/") || path == "/api" || path == "/healthz" || path == "/readyz" ||
        path == "/metrics") {
      api(std::move(request), std::move(respond));
      return;
    }
    respond(files->Serve(request));
  };
}

net::HttpHandler WithXrayProxy(net::HttpHandler inner, net::HttpHandler xray_api) {
  return [inner = std::move(inner), xray_api = std::move(xray_api)](net::HttpRequest&& request,
                                                                    net::Responder respond) {
    constexpr std::string_view kPrefix = "/api/v1/xray/";
    if (!StartsWith(request.path, kPrefix)) {
      inner(std::move(request), std::move(respond));
      return;
    }
    if (request.method != "POST") {
      net::HttpResponse response(405, "application/json",
                                 "{\"error\":\"the X-Ray API takes POST\",\"status\":405}\n");
      response.SetHeader("Allow", "POST");
      respond(std::move(response));
      return;
    }
    // The operation as an X-Ray client would send it: only the body and its type pass through
    // (the browser's cookies, origin and user agent are not the X-Ray client's).
    net::HttpRequest forwarded;
    forwarded.method = "POST";
    forwarded.target = "/" + request.target.substr(kPrefix.size());
    forwarded.path = "/" + request.path.substr(kPrefix.size());
    forwarded.headers = {{"Content-Type", "application/json"}};
    forwarded.body = request.body;
    forwarded.remote_address = request.remote_address;
    forwarded.cancel = request.cancel;
    xray_api(std::move(forwarded), [respond = std::move(respond)](net::HttpResponse answer) {
      net::HttpResponse response(
          answer.status, std::string(answer.Header("Content-Type").value_or("application/json")),
          std::move(answer.body));
      if (auto error_type = answer.Header("x-amzn-ErrorType")) {
        response.SetHeader("x-amzn-ErrorType", std::string(*error_type));
      }
      if (auto retry = answer.Header("Retry-After")) {
        response.SetHeader("Retry-After", std::string(*retry));
      }
      respond(std::move(response));
    });
  };
}

}  // namespace ariadne::api
