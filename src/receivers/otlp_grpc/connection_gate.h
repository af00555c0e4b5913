// ConnectionGate: the OTLP/gRPC listener's own accept loop, so that the number of open connections
// can be capped like the HTTP listeners' (--otlp-grpc-max-connections). gRPC C++ 1.51 has no such
// option, so the gate binds HOST:PORT itself, accepts on one thread, and hands each connection to
// gRPC (an ExternalConnectionAcceptor, wrapped in `handoff`), which then owns and closes it; TLS
// and HTTP/2 happen inside gRPC as for its own listener.
//
// A connection beyond `max_connections` is closed at once, before any byte is read, and counted
// (the client sees the connection fail and retries with backoff); open connections are never
// touched. Which handed-off connections are still open is read from the descriptors themselves:
// each is recorded with its socket's inode, and one whose descriptor is closed (or now names
// another file) has been closed by gRPC. That check runs on each accept and on Stats().
//
// Threads: one accept thread, started by Start and joined by Stop (or the destructor); Stats may be
// called from any thread. `handoff` runs on the accept thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace ariadne::receivers::otlp_grpc {

struct ConnectionGateStats {
  uint64_t connections_open = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // closed at once: max_connections were open
  uint64_t accept_backoffs = 0;      // accept pauses for lack of file descriptors
};

class ConnectionGate {
 public:
  // Takes ownership of the descriptor it is given.
  using Handoff = std::function<void(int fd)>;

  // Binds and listens on host:port (port 0: a free port); no SO_REUSEPORT, so a port in use
  // fails (kUnavailable). Accepting starts with Start.
  static Result<std::unique_ptr<ConnectionGate>> Bind(const std::string& host, uint16_t port,
                                                      size_t max_connections);
  ~ConnectionGate();
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  uint16_t port() const { return port_; }

  void Start(Handoff handoff);
  // Stops accepting and closes the listening socket; handed-off connections stay gRPC's.
  // Idempotent.
  void Stop();

  ConnectionGateStats Stats();

 private:
  ConnectionGate(int listen_fd, int wake_fd, uint16_t port, size_t max_connections);
  void AcceptLoop();
  // Forgets connections gRPC has closed; returns how many are open.
  size_t PruneLocked() ARIADNE_REQUIRES(mu_);

  const int listen_fd_;
  const int wake_fd_;  // eventfd: Stop wakes the accept thread
  const uint16_t port_;
  const size_t max_connections_;
  Handoff handoff_;
  std::thread thread_;
  bool stopped_ = false;

  Mutex mu_;
  std::map<int, ino_t> open_ ARIADNE_GUARDED_BY(mu_);  // descriptor → its socket's inode
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> backoffs_{0};
};

}  // namespace ariadne::receivers::otlp_grpc
