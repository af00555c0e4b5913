// StaticFiles: serves the built web UI (ui/dist) on the query port next to the API.
//
//   /assets/…          Vite's content-hashed files: `Cache-Control: public, max-age=31536000,
//                      immutable`
//   /index.html and    `no-cache` (revalidated every time, so a new build shows at once)
//   the app's routes
//   other files        `public, max-age=3600`
//
// The app routes client-side, so its pages (/, /query, /traces, /traces/{id}, /service-map,
// /xray/groups, /xray/sampling-rules, and anything else below those) are answered with
// index.html. Any other path that names no file also gets index.html, with status 404, so the app
// can show its not-found page (paths with a file extension get a plain 404 instead).
//
// Safety: a request can only read regular files below the UI folder. Paths with `..` or `.`
// segments (also percent-encoded), backslashes or NUL bytes are refused (400), and each file is
// resolved with realpath and must still lie inside the folder, so a symlink pointing out of it is
// refused (404). Responses carry an ETag (size and mtime); `If-None-Match` gets 304.
//
// When the folder has no index.html (the UI was not built) every page answers 503 with an HTML
// page that says how to build it; the API is unaffected.
//
// Threads: Serve is const and may run concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "net/http_server.h"

namespace ariadne::api {

class StaticFiles {
 public:
  // `root`: the folder holding index.html. It need not exist (then the "not built" page is shown).
  explicit StaticFiles(std::string root);

  // Answers a GET or HEAD for `request.path` (any other method gets 405).
  net::HttpResponse Serve(const net::HttpRequest& request) const;

  // True when the folder holds an index.html (checked now, not cached: a later build is seen).
  bool available() const;
  // The folder as given and, when it exists, as resolved.
  const std::string& root() const { return root_; }

  // True for the app's client-side routes ("/", "/query", "/traces/abc", "/xray/groups", …).
  static bool IsAppRoute(std::string_view path);
  // "text/javascript; charset=utf-8" for "app.js" etc.; "application/octet-stream" when unknown.
  static std::string_view ContentTypeFor(std::string_view file_name);

 private:
  net::HttpResponse ServeFile(const std::string& resolved, std::string_view cache_control,
                              int status, const net::HttpRequest& request) const;
  net::HttpResponse NotBuilt() const;

  std::string root_;      // as given
  std::string resolved_;  // realpath of root_ (empty when it does not exist)
};

// The default UI folder: `ui/dist` of the source tree the running executable was built in
// (<exe dir>/../../ui/dist for build/bin/ariadne), else <exe dir>/../share/ariadne/ui, else
// ./ui/dist. Returns the first that holds an index.html, or the first candidate when none does.
std::string DefaultUiDir();

// Routes /api/…, /healthz, /readyz and /metrics to `api` and everything else to `files`.
// `files` must outlive the returned handler.
net::HttpHandler WithStaticFiles(net::HttpHandler api, const StaticFiles* files);

// Lets the web UI reach the X-Ray API through its own origin: `POST /api/v1/xray/<Operation path>`
// (e.g. /api/v1/xray/CreateGroup, /api/v1/xray/GetSamplingRules) is handed, in process, as
// `POST /<Operation path>` with the body and `Content-Type: application/json` only, to `xray_api`
// (the X-Ray port's handler), and its answer (status, body, content type, x-amzn-ErrorType,
// Retry-After) is passed back. No thread or connection per request: the X-Ray handler answers on
// the I/O thread or from its own bounded read pool. Other requests go to `inner`.
net::HttpHandler WithXrayProxy(net::HttpHandler inner, net::HttpHandler xray_api);

}  // namespace ariadne::api
