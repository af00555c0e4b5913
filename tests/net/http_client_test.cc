// HttpClient against a scripted raw-socket server on 127.0.0.1: what it does when a kept-alive
// connection goes away, before or after a request was sent on it.
#include "net/http_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace ariadne::net {
namespace {

// Accepts connections one after another and runs `script` on each (with its index). Counts the
// requests it read, so tests can tell whether the client sent one twice.
class ScriptedServer {
 public:
  using Script = std::function<void(int fd, int connection, ScriptedServer& server)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (int connection = 0;; ++connection) {
        int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) return;
        script_(fd, connection, *this);
        ::close(fd);
      }
    });
  }
  ~ScriptedServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }

  uint16_t port() const { return port_; }
  int requests_seen() const { return requests_seen_; }

  // Reads one request with a Content-Length body; false on EOF.
  bool ReadRequest(int fd) {
    std::string data;
    char c;
    while (data.find("\r\n\r\n") == std::string::npos) {
      if (::recv(fd, &c, 1, 0) != 1) return false;
      data.push_back(c);
    }
    size_t length = 0;
    if (size_t at = data.find("Content-Length: "); at != std::string::npos) {
      length = std::stoul(data.substr(at + 16));
    }
    for (size_t i = 0; i < length; ++i) {
      if (::recv(fd, &c, 1, 0) != 1) return false;
    }
    ++requests_seen_;
    return true;
  }
  static void Answer(int fd, const std::string& body) {
    std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\nConnection: keep-alive\r\n\r\n" + body;
    ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
  }

 private:
  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> requests_seen_{0};
  std::thread thread_;
};

TEST(HttpClientTest, PostAfterTheServerClosedAnIdleConnectionGoesOutOnAFreshOne) {
  std::atomic<bool> first_closed{false};
  ScriptedServer server([&](int fd, int connection, ScriptedServer& s) {
    if (!s.ReadRequest(fd)) return;
    ScriptedServer::Answer(fd, "answer " + std::to_string(connection));
    if (connection == 0) {
      first_closed = true;  // idle timeout: close right after the response
      return;
    }
    while (s.ReadRequest(fd)) ScriptedServer::Answer(fd, "again");
  });
  HttpClient client("127.0.0.1", server.port());
  auto first = client.Request("POST", "/x", {}, "one");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->body, "answer 0");
  while (!first_closed) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the FIN arrive

  auto second = client.Request("POST", "/x", {}, "two");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "answer 1");
  EXPECT_EQ(server.requests_seen(), 2);
}

// The server reads the request, then drops the connection without answering: it may have acted on
// it, so a POST must not be sent again behind the caller's back; a GET may be.
ScriptedServer::Script DropsTheSecondRequestOfTheFirstConnection() {
  return [](int fd, int connection, ScriptedServer& s) {
    if (connection > 0) {
      while (s.ReadRequest(fd)) ScriptedServer::Answer(fd, "retried");
      return;
    }
    if (!s.ReadRequest(fd)) return;
    ScriptedServer::Answer(fd, "first");
    s.ReadRequest(fd);  // read the second, then hang up without a response
  };
}

TEST(HttpClientTest, PostLostWithAReusedConnectionIsNotSentAgain) {
  ScriptedServer server(DropsTheSecondRequestOfTheFirstConnection());
  HttpClient client("127.0.0.1", server.port());
  ASSERT_TRUE(client.Request("POST", "/x", {}, "one").ok());
  auto second = client.Request("POST", "/x", {}, "two");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAborted);
  EXPECT_EQ(server.requests_seen(), 2);
}

TEST(HttpClientTest, GetLostWithAReusedConnectionIsRetriedOnce) {
  ScriptedServer server(DropsTheSecondRequestOfTheFirstConnection());
  HttpClient client("127.0.0.1", server.port());
  ASSERT_TRUE(client.Request("GET", "/x").ok());
  auto second = client.Request("GET", "/x");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "retried");
  EXPECT_EQ(server.requests_seen(), 3);
}

}  // namespace
}  // namespace ariadne::net
