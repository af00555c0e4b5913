#include "store/clickhouse/clickhouse_client.h"

#include <cctype>
#include <cstdlib>
#include <utility>

#include "net/http_client.h"

namespace ariadne::store::clickhouse {
namespace {

// ClickHouse error codes (its ErrorCodes table) that mean the statement itself is wrong; anything
// else (too many parts, memory, timeouts, disk) may pass on a retry.
bool IsStatementError(std::string_view body) {
  static constexpr int kCodes[] = {27, 36, 41, 42, 43, 44, 46, 47, 53, 60, 62, 70, 81, 117, 215};
  std::string_view::size_type at = body.find("Code: ");
  if (at == std::string_view::npos) return false;
  int code = std::atoi(std::string(body.substr(at + 6, 8)).c_str());
  for (int c : kCodes)
    if (c == code) return true;
  return false;
}

std::string Trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.size() > 1000) text = text.substr(0, 1000);
  return std::string(text);
}

}  // namespace

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<ClickHouseConfig> ParseClickHouseUrl(std::string_view url,
                                            const char* (*getenv_fn)(const char*)) {
  constexpr std::string_view kScheme = "clickhouse://";
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("--store " + std::string(url) + ": " + why +
                                   " (expected clickhouse://[USER[:PASSWORD]@]HOST[:PORT]"
                                   "[,HOST[:PORT]...][/DATABASE][?cluster=NAME])");
  };
  if (url.substr(0, kScheme.size()) != kScheme) return bad("not a clickhouse:// URL");
  std::string_view rest = url.substr(kScheme.size());
  ClickHouseConfig config;
  auto plain_name = [](std::string_view name) {
    for (char c : name)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return !name.empty();
  };
  if (std::string_view::size_type question = rest.find('?'); question != std::string_view::npos) {
    std::string_view params = rest.substr(question + 1);
    rest = rest.substr(0, question);
    while (!params.empty()) {
      std::string_view::size_type amp = params.find('&');
      std::string_view param = params.substr(0, amp);
      params = amp == std::string_view::npos ? std::string_view() : params.substr(amp + 1);
      constexpr std::string_view kCluster = "cluster=";
      if (param.substr(0, kCluster.size()) != kCluster)
        return bad("unknown parameter '" + std::string(param) + "' (only cluster=NAME)");
      config.cluster = std::string(param.substr(kCluster.size()));
      if (!plain_name(config.cluster))
        return bad("the cluster name may hold letters, digits and '_' only");
    }
  }
  if (getenv_fn == nullptr)
    getenv_fn = [](const char* name) -> const char* { return std::getenv(name); };
  if (const char* user = getenv_fn("ARIADNE_CLICKHOUSE_USER"); user != nullptr && *user)
    config.user = user;
  if (const char* password = getenv_fn("ARIADNE_CLICKHOUSE_PASSWORD"); password != nullptr)
    config.password = password;
  if (std::string_view::size_type slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) {
      for (char c : db)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
          return bad("the database name may hold letters, digits and '_' only");
      config.database = std::string(db);
    }
  }
  if (std::string_view::size_type at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    std::string_view::size_type colon = credentials.find(':');
    config.user = std::string(credentials.substr(0, colon));
    if (colon != std::string_view::npos)
      config.password = std::string(credentials.substr(colon + 1));
    if (config.user.empty()) return bad("empty user name before '@'");
  }
  while (!rest.empty()) {
    std::string_view::size_type comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    ClickHouseHost host;
    std::string_view::size_type colon = item.rfind(':');
    host.host = std::string(item.substr(0, colon));
    if (colon != std::string_view::npos) {
      std::string port(item.substr(colon + 1));
      char* end = nullptr;
      long value = std::strtol(port.c_str(), &end, 10);
      if (port.empty() || *end != '\0' || value <= 0 || value > 65535)
        return bad("bad port '" + port + "'");
      host.port = static_cast<uint16_t>(value);
    }
    if (host.host.empty()) return bad("empty host name");
    config.hosts.push_back(std::move(host));
  }
  if (config.hosts.empty()) return bad("no host");
  return config;
}

