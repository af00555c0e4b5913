// The Beast/Asio implementation of HttpServer. This is the only translation unit of the server
// that includes Beast (it costs ~11 s and ~660 MB to compile; see docs/dependencies.md).
//
// Structure: one io_context run by `io_threads` threads; one acceptor; one Session per connection
// whose socket lives on its own strand. A Session reads a request header, then the body (with the
// parser's body limit), hands the request to the handler and waits for `respond`, which posts the
// response back onto the session's strand. Only then is the next request read.
//
// Lifetime: the server keeps a strong reference to every live Session in `sessions_`; `respond`
// holds only a weak reference plus the shared Gate, so a response that arrives after Stop() (for
// example from the store's commit thread during shutdown) is dropped without touching a destroyed
// io_context.

// Boost 1.74 + GCC 12 + C++20: boost/asio/awaitable.hpp uses std::exchange without including
// <utility>. Include it before any Asio header.
#include <utility>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/http_server.h"

namespace ariadne::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using BeastRequest = http::request<http::string_body>;

constexpr size_t kHeaderLimit = 64 * 1024;
// After an error answer we read (and discard) what the client is still sending for a while before
// closing, so that it sees our status instead of a connection reset.
constexpr size_t kMaxLingerBytes = 64 * 1024 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);

// Shared between the server and every outstanding `respond` function.
struct Gate {
  std::mutex mu;
  bool open = true;
};

class Session;

struct Core {
  HttpHandler handler;
  HttpServerOptions options;
  asio::io_context ioc;
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  std::mutex sessions_mu;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions;

