// ClickHouseProcess: runs Debian's clickhouse-server as an ordinary child process for tests — no
// systemd, loopback only, free ports, config and data in a temporary directory that is removed
// afterwards — and waits until its HTTP interface answers /ping.
//
// Threads: one ClickHouseProcess is driven by one thread. The destructor stops the server
// (SIGTERM, then SIGKILL after 30 s) so a failing test never leaves it behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ariadne::testing {

class ClickHouseProcess {
 public:
  // The clickhouse-server binary ($ARIADNE_CLICKHOUSE_SERVER, else /usr/sbin/clickhouse-server,
  // /usr/bin/clickhouse-server), or nullopt when it is not installed.
  static std::optional<std::string> FindBinary();

  // Starts the server; throws std::runtime_error with the log tail when it does not come up.
  static std::unique_ptr<ClickHouseProcess> Start(const std::string& binary);

  // Starts `servers` servers that all know the cluster `cluster` in their remote_servers: one
  // shard per server (one replica each, over their TCP ports), in the order returned.
  static std::vector<std::unique_ptr<ClickHouseProcess>> StartCluster(const std::string& binary,
                                                                      size_t servers,
                                                                      const std::string& cluster);

  ~ClickHouseProcess();
  ClickHouseProcess(const ClickHouseProcess&) = delete;
  ClickHouseProcess& operator=(const ClickHouseProcess&) = delete;

  uint16_t http_port() const { return http_port_; }
  uint16_t tcp_port() const { return tcp_port_; }
  pid_t pid() const { return pid_; }
  // "clickhouse://127.0.0.1:PORT/DATABASE"
  std::string Url(const std::string& database) const;
  void Stop();
  // SIGKILL, as a crash or an OOM kill would end it (no clean shutdown).
  void Kill();
  // Starts it again on the same ports and data after Stop (as an operator restarting it would).
  void Restart();

 private:
  ClickHouseProcess() = default;
  // A new process object with its directory and ports chosen, not yet configured or started.
  static std::unique_ptr<ClickHouseProcess> Prepare(const std::string& binary);
  void WriteConfig(const std::string& remote_servers);
  void Launch();
  pid_t pid_ = -1;
  uint16_t http_port_ = 0;
  uint16_t tcp_port_ = 0;
  std::string binary_;
  std::string dir_;
};

}  // namespace ariadne::testing
