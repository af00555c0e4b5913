#include "api/server_info.h"

#include <nlohmann/json.hpp>

#include "common/json_dump.h"

namespace ariadne::api {

bool SplitHostPort(std::string_view address, std::string* host, uint16_t* port) {
  if (auto scheme = address.find("://"); scheme != std::string_view::npos)
    address.remove_prefix(scheme + 3);
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= address.size()) return false;
  std::string_view host_part = address.substr(0, colon);
  if (host_part.size() >= 2 && host_part.front() == '[' && host_part.back() == ']')
    host_part = host_part.substr(1, host_part.size() - 2);
  uint32_t value = 0;
  for (char c : address.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
    if (value > 65535) return false;
  }
  *host = std::string(host_part);
  *port = static_cast<uint16_t>(value);
  return true;
}

void ServerInfo::SetListeners(std::vector<ListenerInfo> listeners) {
  MutexLock lock(&mu_);
  listeners_ = std::move(listeners);
}

net::HttpResponse ServerInfo::Response() const {
  nlohmann::json list = nlohmann::json::array();
  {
    MutexLock lock(&mu_);
    for (const ListenerInfo& l : listeners_) {
      const std::string host = l.host.find(':') != std::string::npos ? "[" + l.host + "]" : l.host;
      nlohmann::json entry = {{"name", l.name},           {"protocol", l.protocol},
                              {"transport", l.transport}, {"host", l.host},
                              {"port", l.port},           {"tls", l.tls}};
      if (l.transport == "tcp")
        entry["url"] =
            std::string(l.tls ? "https://" : "http://") + host + ":" + std::to_string(l.port);
      list.push_back(std::move(entry));
    }
  }
  return net::HttpResponse(200, "application/json",
                           DumpJson(nlohmann::json{{"listeners", std::move(list)}}) + "\n");
}

}  // namespace ariadne::api
