// `ariadne trace <id>`: fetches a trace from the query API and prints it as a tree.
#include <cstdio>

#include "api/trace_tree.h"
#include "cli/client_tls.h"
#include "cli/commands.h"
#include "net/http_client.h"

namespace ariadne::cli {

int RunTrace(const TraceConfig& config) {
  auto url = net::ParseHttpUrl(config.server);
  if (!url.ok()) {
    std::fprintf(stderr, "ariadne trace: --server: %s\n",
                 std::string(url.status().message()).c_str());
    return 2;
  }
  std::string base = url->path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string target = base + "/api/v1/traces/" + net::PercentDecode(config.trace_id, false);
  if (!config.environment.empty()) target += "?environment=" + config.environment;
  net::HttpClient client(url->host, url->port);
  ApplyClientTls(*url, config.tls, &client);
  net::HeaderList headers = {{"Accept", "application/json"}};
  if (std::string key = ApiKeyFrom(config.key); !key.empty()) {
    headers.emplace_back("Authorization", "Bearer " + key);
  }
  auto response = client.Request("GET", target, headers);
  if (!response.ok()) {
    std::fprintf(stderr,
                 "ariadne trace: cannot reach %s: %s\n"
                 "  is `ariadne serve` running? point at it with --server http://HOST:PORT\n",
                 config.server.c_str(), std::string(response.status().message()).c_str());
    return 1;
  }
  if (response->status == 401 || response->status == 403) {
    std::fprintf(stderr,
                 "ariadne trace: %s refused (%d): %s\n"
                 "  pass a read key with --key KEY or ARIADNE_KEY=KEY (`ariadne keys create "
                 "--role read`)\n",
                 config.server.c_str(), response->status, response->body.c_str());
    return 1;
  }
  if (response->status == 404) {
    std::fprintf(stderr,
                 "ariadne trace: trace %s not found on %s\n"
                 "  spans may still be in flight (exporters batch for a few seconds), or they "
                 "went to another server or environment\n",
                 config.trace_id.c_str(), config.server.c_str());
    return 1;
  }
  if (response->status != 200) {
    std::fprintf(stderr, "ariadne trace: server answered %d: %s\n", response->status,
                 response->body.c_str());
    return 1;
  }
  if (config.json) {
    std::fwrite(response->body.data(), 1, response->body.size(), stdout);
    return 0;
  }
  auto tree = api::RenderTraceTree(response->body);
  if (!tree.ok()) {
    std::fprintf(stderr, "ariadne trace: %s\n", std::string(tree.status().message()).c_str());
    return 1;
  }
  std::fwrite(tree->data(), 1, tree->size(), stdout);
  return 0;
}

}  // namespace ariadne::cli
