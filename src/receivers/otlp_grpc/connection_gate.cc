#include "receivers/otlp_grpc/connection_gate.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace ariadne::receivers::otlp_grpc {
namespace {

// The inode of the socket behind `fd`, or 0 when `fd` is closed or not a socket.
ino_t SocketInode(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return 0;
  return st.st_ino;
}

}  // namespace

Result<std::unique_ptr<ConnectionGate>> ConnectionGate::Bind(const std::string& host, uint16_t port,
                                                             size_t max_connections) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const std::string port_text = std::to_string(port);
  const int rc =
      ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &result);
  if (rc != 0) {
    return Status::Unavailable("cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::string error = "no usable address";
  int fd = -1;
  for (addrinfo* ai = result; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(result);
  if (fd < 0)
    return Status::Unavailable("cannot listen on " + host + ":" + port_text + ": " + error);
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const uint16_t bound_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    ::close(fd);
    return Status::Unavailable(std::string("eventfd: ") + std::strerror(errno));
  }
  return std::unique_ptr<ConnectionGate>(new ConnectionGate(fd, wake, bound_port, max_connections));
}

ConnectionGate::ConnectionGate(int listen_fd, int wake_fd, uint16_t port, size_t max_connections)
    : listen_fd_(listen_fd), wake_fd_(wake_fd), port_(port), max_connections_(max_connections) {}

ConnectionGate::~ConnectionGate() {
  Stop();
  ::close(wake_fd_);
}

void ConnectionGate::Start(Handoff handoff) {
  handoff_ = std::move(handoff);
  thread_ = std::thread([this] { AcceptLoop(); });
}

void ConnectionGate::Stop() {
  if (stopped_) return;
  stopped_ = true;
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

size_t ConnectionGate::PruneLocked() {
  for (auto it = open_.begin(); it != open_.end();) {
    if (SocketInode(it->first) != it->second) {
      it = open_.erase(it);
    } else {
      ++it;
    }
  }
  return open_.size();
}

ConnectionGateStats ConnectionGate::Stats() {
  ConnectionGateStats stats;
  {
    MutexLock lock(&mu_);
    stats.connections_open = PruneLocked();
  }
  stats.connections_accepted = accepted_.load(std::memory_order_relaxed);
  stats.connections_refused = refused_.load(std::memory_order_relaxed);
  stats.accept_backoffs = backoffs_.load(std::memory_order_relaxed);
  return stats;
}

void ConnectionGate::AcceptLoop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) break;  // Stop
    if ((fds[0].revents & POLLIN) == 0) continue;
    while (true) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: wait a little (or for Stop) instead of spinning.
          backoffs_.fetch_add(1, std::memory_order_relaxed);
          pollfd wake = {wake_fd_, POLLIN, 0};
          if (::poll(&wake, 1, 100) > 0) return;
        }
        break;  // EAGAIN, or a connection that went away before accept
      }
      bool admit = true;
      {
        MutexLock lock(&mu_);
        if (max_connections_ > 0 && PruneLocked() >= max_connections_) {
          admit = false;
        } else {
          open_[fd] = SocketInode(fd);  // before the handoff: gRPC may close it at once
        }
      }
      if (!admit) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        ::close(fd);
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      accepted_.fetch_add(1, std::memory_order_relaxed);
      handoff_(fd);
    }
  }
}

}  // namespace ariadne::receivers::otlp_grpc
