#include "api/auth.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/xray/operations.h"
#include "common/json_depth.h"
#include "common/json_dump.h"

namespace ariadne::api {
namespace {

using nlohmann::json;
using pipeline::Principal;

constexpr std::string_view kCookieName = "ariadne_session";

net::HttpResponse JsonError(int status, std::string message) {
  return net::HttpResponse(
      status, "application/json",
      DumpJson(json{{"error", std::move(message)}, {"status", status}}) + "\n");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "host:port" / "[v6]:port" / "host" → the host part (brackets kept off), lowercase.
std::string HostPart(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return "";  // malformed: matches nothing
    return Lower(authority.substr(1, close - 1));
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(':') == colon) {
    authority = authority.substr(0, colon);
  }
  return Lower(authority);
}

std::string RandomToken() {
  std::random_device device;  // /dev/urandom on Linux
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 8; ++i) {
    uint32_t word = device();
    for (int nibble = 0; nibble < 8; ++nibble) {
      token.push_back(kDigits[(word >> (28 - 4 * nibble)) & 0xF]);
    }
  }
  return token;
}

std::string_view CookieValue(std::optional<std::string_view> header, std::string_view name) {
  if (!header) return {};
  std::string_view rest = *header;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view part = Trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && Trim(part.substr(0, eq)) == name) {
      return Trim(part.substr(eq + 1));
    }
  }
  return {};
}

bool IsSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

// X-Ray operations (as proxied under /api/v1/xray/<path>) that only read: the operation table
// (api/xray/operations.h) says which.
bool IsXrayReadOperation(std::string_view operation) {
  const xray::XrayOperation* op = xray::FindXrayOperation("/" + std::string(operation));
  return op != nullptr && op->access == xray::XrayAccess::kRead;
}

json PrincipalJson(const Principal& principal, bool open) {
  return json{{"open", open},
              {"role", pipeline::KeyRoleName(principal.role)},
              {"environment", principal.environment},
              {"id", principal.id}};
}

}  // namespace

bool IsDefaultAllowedHost(std::string_view host_header) {
  std::string host = HostPart(Trim(host_header));
  if (host.empty()) return false;
  if (host == "localhost" || (host.size() > 10 && host.ends_with(".localhost"))) return true;
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::string OriginOfUrl(std::string_view url) {
  std::string lower = Lower(Trim(url));
  size_t scheme_end = lower.find("://");
  if (scheme_end == std::string::npos) return "";
  std::string scheme = lower.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return "";
  std::string rest = lower.substr(scheme_end + 3);
  size_t end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, end);
  if (authority.empty()) return "";
  // Default ports are left off, as browsers do in Origin.
  if (scheme == "http" && authority.ends_with(":80")) authority.resize(authority.size() - 3);
  if (scheme == "https" && authority.ends_with(":443")) authority.resize(authority.size() - 4);
  return scheme + "://" + authority;
}

SessionStore::SessionStore(std::chrono::seconds ttl, size_t max_sessions)
    : ttl_(ttl), max_sessions_(std::max<size_t>(1, max_sessions)) {}

std::string SessionStore::Create(const Principal& principal) {
  std::string token = RandomToken();
  const auto now = std::chrono::steady_clock::now();
  MutexLock lock(&mu_);
  // Drop expired sessions, then the soonest-expiring ones while over the cap.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.expires <= now ? sessions_.erase(it) : std::next(it);
  }
  while (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.expires < b.second.expires;
    });
    sessions_.erase(oldest);
  }
  sessions_[token] = Session{principal, now + ttl_};
  return token;
}

