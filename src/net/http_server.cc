// The Beast/Asio implementation of HttpServer: the listener (accept loop, connection cap, accept
// back-off, Stop). Connections are served by Session (net/http_session.h). This is the only
// translation unit of the server that includes Beast (it costs ~11 s and ~660 MB to compile; see
// docs/dependencies.md).
//
// Structure: one io_context run by `io_threads` threads; one acceptor; one Session per connection
// whose socket lives on its own strand.
//
// Lifetime: the server keeps a strong reference to every live Session in `sessions_`; `respond`
// holds only a weak reference plus the shared Gate, so a response that arrives after Stop() (for
// example from the store's commit thread during shutdown) is dropped without touching a destroyed
// io_context.

// Boost 1.74 + GCC 12 + C++20: include <utility> before any Asio header (see http_session.h).
#include <utility>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "net/http_server.h"
#include "net/http_session.h"

namespace ariadne::net {
namespace {

using namespace http_detail;  // NOLINT(build/namespaces): the private half of this file

class BeastHttpServer final : public HttpServer {
 public:
  BeastHttpServer(HttpHandler handler, HttpServerOptions options)
      : core_(std::make_unique<Core>(std::max(1, options.io_threads))),
        acceptor_(asio::make_strand(core_->ioc)),
        backoff_timer_(acceptor_.get_executor()) {
    core_->handler = std::move(handler);
    core_->options = std::move(options);
    core_->budget = std::make_shared<ByteBudget>(core_->options.max_buffered_bytes);
    if (core_->options.io_threads < 1) core_->options.io_threads = 1;
  }

  ~BeastHttpServer() override { Stop(); }

  Status Listen(const std::string& host, uint16_t port) {
    beast::error_code ec;
    asio::ip::address address = asio::ip::make_address(host, ec);
    if (ec) {
      tcp::resolver resolver(core_->ioc);
      auto results = resolver.resolve(host, std::to_string(port), ec);
      if (ec || results.empty()) {
        return Status::InvalidArgument("cannot resolve listen host '" + host +
                                       "': " + ec.message() +
                                       "; use an IP address such as 127.0.0.1 or 0.0.0.0");
      }
      address = results.begin()->endpoint().address();
    }
    tcp::endpoint endpoint(address, port);
    std::string where = address.to_string() + ":" + std::to_string(port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + where + " for " + core_->options.name +
                                 ": " + ec.message() +
                                 " (is another server using the port? pick another with --" +
                                 core_->options.name + " HOST:PORT, or port 0 for a free one)");
    }
    auto local = acceptor_.local_endpoint(ec);
    bound_port_ = local.port();
    bound_host_ = local.address().to_string();
    return Status::Ok();
  }

  void Run() {
    Accept();
    for (int i = 0; i < core_->options.io_threads; ++i) {
      threads_.emplace_back([this] {
        for (;;) {
          try {
            core_->ioc.run();
            return;
          } catch (const std::exception& e) {
            std::fprintf(stderr, "%s: I/O thread caught: %s\n", core_->options.name.c_str(),
                         e.what());
          }
        }
      });
    }
  }

  uint16_t bound_port() const override { return bound_port_; }
  std::string bound_host() const override { return bound_host_; }
  bool tls() const override { return core_->options.tls != nullptr; }
  HttpServerStats stats() const override {
    HttpServerStats stats;
    stats.connections_open = core_->SessionCount();
    stats.connections_accepted = core_->accepted.load(std::memory_order_relaxed);
    stats.connections_refused = core_->refused.load(std::memory_order_relaxed);
    stats.accept_backoffs = core_->backoffs.load(std::memory_order_relaxed);
    stats.rejected_before_body = core_->rejected_before_body.load(std::memory_order_relaxed);
    stats.body_budget_refused = core_->budget->refused();
    stats.body_bytes_buffered = core_->budget->used();
    stats.tls_handshake_failures = core_->tls_handshake_failures.load(std::memory_order_relaxed);
    stats.plaintext_on_tls = core_->plaintext_on_tls.load(std::memory_order_relaxed);
    return stats;
  }

