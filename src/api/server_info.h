// ServerInfo: what GET /api/v1/info answers — the addresses this server listens on, so the web UI
// can show setup help with the real ports instead of the defaults:
//
//   {"listeners": [{"name": "otlp-http", "protocol": "OTLP/HTTP", "transport": "tcp",
//                   "host": "127.0.0.1", "port": 4318, "tls": false,
//                   "url": "http://127.0.0.1:4318"}, …]}
//
// Listener names: otlp-http (OTLP/HTTP, POST /v1/traces), xray-udp (the X-Ray daemon protocol),
// xray-tcp (the X-Ray API: sampling rules, groups, PutTraceSegments), http (this API and the UI).
// `host` is the address as bound (0.0.0.0 or :: when listening on every interface; clients then
// use the name they reached the UI by).
//
// Who calls it: `ariadne serve` sets the listeners once they are bound (SetListeners); ApiHandler
// answers the route. Threads: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/thread_annotations.h"
#include "net/http_server.h"

namespace ariadne::api {

struct ListenerInfo {
  std::string name;       // otlp-http, xray-udp, xray-tcp, http
  std::string protocol;   // a label for people: "OTLP/HTTP", "X-Ray daemon (UDP)"
  std::string transport;  // tcp or udp
  std::string host;       // as bound, without brackets
  uint16_t port = 0;
  bool tls = false;
};

// "127.0.0.1:2000", "[::1]:2000", "https://h:1" → host and port; false when it is not HOST:PORT.
bool SplitHostPort(std::string_view address, std::string* host, uint16_t* port);

class ServerInfo {
 public:
  void SetListeners(std::vector<ListenerInfo> listeners);

  // The JSON document of GET /api/v1/info.
  net::HttpResponse Response() const;

 private:
  mutable Mutex mu_;
  std::vector<ListenerInfo> listeners_ ARIADNE_GUARDED_BY(mu_);
};

}  // namespace ariadne::api