ClickHouseClient::ClickHouseClient(ClickHouseConfig config, std::chrono::milliseconds timeout)
    : config_(std::move(config)), timeout_(timeout) {
  MutexLock lock(&mu_);
  idle_.resize(config_.hosts.size());
}

ClickHouseClient::~ClickHouseClient() = default;

std::unique_ptr<net::HttpClient> ClickHouseClient::Take(size_t host) {
  {
    MutexLock lock(&mu_);
    if (!idle_[host].empty()) {
      std::unique_ptr<net::HttpClient> client = std::move(idle_[host].back());
      idle_[host].pop_back();
      return client;
    }
  }
  const ClickHouseHost& h = config_.hosts[host];
  return std::make_unique<net::HttpClient>(h.host, h.port, timeout_);
}

void ClickHouseClient::Give(size_t host, std::unique_ptr<net::HttpClient> client) {
  MutexLock lock(&mu_);
  if (idle_[host].size() < 16) idle_[host].push_back(std::move(client));
}

Result<std::string> ClickHouseClient::Send(std::string_view extra_params, std::string_view body,
                                           bool use_database, bool fresh_connection) {
  std::string target = "/?user=" + UrlEncode(config_.user);
  if (!config_.password.empty()) target += "&password=" + UrlEncode(config_.password);
  if (use_database) target += "&database=" + UrlEncode(config_.database);
  // Statements with long id lists (X-Ray filters restrict to `trace_id IN (…)`) exceed the
  // default 256 KiB parser limit.
  target += "&max_query_size=67108864";
  target.append(extra_params);
  size_t first;
  {
    MutexLock lock(&mu_);
    first = preferred_;
  }
  std::string failures;
  const size_t n = config_.hosts.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t host = (first + i) % n;
    std::unique_ptr<net::HttpClient> client;
    if (fresh_connection) {
      client = std::make_unique<net::HttpClient>(config_.hosts[host].host, config_.hosts[host].port,
                                                 timeout_);
    } else {
      client = Take(host);
    }
    Result<net::ClientResponse> response = client->Request("POST", target, {}, body);
    const std::string where =
        config_.hosts[host].host + ":" + std::to_string(config_.hosts[host].port);
    if (!response.ok()) {
      failures +=
          (failures.empty() ? "" : "; ") + where + ": " + std::string(response.status().message());
      continue;  // the connection is dropped; try the next host
    }
    if (!response->connection_closed) Give(host, std::move(client));
    {
      MutexLock lock(&mu_);
      preferred_ = host;
    }
    if (response->status == 200) {
      bytes_received_.fetch_add(response->body.size(), std::memory_order_relaxed);
      return std::move(response->body);
    }
    std::string text = "ClickHouse at " + where + " answered " + std::to_string(response->status) +
                       ": " + Trimmed(response->body);
    // Ariadne writes every statement itself: one ClickHouse refuses is Ariadne's bug, not the
    // caller's, and retrying will not help.
    if (IsStatementError(response->body)) return Status::Internal(std::move(text));
    return Status::Unavailable(std::move(text));
  }
  return Status::Unavailable("cannot reach ClickHouse (" + failures +
                             "); check that clickhouse-server runs and --store names it");
}

Result<std::string> ClickHouseClient::Query(std::string_view sql, bool use_database) {
  return Send("", sql, use_database, false);
}

Status ClickHouseClient::Insert(std::string_view insert, std::string_view data) {
  return Insert(insert, data, "");
}

Status ClickHouseClient::Insert(std::string_view insert, std::string_view data,
                                std::string_view settings) {
  Result<std::string> answer =
      Send("&query=" + UrlEncode(insert) + std::string(settings), data, true, true);
  return answer.ok() ? Status::Ok() : answer.status();
}

std::unique_ptr<ClickHouseClient> ClickHouseClient::ForHost(size_t index) const {
  ClickHouseConfig one = config_;
  one.hosts = {config_.hosts[index]};
  return std::make_unique<ClickHouseClient>(std::move(one), timeout_);
}

}  // namespace ariadne::store::clickhouse