std::optional<Principal> SessionStore::Find(std::string_view token) {
  if (token.empty()) return std::nullopt;
  MutexLock lock(&mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= std::chrono::steady_clock::now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second.principal;
}

void SessionStore::Remove(std::string_view token) {
  MutexLock lock(&mu_);
  auto it = sessions_.find(token);
  if (it != sessions_.end()) sessions_.erase(it);
}

ApiAuth::ApiAuth(const pipeline::KeyRegistry* keys, ApiAuthOptions options)
    : keys_(keys),
      options_(std::move(options)),
      sessions_(options_.session_ttl, options_.max_sessions) {
  for (const std::string& url : options_.public_urls) {
    std::string origin = OriginOfUrl(url);
    if (origin.empty()) continue;
    public_origins_.push_back(origin);
    std::string authority = origin.substr(origin.find("://") + 3);
    public_hosts_.push_back(HostPart(authority));
    if (StartsWith(origin, "https://")) secure_cookie_ = true;
  }
}

net::HttpHandler ApiAuth::Wrap(net::HttpHandler inner) {
  return [this, inner = std::move(inner)](net::HttpRequest&& request, net::Responder respond) {
    if (std::optional<net::HttpResponse> answer = Check(request)) {
      respond(std::move(*answer));
      return;
    }
    inner(std::move(request), std::move(respond));
  };
}

std::optional<net::HttpResponse> ApiAuth::Check(net::HttpRequest& request) {
  if (request.path == "/healthz" || request.path == "/readyz") return std::nullopt;
  if (auto refused = CheckHost(request)) return refused;
  if (auto refused = CheckCrossSite(request)) return refused;
  if (auto answered = SessionRoute(request)) return answered;
  if (open()) return std::nullopt;
  if (!StartsWith(request.path, "/api/")) return std::nullopt;  // UI files, /metrics
  std::optional<net::HttpResponse> refusal;
  std::optional<Principal> principal = PrincipalOf(request, &refusal);
  if (!principal) return refusal;
  return Authorize(request, *principal);
}

std::optional<net::HttpResponse> ApiAuth::CheckHost(const net::HttpRequest& request) const {
  std::optional<std::string_view> host = request.Header("host");
  if (!host) return std::nullopt;  // HTTP/1.0 clients; browsers always send Host
  if (IsDefaultAllowedHost(*host)) return std::nullopt;
  std::string name = HostPart(Trim(*host));
  if (std::find(public_hosts_.begin(), public_hosts_.end(), name) != public_hosts_.end()) {
    return std::nullopt;
  }
  return JsonError(421, "this server does not answer to the name '" + std::string(*host) +
                            "' (a defence against DNS rebinding); if that is how people reach "
                            "it, start it with --public-url http(s)://" +
                            std::string(*host));
}

std::optional<net::HttpResponse> ApiAuth::CheckCrossSite(const net::HttpRequest& request) const {
  if (IsSafeMethod(request.method)) return std::nullopt;
  if (auto site = request.Header("sec-fetch-site")) {
    std::string value = Lower(Trim(*site));
    if (value != "same-origin" && value != "none") {
      return JsonError(403, "cross-site " + request.method + " refused (Sec-Fetch-Site: " + value +
                                "): changes are only accepted from this server's own pages");
    }
  }
  if (auto origin_header = request.Header("origin")) {
    std::string origin = Lower(Trim(*origin_header));
    bool same = false;
    if (auto host = request.Header("host")) {
      std::string authority = Lower(Trim(*host));
      same = origin == "http://" + authority || origin == "https://" + authority ||
             OriginOfUrl(origin) == OriginOfUrl("http://" + authority) ||
             OriginOfUrl(origin) == OriginOfUrl("https://" + authority);
    }
    if (!same) {
      same = std::find(public_origins_.begin(), public_origins_.end(), OriginOfUrl(origin)) !=
             public_origins_.end();
    }
    if (!same) {
      return JsonError(403, "request from origin '" + std::string(*origin_header) +
                                "' refused: changes are only accepted from this server's own "
                                "pages (add the origin with --public-url if it is this server)");
    }
  }
  // Only the API takes changes; other paths answer 404/405 by themselves (which `ariadne doctor`
  // relies on to tell an OTLP exporter pointed at this port).
  if (!StartsWith(request.path, "/api/")) return std::nullopt;
  std::string_view type = request.Header("content-type").value_or("");
  type = Trim(type.substr(0, type.find(';')));
  if (!net::EqualsIgnoreCase(type, "application/json")) {
    return JsonError(415, request.method + " " + request.path +
                              " needs Content-Type: application/json (got '" +
                              std::string(request.Header("content-type").value_or("")) + "')");
  }
  return std::nullopt;
}

std::string ApiAuth::Cookie(std::string_view token, std::chrono::seconds max_age) const {
  std::string cookie =
      std::string(kCookieName) + "=" + std::string(token) +
      "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age.count());
  if (secure_cookie_) cookie += "; Secure";
  return cookie;
}

std::optional<net::HttpResponse> ApiAuth::SessionRoute(const net::HttpRequest& request) {
  const std::string& path = request.path;
  if (path != "/api/v1/login" && path != "/api/v1/logout" && path != "/api/v1/session") {
    return std::nullopt;
  }
  const bool is_session = path == "/api/v1/session";
  if (request.method != (is_session ? "GET" : "POST")) {
    net::HttpResponse response =
        JsonError(405, "method " + request.method + " not allowed on " + path);
    response.SetHeader("Allow", is_session ? "GET" : "POST");
    return response;
  }
  const Principal everyone{pipeline::KeyRole::kAdmin, "", ""};
  if (is_session) {
    if (open())
      return net::HttpResponse(200, "application/json",
                               DumpJson(PrincipalJson(everyone, true)) + "\n");
    std::optional<net::HttpResponse> refusal;
    std::optional<Principal> principal = PrincipalOf(request, &refusal);
    if (!principal) return refusal;
    return net::HttpResponse(200, "application/json",
                             DumpJson(PrincipalJson(*principal, false)) + "\n");
  }
  if (path == "/api/v1/logout") {
    sessions_.Remove(CookieValue(request.Header("cookie"), kCookieName));
    net::HttpResponse response(200, "application/json", "{\"logged_out\":true}\n");
    response.SetHeader("Set-Cookie", Cookie("", std::chrono::seconds(0)));
    return response;
  }
  // Login.
  if (open()) {
    return net::HttpResponse(200, "application/json",
                             DumpJson(PrincipalJson(everyone, true)) + "\n");
  }
  json body = JsonNestingDepth(*request.body) > kMaxRequestJsonNesting
                  ? json(nullptr)
                  : json::parse(*request.body, nullptr, false);
  if (!body.is_object() || !body.contains("key") || !body["key"].is_string()) {
    return JsonError(400, "login: send {\"key\": \"YOUR_READ_KEY\"}");
  }
  Result<Principal> principal = keys_->Lookup(body["key"].get<std::string>());
  if (!principal.ok()) return JsonError(401, std::string(principal.status().message()));
  if (!principal->CanRead()) {
    return JsonError(403,
                     "an ingest key cannot log in; use a read or admin key (`ariadne keys create "
                     "--role read`)");
  }
  std::string token = sessions_.Create(*principal);
  net::HttpResponse response(200, "application/json",
                             DumpJson(PrincipalJson(*principal, false)) + "\n");
  response.SetHeader("Set-Cookie", Cookie(token, options_.session_ttl));
  return response;
}

std::optional<Principal> ApiAuth::PrincipalOf(const net::HttpRequest& request,
                                              std::optional<net::HttpResponse>* refusal) {
  std::string_view bearer = pipeline::BearerToken(request.Header("authorization"));
  if (!bearer.empty()) {
    Result<Principal> principal = keys_->Lookup(bearer);
    if (principal.ok()) return *principal;
    *refusal = JsonError(401, std::string(principal.status().message()));
    return std::nullopt;
  }
  if (auto principal = sessions_.Find(CookieValue(request.Header("cookie"), kCookieName))) {
    return principal;
  }
  net::HttpResponse response = JsonError(
      401,
      "this API needs a read key: send `Authorization: Bearer KEY` (CLI: --key or ARIADNE_KEY) "
      "or log in to the web UI; create one with `ariadne keys create --role read`");
  response.SetHeader("WWW-Authenticate", "Bearer realm=\"ariadne\"");
  *refusal = std::move(response);
  return std::nullopt;
}

std::optional<net::HttpResponse> ApiAuth::Authorize(net::HttpRequest& request,
                                                    const Principal& principal) const {
  if (!principal.CanRead()) {
    return JsonError(403, "key " + principal.id +
                              " is an ingest key: it can only send spans; reading needs a read "
                              "or admin key (`ariadne keys create --role read`)");
  }
  constexpr std::string_view kXray = "/api/v1/xray/";
  if (StartsWith(request.path, kXray)) {
    if (!principal.Covers(options_.xray_environment)) {
      return JsonError(403, "key " + principal.id + " may only use environment '" +
                                principal.environment + "'; X-Ray data lives in '" +
                                options_.xray_environment + "'");
    }
    std::string_view operation = std::string_view(request.path).substr(kXray.size());
    if (!IsSafeMethod(request.method) && !IsXrayReadOperation(operation) && !principal.CanAdmin()) {
      return JsonError(403, "X-Ray " + std::string(operation) +
                                " changes settings and needs an "
                                "admin key (`ariadne keys create --role admin`); key " +
                                principal.id + " is a read key");
    }
    return std::nullopt;
  }
  if (StartsWith(request.path, "/api/v1/keys") && !principal.CanAdmin()) {
    return JsonError(403, "managing keys needs an admin key");
  }
  if (principal.environment.empty()) return std::nullopt;
  const std::string& env = principal.environment;
  auto refuse = [&](std::string_view asked) {
    return JsonError(403, "key " + principal.id + " may only read environment '" + env +
                              "', not '" + std::string(asked) + "'");
  };
  // The query parameter: refuse another environment, else narrow to the key's.
  for (const auto& [name, value] : request.query) {
    if (name == "environment" && !value.empty() && value != env) return refuse(value);
  }
  std::erase_if(request.query, [](const auto& kv) { return kv.first == "environment"; });
  request.query.emplace_back("environment", env);
  // The JSON body of the analysis routes.
  if (request.method == "POST" &&
      (request.path == "/api/v1/query" || request.path == "/api/v1/bubbleup")) {
    json body = JsonNestingDepth(*request.body) > kMaxRequestJsonNesting
                    ? json(nullptr)
                    : json::parse(*request.body, nullptr, false);
    if (body.is_object()) {
      auto it = body.find("environment");
      if (it != body.end() && it->is_string() && !it->get<std::string>().empty() &&
          it->get<std::string>() != env) {
        return refuse(it->get<std::string>());
      }
      body["environment"] = env;
      request.body = std::make_shared<const std::string>(DumpJson(body));
    }
  }
  return std::nullopt;
}

}  // namespace ariadne::api
