#include "tests/common/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace ariadne::testing {
namespace {

uint16_t PortOf(const std::string& line) {
  return static_cast<uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
}

std::string Tail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > max_bytes ? all.substr(all.size() - max_bytes) : all;
}

}  // namespace

ServerProcess::~ServerProcess() {
  if (running()) Kill();
}

ServerProcess::ServerProcess(ServerProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      ports_(other.ports_),
      stderr_path_(std::move(other.stderr_path_)) {}

ServerProcess& ServerProcess::operator=(ServerProcess&& other) noexcept {
  if (this != &other) {
    if (running()) Kill();
    pid_ = std::exchange(other.pid_, -1);
    ports_ = other.ports_;
    stderr_path_ = std::move(other.stderr_path_);
  }
  return *this;
}

ServerProcess ServerProcess::Start(const std::string& binary, const std::string& data_dir,
                                   const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {binary,        "serve", "--data-dir",  data_dir,
                                   "--otlp-http", "0",     "--otlp-grpc", "0",
                                   "--http",      "0",     "--xray",      "0"};
  args.insert(args.end(), {"--zipkin", "0"});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  ServerProcess server;
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  server.stderr_path_ = dir + ".stderr.log";

  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    int err = open(server.stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (err >= 0) dup2(err, STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  server.pid_ = pid;
  FILE* out = fdopen(pipe_fds[0], "r");
  char line[512];
  auto all_listening = [&server] {
    return server.ports_.otlp_http != 0 && server.ports_.otlp_grpc != 0 &&
           server.ports_.http != 0 && server.ports_.xray != 0 && server.ports_.zipkin != 0;
  };
  while (!all_listening() && fgets(line, sizeof(line), out)) {
    std::string text(line);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (text.rfind("listening otlp-http ", 0) == 0) server.ports_.otlp_http = PortOf(text);
    if (text.rfind("listening otlp-grpc ", 0) == 0) server.ports_.otlp_grpc = PortOf(text);
    if (text.rfind("listening http ", 0) == 0) server.ports_.http = PortOf(text);
    if (text.rfind("listening xray ", 0) == 0) server.ports_.xray = PortOf(text);
    if (text.rfind("listening zipkin ", 0) == 0) server.ports_.zipkin = PortOf(text);
  }
  fclose(out);  // the server prints nothing more on stdout
  if (!all_listening()) {
    server.Kill();
    throw std::runtime_error("ariadne serve did not print its listening lines; stderr:\n" +
                             Tail(server.stderr_path_, 4000));
  }
  return server;
}

int ServerProcess::Stop(int signal_number) {
  if (!running()) return -1;
  kill(pid_, signal_number);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

std::string AriadneBinaryFromArgs(int* argc, char** argv) {
  std::string binary;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp(argv[i], "--ariadne=", 10) == 0) {
      binary = argv[i] + 10;
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  if (binary.empty()) {
    if (const char* env = std::getenv("ARIADNE_BIN")) binary = env;
  }
  return binary;
}

}  // namespace ariadne::testing
