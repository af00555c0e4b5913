// ApplyClientTls: makes a CLI HttpClient speak TLS when its server URL is https://, verifying the
// server with --ca-file (or the system's trust store) unless --insecure.
#pragma once

#include "cli/commands.h"
#include "net/http_client.h"

namespace ariadne::cli {

inline void ApplyClientTls(const net::ParsedUrl& url, const ClientTlsConfig& tls,
                           net::HttpClient* client) {
  if (url.tls) client->UseTls({tls.ca_file, !tls.insecure});
}

}  // namespace ariadne::cli