  void Stop() override {
    std::lock_guard<std::mutex> stop_lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    {
      std::lock_guard<std::mutex> lock(core_->gate->mu);
      core_->gate->open = false;
    }
    core_->ioc.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    beast::error_code ec;
    acceptor_.close(ec);
    backoff_timer_.cancel();
    std::unordered_map<SessionBase*, std::shared_ptr<SessionBase>> sessions;
    {
      std::lock_guard<std::mutex> lock(core_->sessions_mu);
      sessions.swap(core_->sessions);
    }
    for (auto& [ptr, session] : sessions) session->CloseNow();
    sessions.clear();
  }

 private:
  void Accept() {
    acceptor_.async_accept(
        asio::make_strand(core_->ioc), [this](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
          if (ec) return AcceptFailed(ec);
          if (in_backoff_episode_) {
            in_backoff_episode_ = false;
            std::fprintf(stderr, "%s: accepting connections again\n", core_->options.name.c_str());
          }
          core_->accepted.fetch_add(1, std::memory_order_relaxed);
          const size_t cap = core_->options.max_connections;
          if (cap > 0 && core_->SessionCount() >= cap) {
            // Over the cap: close at once, so the descriptor is free again.
            core_->refused.fetch_add(1, std::memory_order_relaxed);
            beast::error_code close_ec;
            socket.close(close_ec);
          } else {
            beast::error_code opt_ec;
            socket.set_option(tcp::no_delay(true), opt_ec);
            if (core_->options.tls) {
              StartSession(std::make_shared<Session<TlsStream>>(core_.get(), std::move(socket),
                                                                core_->options.tls->Current()));
            } else {
              StartSession(
                  std::make_shared<Session<PlainStream>>(core_.get(), std::move(socket), nullptr));
            }
          }
          Accept();
        });
  }

  template <class SessionType>
  void StartSession(std::shared_ptr<SessionType> session) {
    {
      std::lock_guard<std::mutex> lock(core_->sessions_mu);
      core_->sessions.emplace(session.get(), session);
    }
    session->Start();
  }

  // Accept errors other than shutdown: out of descriptors (EMFILE/ENFILE) or a transient error.
  // Retrying at once would spin (the pending connection stays in the backlog), so accepting
  // pauses for `accept_backoff`; the first failure of an episode is logged.
  void AcceptFailed(beast::error_code ec) {
    core_->backoffs.fetch_add(1, std::memory_order_relaxed);
    if (!in_backoff_episode_) {
      in_backoff_episode_ = true;
      std::fprintf(stderr,
                   "%s: accept failed: %s; pausing accepts for %lld ms at a time until it "
                   "succeeds (raise the file descriptor limit, ulimit -n, or lower "
                   "--*-max-connections)\n",
                   core_->options.name.c_str(), ec.message().c_str(),
                   static_cast<long long>(core_->options.accept_backoff.count()));
    }
    backoff_timer_.expires_after(core_->options.accept_backoff);
    backoff_timer_.async_wait([this](beast::error_code timer_ec) {
      if (timer_ec || !acceptor_.is_open()) return;
      Accept();
    });
  }

  std::unique_ptr<Core> core_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_timer_;  // on the acceptor's strand
  bool in_backoff_episode_ = false;   // only touched on the acceptor's strand
  std::vector<std::thread> threads_;
  uint16_t bound_port_ = 0;
  std::string bound_host_;
  std::mutex stop_mu_;
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& host, uint16_t port,
                                                      HttpHandler handler,
                                                      HttpServerOptions options) {
  if (!handler) return Status::InvalidArgument("HttpServer::Start needs a handler");
  auto server = std::make_unique<BeastHttpServer>(std::move(handler), std::move(options));
  ARIADNE_RETURN_IF_ERROR(server->Listen(host, port));
  server->Run();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace ariadne::net
