// ClickHouseClient: runs SQL statements against ClickHouse's HTTP interface, trying the configured
// hosts in order, with a small pool of kept-alive connections per host.
//
// URL form accepted by ParseClickHouseUrl (docs/clickhouse.md):
//   clickhouse://[USER[:PASSWORD]@]HOST[:PORT][,HOST[:PORT]...][/DATABASE][?cluster=NAME]
// PORT defaults to 8123, DATABASE to "ariadne". Without `cluster` several hosts are alternatives
// (replicas or a load balancer); with it they are the servers of the ClickHouse cluster NAME
// (its remote_servers entry), every one of which gets the local tables (schema.h). USER/PASSWORD
// fall back to the environment variables ARIADNE_CLICKHOUSE_USER / ARIADNE_CLICKHOUSE_PASSWORD,
// then to "default" / "".
//
// Errors: kUnavailable when no host could be reached (or a host answered 5xx for a reason that a
// retry may fix: it was overloaded, out of memory or disk, shutting down); kInternal when
// ClickHouse refused the statement itself (the message carries ClickHouse's text).
//
// Threads: every method may be called from any thread; connections are taken from and returned
// to a pool under a mutex, never shared by two requests at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace ariadne::net {
class HttpClient;
}

namespace ariadne::store::clickhouse {

struct ClickHouseHost {
  std::string host;
  uint16_t port = 8123;
};

struct ClickHouseConfig {
  std::vector<ClickHouseHost> hosts;
  std::string database = "ariadne";
  std::string user = "default";
  std::string password;
  std::string cluster;  // the remote_servers cluster to shard over; empty: one server
};

// Parses a clickhouse:// URL; `getenv` supplies the user/password defaults (tests pass their own).
Result<ClickHouseConfig> ParseClickHouseUrl(std::string_view url,
                                            const char* (*getenv)(const char*) = nullptr);

// Percent-encodes `text` for a URL query parameter.
std::string UrlEncode(std::string_view text);

class ClickHouseClient {
 public:
  explicit ClickHouseClient(ClickHouseConfig config,
                            std::chrono::milliseconds timeout = std::chrono::seconds(300));
  ~ClickHouseClient();
  ClickHouseClient(const ClickHouseClient&) = delete;
  ClickHouseClient& operator=(const ClickHouseClient&) = delete;

  // Runs one statement (sent as the POST body) and returns ClickHouse's answer as text.
  // `use_database`: false for statements that must run before the database exists.
  Result<std::string> Query(std::string_view sql, bool use_database = true);

  // INSERT with data: `insert` ("INSERT INTO t FORMAT RowBinary") goes in the URL, `data` is the
  // body. Returns once ClickHouse has written the data (synchronous insert). Sent on a new
  // connection: net::HttpClient resends a request on a kept-alive connection that gave no answer,
  // and an INSERT resent behind the caller's back could be stored twice (idempotent_insert.h
  // retries it knowingly instead).
  Status Insert(std::string_view insert, std::string_view data);
  // The same with extra URL settings (`&name=value…`), e.g. the query id of an insert.
  Status Insert(std::string_view insert, std::string_view data, std::string_view settings);

  const ClickHouseConfig& config() const { return config_; }

  // Bytes of the successful answers received so far (tests count what a read transfers).
  uint64_t bytes_received() const { return bytes_received_.load(std::memory_order_relaxed); }

  // A client for host `index` of the config alone (cluster mode runs DDL and retention on every
  // server, not just the one that answers).
  std::unique_ptr<ClickHouseClient> ForHost(size_t index) const;

 private:
  Result<std::string> Send(std::string_view extra_params, std::string_view body, bool use_database,
                           bool fresh_connection);
  std::unique_ptr<net::HttpClient> Take(size_t host);
  void Give(size_t host, std::unique_ptr<net::HttpClient> client);

  const ClickHouseConfig config_;
  std::atomic<uint64_t> bytes_received_{0};
  const std::chrono::milliseconds timeout_;
  Mutex mu_;
  std::vector<std::vector<std::unique_ptr<net::HttpClient>>> idle_ ARIADNE_GUARDED_BY(mu_);
  size_t preferred_ ARIADNE_GUARDED_BY(mu_) = 0;  // the host that answered last
};

}  // namespace ariadne::store::clickhouse
