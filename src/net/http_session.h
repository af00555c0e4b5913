// The per-connection half of the Beast/Asio HttpServer (net/http_server.h): Session, a template
// over the stream (a plain beast::tcp_stream, or with HttpServerOptions::tls a beast::ssl_stream
// over one), and Core, the state the server shares with every Session.
//
// Include only from http_server.cc: it pulls in Beast, Asio's SSL and OpenSSL, which must stay out
// of every other translation unit (see docs/dependencies.md).
//
// A TLS session first waits (under the handshake timeout) for the client's first bytes: a TLS
// ClientHello gets a handshake, anything else a plaintext 400 telling the client to use https.
// Then, for either stream, a Session reads a request header, then the body (with the parser's body
// limit), hands the request to the handler and waits for `respond`, which posts the response back
// onto the session's strand. Only then is the next request read.
//
// Threads: everything of a Session runs on its strand; Core's counters and session map are
// thread-safe.
#pragma once

// Boost 1.74 + GCC 12 + C++20: boost/asio/awaitable.hpp uses std::exchange without including
// <utility>. Include it before any Asio header.
#include <utility>

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "net/byte_budget.h"
#include "net/http_server.h"
#include "net/tls_native.h"

namespace ariadne::net::http_detail {

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

// What the server keeps of every live session, whatever its stream type.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Only when no I/O thread runs (Stop()).
  virtual void CloseNow() = 0;
};

struct Core {
  HttpHandler handler;
  HttpServerOptions options;
  asio::io_context ioc;
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  std::shared_ptr<ByteBudget> budget;  // never null once the server runs

  std::mutex sessions_mu;
  std::unordered_map<SessionBase*, std::shared_ptr<SessionBase>> sessions;

  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> backoffs{0};
  std::atomic<uint64_t> rejected_before_body{0};
  std::atomic<uint64_t> tls_handshake_failures{0};
  std::atomic<uint64_t> plaintext_on_tls{0};

