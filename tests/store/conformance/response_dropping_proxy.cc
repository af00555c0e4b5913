#include "tests/store/conformance/response_dropping_proxy.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string_view>

namespace ariadne::testing {

ResponseDroppingProxy::ResponseDroppingProxy(uint16_t target) : target_(target) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("proxy: cannot listen on loopback");
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

ResponseDroppingProxy::~ResponseDroppingProxy() {
  stop_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  std::lock_guard<std::mutex> lock(mu_);
  for (std::thread& t : connections_) t.join();
}

void ResponseDroppingProxy::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    connections_.emplace_back([this, client] { Forward(client); });
  }
}

void ResponseDroppingProxy::Forward(int client) {
  const int server = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(target_);
  if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(server);
    close(client);
    return;
  }
  bool drop_answer = false;  // the request in flight is an INSERT whose answer is to be dropped
  char buffer[65536];
  while (!stop_) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (poll(fds, 2, 100) <= 0) continue;
    if (fds[0].revents != 0) {
      const ssize_t n = read(client, buffer, sizeof(buffer));
      if (n <= 0) break;
      // The statement travels in the request line: ?query=INSERT%20INTO…
      if (std::string_view(buffer, static_cast<size_t>(n)).find("query=INSERT") !=
              std::string_view::npos &&
          to_drop_ > 0) {
        to_drop_--;
        drop_answer = true;
      }
      if (write(server, buffer, static_cast<size_t>(n)) != n) break;
    }
    if (fds[1].revents != 0) {
      const ssize_t n = read(server, buffer, sizeof(buffer));
      if (n <= 0) break;
      if (drop_answer) {  // ClickHouse answered, so the insert is written; the client never knows
        dropped_++;
        break;
      }
      if (write(client, buffer, static_cast<size_t>(n)) != n) break;
    }
  }
  close(server);
  close(client);
}

}  // namespace ariadne::testing
