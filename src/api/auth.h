// ApiAuth: who may do what on the query/UI port (8686). Every request passes through Wrap's
// handler before any route sees it; the checks live here, not in the route handlers.
//
// In order:
//  1. Host (DNS rebinding): the Host header must name this server: a loopback name (localhost,
//     *.localhost), an IP literal, or the host of a --public-url. Otherwise 421 with a message
//     naming --public-url. /healthz and /readyz are exempt (probes).
//  2. Cross-site requests (CSRF): a state-changing request (anything but GET/HEAD/OPTIONS) is
//     refused with 403 when `Sec-Fetch-Site` says cross-site/same-site, or when `Origin` is not
//     this server's own origin (the Host it was sent to, or a --public-url); then a change under
//     /api/ must be `Content-Type: application/json` (415 otherwise), which no HTML form can send.
//  3. Session routes, answered here:
//       POST /api/v1/login   {"key": "…"} with a read or admin key → a session cookie
//                            (`ariadne_session`, HttpOnly, SameSite=Strict, Path=/, Max-Age),
//                            {"role", "environment", "id"}
//       POST /api/v1/logout  forgets the session, clears the cookie
//       GET  /api/v1/session {"open", "role", "environment", "id"} or 401
//  4. With no key configured (open server) everything else passes. Otherwise every /api/ route
//     needs a read or admin key, from `Authorization: Bearer KEY` or the session cookie: 401
//     without one, 403 for an ingest key. X-Ray operations that change something (POST
//     /api/v1/xray/Create…, Update…, Delete…, SamplingTargets, TraceSegments, TelemetryRecords)
//     need an admin key. The UI's static files, /healthz, /readyz and /metrics need no key.
//  5. A key scoped to an environment: an `environment` query parameter or JSON body field naming
//     another environment is 403; a request that names none is narrowed to the key's
//     environment (the parameter and, for POST /api/v1/query and /api/v1/bubbleup, the body
//     field are set). The /api/v1/xray/ routes serve the X-Ray environment only, so they need a
//     key covering it.
//
// Threads: the wrapped handler may run concurrently; the registry must outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/thread_annotations.h"
#include "net/http_server.h"
#include "pipeline/keys.h"

namespace ariadne::api {

struct ApiAuthOptions {
  // --public-url values (e.g. "https://tracing.example.com"): their host is accepted in Host and
  // their origin in Origin. An https one makes the session cookie `Secure`.
  std::vector<std::string> public_urls;
  std::string xray_environment = "default";
  std::chrono::seconds session_ttl = std::chrono::hours(12);
  size_t max_sessions = 10'000;  // the oldest session is dropped beyond this
};

// Server-side sessions: random 256-bit tokens → principal and expiry.
class SessionStore {
 public:
  SessionStore(std::chrono::seconds ttl, size_t max_sessions);
  // A new session for `principal`; returns its token.
  std::string Create(const pipeline::Principal& principal);
  // The session's principal, or nullopt when unknown or expired (an expired one is removed).
  std::optional<pipeline::Principal> Find(std::string_view token);
  void Remove(std::string_view token);

 private:
  struct Session {
    pipeline::Principal principal;
    std::chrono::steady_clock::time_point expires;
  };
  const std::chrono::seconds ttl_;
  const size_t max_sessions_;
  Mutex mu_;
  std::map<std::string, Session, std::less<>> sessions_ ARIADNE_GUARDED_BY(mu_);
};

class ApiAuth {
 public:
  // `keys` (may be empty: an open server) must outlive this object.
  ApiAuth(const pipeline::KeyRegistry* keys, ApiAuthOptions options);

  // `inner` behind the checks above.
  net::HttpHandler Wrap(net::HttpHandler inner);

  // The checks as a function, for tests and Wrap: an answer when the request is refused or was a
  // session route, else nullopt (and `request` may have been narrowed to an environment).
  std::optional<net::HttpResponse> Check(net::HttpRequest& request);

  bool open() const { return keys_->empty(); }

 private:
  std::optional<net::HttpResponse> CheckHost(const net::HttpRequest& request) const;
  std::optional<net::HttpResponse> CheckCrossSite(const net::HttpRequest& request) const;
  std::optional<net::HttpResponse> SessionRoute(const net::HttpRequest& request);
  std::optional<pipeline::Principal> PrincipalOf(const net::HttpRequest& request,
                                                 std::optional<net::HttpResponse>* refusal);
  std::optional<net::HttpResponse> Authorize(net::HttpRequest& request,
                                             const pipeline::Principal& principal) const;
  std::string Cookie(std::string_view token, std::chrono::seconds max_age) const;

  const pipeline::KeyRegistry* keys_;
  ApiAuthOptions options_;
  std::vector<std::string> public_hosts_;    // lowercase host[:port]
  std::vector<std::string> public_origins_;  // lowercase scheme://host[:port]
  bool secure_cookie_ = false;
  SessionStore sessions_;
};

// Whether `host_header` (a Host header value) names this server by default: a loopback name or an
// IP literal (DNS rebinding needs a domain name, so IP literals are safe to accept).
bool IsDefaultAllowedHost(std::string_view host_header);

// "https://Example.com:8443/ui" → "https://example.com:8443"; "" when not an http(s) URL.
std::string OriginOfUrl(std::string_view url);

}  // namespace ariadne::api
