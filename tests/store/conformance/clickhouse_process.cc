#include "tests/store/conformance/clickhouse_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "net/http_client.h"

namespace ariadne::testing {
namespace {

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 3000 ? all.substr(all.size() - 3000) : all;
}

// A minimal server config: loopback, the given ports, everything under `dir`, UTC.
std::string Config(const std::string& dir, uint16_t http, uint16_t tcp, uint16_t interserver,
                   const std::string& remote_servers) {
  std::ostringstream c;
  c << "<?xml version=\"1.0\"?>\n<yandex>\n"
    << "  <logger><level>warning</level><log>" << dir << "/log/server.log</log>"
    << "<errorlog>" << dir << "/log/server.err.log</errorlog><size>50M</size><count>1</count>"
    << "</logger>\n"
    << "  <listen_host>127.0.0.1</listen_host>\n"
    << "  <http_port>" << http << "</http_port>\n"
    << "  <tcp_port>" << tcp << "</tcp_port>\n"
    << "  <interserver_http_port>" << interserver << "</interserver_http_port>\n"
    << "  <interserver_http_host>127.0.0.1</interserver_http_host>\n"
    << "  <max_connections>128</max_connections>\n"
    << "  <keep_alive_timeout>30</keep_alive_timeout>\n"
    << "  <max_concurrent_queries>50</max_concurrent_queries>\n"
    << "  <uncompressed_cache_size>268435456</uncompressed_cache_size>\n"
    << "  <mark_cache_size>268435456</mark_cache_size>\n"
    << "  <path>" << dir << "/data/</path>\n"
    << "  <tmp_path>" << dir << "/tmp/</tmp_path>\n"
    << "  <user_files_path>" << dir << "/user_files/</user_files_path>\n"
    << "  <format_schema_path>" << dir << "/format_schemas/</format_schema_path>\n"
    << "  <users_config>" << dir << "/users.xml</users_config>\n"
    << "  <default_profile>default</default_profile>\n"
    << "  <default_database>default</default_database>\n"
    << "  <timezone>UTC</timezone>\n"
    << "  <mlock_executable>false</mlock_executable>\n"
    << remote_servers << "</yandex>\n";
  return c.str();
}

constexpr const char* kUsers =
    "<?xml version=\"1.0\"?>\n<yandex>\n"
    "  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>\n"
    "  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>"
    "<profile>default</profile><quota>default</quota></default></users>\n"
    "  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>"
    "<result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>"
    "</interval></default></quotas>\n"
    "</yandex>\n";

}  // namespace

std::optional<std::string> ClickHouseProcess::FindBinary() {
  if (const char* env = std::getenv("ARIADNE_CLICKHOUSE_SERVER"); env != nullptr && *env)
    return std::string(env);
  for (const char* path : {"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"})
    if (access(path, X_OK) == 0) return std::string(path);
  return std::nullopt;
}

std::unique_ptr<ClickHouseProcess> ClickHouseProcess::Prepare(const std::string& binary) {
  std::unique_ptr<ClickHouseProcess> ch(new ClickHouseProcess());
  std::random_device rd;
  ch->dir_ = (std::filesystem::temp_directory_path() /
              ("ariadne-clickhouse-" + std::to_string(getpid()) + "-" + std::to_string(rd())))
                 .string();
  for (const char* sub : {"log", "data", "tmp", "user_files", "format_schemas"})
    std::filesystem::create_directories(ch->dir_ + "/" + sub);
  ch->http_port_ = FreePort();
  ch->tcp_port_ = FreePort();
  ch->binary_ = binary;
  return ch;
}

void ClickHouseProcess::WriteConfig(const std::string& remote_servers) {
  std::ofstream(dir_ + "/config.xml")
      << Config(dir_, http_port_, tcp_port_, FreePort(), remote_servers);
  std::ofstream(dir_ + "/users.xml") << kUsers;
}

std::unique_ptr<ClickHouseProcess> ClickHouseProcess::Start(const std::string& binary) {
  std::unique_ptr<ClickHouseProcess> ch = Prepare(binary);
  ch->WriteConfig("");
  ch->Launch();
  return ch;
}

std::vector<std::unique_ptr<ClickHouseProcess>> ClickHouseProcess::StartCluster(
    const std::string& binary, size_t servers, const std::string& cluster) {
  std::vector<std::unique_ptr<ClickHouseProcess>> out;
  for (size_t i = 0; i < servers; ++i) out.push_back(Prepare(binary));
  std::ostringstream remote;
  remote << "  <remote_servers><" << cluster << ">";
  for (const auto& ch : out)
    remote << "<shard><replica><host>127.0.0.1</host><port>" << ch->tcp_port_
           << "</port></replica></shard>";
  remote << "</" << cluster << "></remote_servers>\n";
  for (const auto& ch : out) ch->WriteConfig(remote.str());
  for (const auto& ch : out) ch->Launch();
  return out;
}

void ClickHouseProcess::Launch() {
  const std::string config_arg = "--config-file=" + dir_ + "/config.xml";
  const std::string out_path = dir_ + "/log/stdout.log";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
    }
    if (chdir(dir_.c_str()) != 0) _exit(126);
    execl(binary_.c_str(), binary_.c_str(), config_arg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (true) {
    net::HttpClient client("127.0.0.1", http_port_, std::chrono::seconds(2));
    auto response = client.Request("GET", "/ping");
    if (response.ok() && response->status == 200) break;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pid_ = -1;
      throw std::runtime_error("clickhouse-server exited at start:\n" +
                               Tail(dir_ + "/log/server.err.log") + Tail(out_path));
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("clickhouse-server did not answer /ping within 120 s:\n" +
                               Tail(dir_ + "/log/server.err.log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void ClickHouseProcess::Restart() {
  Stop();
  Launch();
}

std::string ClickHouseProcess::Url(const std::string& database) const {
  return "clickhouse://127.0.0.1:" + std::to_string(http_port_) + "/" + database;
}

void ClickHouseProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void ClickHouseProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

ClickHouseProcess::~ClickHouseProcess() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace ariadne::testing