  explicit Core(int threads) : ioc(threads) {}
  void Remove(Session* session) {
    std::shared_ptr<Session> keep;  // destroyed outside the lock
    std::lock_guard<std::mutex> lock(sessions_mu);
    auto it = sessions.find(session);
    if (it != sessions.end()) {
      keep = std::move(it->second);
      sessions.erase(it);
    }
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Core* core, tcp::socket socket) : core_(core), stream_(std::move(socket)) {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      remote_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    }
  }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Only when no I/O thread runs (Stop()).
  void CloseNow() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }

  // Called on the strand with the handler's answer.
  void Write(HttpResponse response) {
    if (closed_) return;
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(response.status));
    bool has_content_type = false;
    for (auto& [name, value] : response.headers) {
      if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "connection") ||
          EqualsIgnoreCase(name, "transfer-encoding")) {
        continue;
      }
      if (EqualsIgnoreCase(name, "content-type")) has_content_type = true;
      res->insert(name, value);
    }
    if (!has_content_type && !response.body.empty()) {
      res->set(http::field::content_type, "text/plain; charset=utf-8");
    }
    res->set(http::field::server, "ariadne");
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive_ && !close_after_write_);
    res->prepare_payload();
    SendAndContinue(std::move(res));
  }

  // Answers an error this layer detected itself (413, 400) and closes afterwards.
  void WriteErrorAndClose(int status, std::string message) {
    close_after_write_ = true;
    HttpResponse response(status, "text/plain; charset=utf-8", std::move(message) + "\n");
    Write(std::move(response));
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(core_->options.max_body_bytes);
    stream_.expires_after(core_->options.idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // Parse errors get an answer; transport errors (eof, reset, timeout) just end the connection.
  bool HandleReadError(beast::error_code ec, bool request_started) {
    if (ec == http::error::body_limit) {
      WriteErrorAndClose(413, "request body exceeds the limit of " +
                                  std::to_string(core_->options.max_body_bytes) +
                                  " bytes; send smaller batches (" + core_->options.name + ")");
      return true;
    }
    if (ec == http::error::header_limit) {
      WriteErrorAndClose(431, "request headers exceed " + std::to_string(kHeaderLimit) + " bytes");
      return true;
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message &&
        ec != http::error::need_more) {
      WriteErrorAndClose(400, std::string("malformed HTTP request: ") + ec.message());
      return true;
    }
    (void)request_started;
    Finish();
    return true;
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      HandleReadError(ec, buffer_.size() > 0);
      return;
    }
    auto& req = parser_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    auto expect = req[http::field::expect];
    if (!parser_->is_done() && EqualsIgnoreCase({expect.data(), expect.size()}, "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                          if (ec) return self->Finish();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnBody({});
    stream_.expires_after(core_->options.idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec) {
      HandleReadError(ec, true);
      return;
    }
    BeastRequest& req = parser_->get();
    keep_alive_ = req.keep_alive();
    HttpRequest request;
    request.method = std::string(req.method_string());
    ParseRequestTarget(std::string_view(req.target().data(), req.target().size()), &request);
    request.headers.reserve(16);
    for (const auto& field : req) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::make_shared<const std::string>(std::move(req.body()));
    request.remote_address = remote_;
    parser_.reset();

    // No read timeout while the handler works (the store may take a group-commit interval).
    stream_.expires_never();
    awaiting_response_ = true;
    try {
      core_->handler(std::move(request), MakeResponder());
    } catch (const std::exception& e) {
      // The responder's destructor has already queued a 500 when the handler threw before
      // responding; nothing else to do here.
      std::fprintf(stderr, "%s: request handler threw: %s\n", core_->options.name.c_str(),
                   e.what());
    }
  }

  // The function handed to the handler. A shared state makes sure exactly one response is
  // written: the first call wins, later calls are ignored, and if every copy of the function is
  // destroyed without a call the client gets a 500.
  struct ResponderState {
    std::weak_ptr<Session> session;
    std::shared_ptr<Gate> gate;
    std::atomic<bool> done{false};

    void Deliver(HttpResponse response) {
      if (done.exchange(true)) return;
      std::lock_guard<std::mutex> lock(gate->mu);
      if (!gate->open) return;
      std::shared_ptr<Session> self = session.lock();
      if (!self) return;
      auto executor = self->stream_.get_executor();
      asio::post(executor, [self = std::move(self), response = std::move(response)]() mutable {
        self->awaiting_response_ = false;
        self->Write(std::move(response));
      });
    }
    ~ResponderState() {
      if (!done.load()) {
        Deliver(HttpResponse(500, "text/plain; charset=utf-8",
                             "internal error: the request handler did not answer\n"));
      }
    }
  };

  Responder MakeResponder() {
    auto state = std::make_shared<ResponderState>();
    state->session = weak_from_this();
    state->gate = core_->gate;
    return [state](HttpResponse response) { state->Deliver(std::move(response)); };
  }

  void SendAndContinue(std::shared_ptr<http::response<http::string_body>> res) {
    stream_.expires_after(core_->options.idle_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec) return self->Finish();
                        if (self->close_after_write_ || !res->keep_alive()) {
                          return self->Linger();
                        }
                        self->ReadHeader();
                      });
  }

  // Half-close, then drain what the client still sends for a short while, then close.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Finish();
    linger_deadline_ = std::chrono::steady_clock::now() + kLingerTime;
    DrainSome();
  }

  void DrainSome() {
    auto now = std::chrono::steady_clock::now();
    if (now >= linger_deadline_ || lingered_bytes_ > kMaxLingerBytes) return Finish();
    stream_.expires_after(linger_deadline_ - now);
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(64 * 1024),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Finish();
                              self->lingered_bytes_ += n;
                              self->DrainSome();
                            });
  }

  void Finish() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    core_->Remove(this);
  }

  Core* core_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  bool awaiting_response_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point linger_deadline_;
  size_t lingered_bytes_ = 0;
};

class BeastHttpServer final : public HttpServer {
 public:
  BeastHttpServer(HttpHandler handler, HttpServerOptions options)
      : core_(std::make_unique<Core>(std::max(1, options.io_threads))),
        acceptor_(asio::make_strand(core_->ioc)) {
    core_->handler = std::move(handler);
    core_->options = std::move(options);
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
    std::unordered_map<Session*, std::shared_ptr<Session>> sessions;
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
          if (ec == asio::error::operation_aborted) return;
          if (!ec) {
            beast::error_code opt_ec;
            socket.set_option(tcp::no_delay(true), opt_ec);
            auto session = std::make_shared<Session>(core_.get(), std::move(socket));
            {
              std::lock_guard<std::mutex> lock(core_->sessions_mu);
              core_->sessions.emplace(session.get(), session);
            }
            session->Start();
          }
          if (acceptor_.is_open()) Accept();
        });
  }

  std::unique_ptr<Core> core_;
  tcp::acceptor acceptor_;
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