  explicit Core(int threads) : ioc(threads) {}
  size_t SessionCount() {
    std::lock_guard<std::mutex> lock(sessions_mu);
    return sessions.size();
  }
  void Remove(SessionBase* session) {
    std::shared_ptr<SessionBase> keep;  // destroyed outside the lock
    std::lock_guard<std::mutex> lock(sessions_mu);
    auto it = sessions.find(session);
    if (it != sessions.end()) {
      keep = std::move(it->second);
      sessions.erase(it);
    }
  }
};

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  // `tls` is null for a plain session.
  Session(Core* core, tcp::socket socket, std::shared_ptr<TlsServerContext::Native> tls)
      : core_(core), tls_(std::move(tls)), stream_(Construct(std::move(socket), tls_.get())) {
    beast::error_code ec;
    auto endpoint = Tcp().socket().remote_endpoint(ec);
    if (!ec) {
      remote_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    }
  }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->DetectTls();
      } else {
        self->ReadHeader();
      }
    });
  }

  void CloseNow() override {
    if (awaiting_response_ && cancel_) cancel_->Cancel();
    beast::error_code ec;
    Tcp().socket().close(ec);
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
  static Stream Construct(tcp::socket socket, TlsServerContext::Native* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), tls->context);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }
  std::shared_ptr<Session> Self() { return this->shared_from_this(); }

  // TLS only: the first bytes decide. A ClientHello gets the handshake; anything else (a plain
  // HTTP request) gets a short plaintext 400. A client that sends nothing is cut off after the
  // handshake timeout, so it cannot hold a connection slot.
  void DetectTls() {
    Tcp().expires_after(core_->options.tls_handshake_timeout);
    beast::async_detect_ssl(Tcp(), buffer_, [self = Self()](beast::error_code ec, bool is_tls) {
      if (ec) return self->Finish();
      if (!is_tls) return self->RefusePlaintext();
      self->Handshake();
    });
  }

  void Handshake() {
    if constexpr (kTls) {
      Tcp().expires_after(core_->options.tls_handshake_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, buffer_.data(),
                              [self = Self()](beast::error_code ec, size_t used) {
                                if (ec) {
                                  self->core_->tls_handshake_failures.fetch_add(
                                      1, std::memory_order_relaxed);
                                  return self->Finish();
                                }
                                self->buffer_.consume(used);
                                // Bytes past the handshake would be encrypted records sitting in
                                // the plaintext buffer; no conforming client sends them (no 0-RTT).
                                if (self->buffer_.size() > 0) return self->Finish();
                                self->ReadHeader();
                              });
    }
  }

  void RefusePlaintext() {
    core_->plaintext_on_tls.fetch_add(1, std::memory_order_relaxed);
    const std::string body =
        "this port speaks HTTPS (TLS): use an https:// URL instead of http:// (" +
        core_->options.name + ")\n";
    auto text = std::make_shared<std::string>(
        "HTTP/1.1 400 Bad Request\r\nServer: ariadne\r\nContent-Type: text/plain; "
        "charset=utf-8\r\nConnection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    Tcp().expires_after(core_->options.tls_handshake_timeout);
    asio::async_write(Tcp(), asio::buffer(*text),
                      [self = Self(), text](beast::error_code ec, size_t) {
                        if (ec) return self->Finish();
                        self->Linger();
                      });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(core_->options.max_body_bytes);
    budget_exhausted_ = false;
    // A chunked body reserves its bytes chunk by chunk as the chunk headers arrive.
    on_chunk_ = [this](std::uint64_t size, beast::string_view, beast::error_code& ec) {
      if (size == 0) return;
      if (!core_->budget->TryReserve(size)) {
        budget_exhausted_ = true;
        ec = http::error::body_limit;
        return;
      }
      reserved_ += size;
    };
    parser_->on_chunk_header(on_chunk_);
    Tcp().expires_after(core_->options.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // Parse errors get an answer; transport errors (eof, reset, timeout) just end the connection.
  bool HandleReadError(beast::error_code ec, bool request_started) {
    ReleaseReservation();
    if (budget_exhausted_) {
      AnswerBudgetFull();
      return true;
    }
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
    if (core_->options.on_headers) {
      HttpRequest headers_only = BuildRequest(req);
      if (std::optional<HttpResponse> early = core_->options.on_headers(headers_only)) {
        core_->rejected_before_body.fetch_add(1, std::memory_order_relaxed);
        close_after_write_ = true;
        Write(std::move(*early));
        return;
      }
    }
    if (auto length = parser_->content_length(); length && *length > 0) {
      if (*length <= core_->options.max_body_bytes) {  // larger ones get 413 from the parser
        if (!core_->budget->TryReserve(*length)) return AnswerBudgetFull();
        reserved_ = *length;
      }
    }
    auto expect = req[http::field::expect];
    if (!parser_->is_done() && EqualsIgnoreCase({expect.data(), expect.size()}, "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont, [self = Self(), cont](beast::error_code ec, size_t) {
        if (ec) return self->Finish();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnBody({});
    Tcp().expires_after(core_->options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = Self()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec) {
      HandleReadError(ec, true);
      return;
    }
    BeastRequest& req = parser_->get();
    keep_alive_ = req.keep_alive();
    HttpRequest request = BuildRequest(req);
    request.body = ByteBudget::Hold(std::move(req.body()), core_->budget, reserved_);
    reserved_ = 0;  // released when the handler drops the body
    parser_.reset();

    // No read timeout while the handler works (the store may take a group-commit interval).
    Tcp().expires_never();
    awaiting_response_ = true;
    cancel_ = request.cancel;
    WatchForDisconnect();
    try {
      core_->handler(std::move(request), MakeResponder());
    } catch (const std::exception& e) {
      // The responder's destructor has already queued a 500 when the handler threw before
      // responding; nothing else to do here.
      std::fprintf(stderr, "%s: request handler threw: %s\n", core_->options.name.c_str(),
                   e.what());
    }
  }

  // Everything of the request but its body.
  HttpRequest BuildRequest(const BeastRequest& req) const {
    HttpRequest request;
    request.method = std::string(req.method_string());
    ParseRequestTarget(std::string_view(req.target().data(), req.target().size()), &request);
    request.headers.reserve(16);
    for (const auto& field : req) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::make_shared<const std::string>();
    request.remote_address = remote_;
    return request;
  }

  void ReleaseReservation() {
    if (reserved_ > 0) core_->budget->Release(reserved_);
    reserved_ = 0;
  }

  void AnswerBudgetFull() {
    close_after_write_ = true;
    HttpResponse response(503, "text/plain; charset=utf-8",
                          core_->options.name +
                              ": too many request bytes in flight on this listener (limit " +
                              std::to_string(core_->budget->limit()) + " bytes); retry later\n");
    response.SetHeader("Retry-After", "1");
    Write(std::move(response));
  }

  // While the handler works, waits for the socket to become readable: end-of-stream or an error
  // means the client went away, so the request's CancelFlag is set and a long handler can stop.
  // Data (a pipelined next request) ends the watch without consuming it; it stays in the socket
  // for the next ReadHeader. A client that half-closes after its request is treated as gone.
  void WatchForDisconnect() {
    if (buffer_.size() > 0) return;  // a pipelined request is already buffered
    Tcp().socket().async_wait(tcp::socket::wait_read, [self = Self(),
                                                       cancel = cancel_](beast::error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      if (!self->awaiting_response_ || self->cancel_ != cancel) return;
      if (!ec) {
        // Never a blocking receive here: the readiness may be stale (a read took the bytes).
        char byte = 0;
        ssize_t n = ::recv(self->Tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) return;  // data: a pipelined request
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          return self->WatchForDisconnect();
        }
      }
      cancel->Cancel();
    });
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
        self->cancel_.reset();
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
    state->session = this->weak_from_this();
    state->gate = core_->gate;
    return [state](HttpResponse response) { state->Deliver(std::move(response)); };
  }

  void SendAndContinue(std::shared_ptr<http::response<http::string_body>> res) {
    Tcp().expires_after(core_->options.idle_timeout);
    http::async_write(stream_, *res, [self = Self(), res](beast::error_code ec, size_t) {
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
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Finish();
    linger_deadline_ = std::chrono::steady_clock::now() + kLingerTime;
    DrainSome();
  }

  void DrainSome() {
    auto now = std::chrono::steady_clock::now();
    if (now >= linger_deadline_ || lingered_bytes_ > kMaxLingerBytes) return Finish();
    // Raw bytes from the socket (for TLS: still encrypted; they are discarded anyway).
    Tcp().expires_after(linger_deadline_ - now);
    buffer_.consume(buffer_.size());
    Tcp().async_read_some(buffer_.prepare(64 * 1024),
                          [self = Self()](beast::error_code ec, size_t n) {
                            if (ec) return self->Finish();
                            self->lingered_bytes_ += n;
                            self->DrainSome();
                          });
  }

  void Finish() {
    if (closed_) return;
    closed_ = true;
    if (awaiting_response_ && cancel_) cancel_->Cancel();
    ReleaseReservation();
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    Tcp().close();
    core_->Remove(this);
  }

  Core* core_;
  std::shared_ptr<TlsServerContext::Native> tls_;  // the pair this connection uses; null: plain
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  bool awaiting_response_ = false;
  CancelFlagPtr cancel_;  // the pending request's flag while awaiting_response_
  size_t reserved_ = 0;   // body bytes reserved against the budget, not yet handed over
  bool budget_exhausted_ = false;
  std::function<void(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk_;
  bool closed_ = false;
  std::chrono::steady_clock::time_point linger_deadline_;
  size_t lingered_bytes_ = 0;
};

}  // namespace ariadne::net::http_detail
