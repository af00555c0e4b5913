// ResponseDroppingProxy: a TCP proxy on loopback in front of a ClickHouse HTTP port that can throw
// away ClickHouse's answer to an INSERT — the insert is done, but the client sees its connection
// cut, as after a network failure or a proxy timeout. Tests use it to check that a retried insert
// does not store its rows twice.
//
// Threads: one thread accepts, one thread per connection forwards both ways (test-only scale);
// the public methods may be called from any thread. The destructor stops everything.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace ariadne::testing {

class ResponseDroppingProxy {
 public:
  // Listens on 127.0.0.1 (a free port) and forwards each connection to 127.0.0.1:`target`.
  explicit ResponseDroppingProxy(uint16_t target);
  ~ResponseDroppingProxy();
  ResponseDroppingProxy(const ResponseDroppingProxy&) = delete;
  ResponseDroppingProxy& operator=(const ResponseDroppingProxy&) = delete;

  uint16_t port() const { return port_; }

  // The answers to the next `n` INSERT requests are read from ClickHouse (so the insert has
  // finished) and dropped: the proxy closes the client's connection instead of forwarding them.
  void DropInsertAnswers(int n) { to_drop_ = n; }
  int dropped() const { return dropped_; }

 private:
  void AcceptLoop();
  void Forward(int client);

  const uint16_t target_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> to_drop_{0};
  std::atomic<int> dropped_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> connections_;  // guarded by mu_
};

}  // namespace ariadne::testing
