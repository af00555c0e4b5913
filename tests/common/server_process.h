// ServerProcess: runs the real `ariadne serve` binary as a child process for end-to-end tests —
// free ports (0) for every listener, a caller-chosen data directory and extra flags — and reads
// back the ports from its `listening NAME HOST:PORT` lines.
//
// Threads: one ServerProcess is driven by one test thread. The destructor kills a still-running
// child with SIGKILL and reaps it, so a failing test never leaves a server behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ariadne::testing {

struct ServerPorts {
  uint16_t otlp_http = 0;
  uint16_t otlp_grpc = 0;
  uint16_t http = 0;
  uint16_t xray = 0;  // TCP and UDP share it
  uint16_t zipkin = 0;
};

class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();
  ServerProcess(ServerProcess&& other) noexcept;
  ServerProcess& operator=(ServerProcess&& other) noexcept;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts `binary serve --data-dir DIR --otlp-http 0 --otlp-grpc 0 --http 0 --xray 0 --zipkin 0
  // EXTRA...` and waits until it printed its listening lines. Throws std::runtime_error (with the
  // server's stderr tail when it exited early) when it does not come up.
  static ServerProcess Start(const std::string& binary, const std::string& data_dir,
                             const std::vector<std::string>& extra_args = {});

  const ServerPorts& ports() const { return ports_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Where the child's stderr goes (a file beside the data directory).
  const std::string& stderr_path() const { return stderr_path_; }

  // Sends `signal_number` and waits: the exit code, or 128 + the signal that ended it.
  int Stop(int signal_number);
  // SIGKILL and reap, as a crash would.
  void Kill() { (void)Stop(9); }

 private:
  pid_t pid_ = -1;
  ServerPorts ports_;
  std::string stderr_path_;
};

// The path given as --ariadne=PATH on the command line of a gtest main, or $ARIADNE_BIN.
// Removes the flag from argv so gtest does not see it.
std::string AriadneBinaryFromArgs(int* argc, char** argv);

}  // namespace ariadne::testing
