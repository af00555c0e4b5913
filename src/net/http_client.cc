#include "net/http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ariadne::net {
namespace {

// OpenSSL writes to the socket with write(), which raises SIGPIPE once the peer has closed it, and
// SIGPIPE's default action ends the process; a client library must report an error instead (the
// plain path sends with MSG_NOSIGNAL). For one OpenSSL call this blocks SIGPIPE on the calling
// thread and consumes a SIGPIPE that the call raised.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
  }
  ~SigpipeGuard() {
    if (!blocked_) return;
    const int saved_errno = errno;
    sigset_t pending;
    sigemptyset(&pending);
    if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    errno = saved_errno;
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
  bool blocked_ = false;
};

}  // namespace

struct HttpClient::TlsConnection {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~TlsConnection() {
    if (ssl != nullptr) SSL_free(ssl);
    if (ctx != nullptr) SSL_CTX_free(ctx);
  }
};

namespace {

std::string OpenSslErrorText() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

bool IsIpAddress(const std::string& host) {
  in6_addr v6;
  in_addr v4;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

}  // namespace

std::optional<std::string_view> ClientResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

Result<ParsedUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  constexpr std::string_view kTlsScheme = "https://";
  ParsedUrl parsed;
  if (url.substr(0, kScheme.size()) == kScheme) {
    url.remove_prefix(kScheme.size());
  } else if (url.substr(0, kTlsScheme.size()) == kTlsScheme) {
    url.remove_prefix(kTlsScheme.size());
    parsed.tls = true;
    parsed.port = 443;
  } else {
    return Status::InvalidArgument(
        "'" + std::string(url) +
        "' is not an http:// or https:// URL (e.g. http://127.0.0.1:8686)");
  }
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  parsed.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  // An IPv6 literal is bracketed ("[::1]:8686"); its colons are not a port separator.
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("URL '" + std::string(url) +
                                     "' opens an IPv6 address with '[' but never closes it");
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Status::InvalidArgument("bad port in URL");
      port_text = after.substr(1);
      has_port = true;
    }
    authority = authority.substr(1, close - 1);
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    port_text = authority.substr(colon + 1);
    has_port = true;
    authority = authority.substr(0, colon);
  }
  if (has_port) {
    unsigned port = 0;
    if (port_text.empty() || port_text.size() > 5) {
      return Status::InvalidArgument("bad port in URL '" + std::string(url) + "'");
    }
    for (char c : port_text) {
      if (c < '0' || c > '9') return Status::InvalidArgument("bad port in URL");
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port > 65535) return Status::InvalidArgument("bad port in URL");
    parsed.port = static_cast<uint16_t>(port);
  }
  if (authority.empty()) return Status::InvalidArgument("URL has no host");
  parsed.host = std::string(authority);
  return parsed;
}

HttpClient::HttpClient(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

HttpClient::~HttpClient() { Close(); }

void HttpClient::UseTls(TlsClientOptions options) {
  Close();
  tls_options_ = std::make_unique<TlsClientOptions>(std::move(options));
}

std::string HttpClient::PeerCertificateFingerprint() const {
  if (!tls_ || tls_->ssl == nullptr) return "";
  X509* cert = SSL_get1_peer_certificate(tls_->ssl);
  if (cert == nullptr) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  std::string out;
  if (X509_digest(cert, EVP_sha256(), digest, &length) == 1) {
    char hex[4];
    for (unsigned int i = 0; i < length; ++i) {
      std::snprintf(hex, sizeof(hex), i + 1 < length ? "%02X:" : "%02X", digest[i]);
      out += hex;
    }
  }
  X509_free(cert);
  return out;
}

Status HttpClient::StartTls() {
  auto tls = std::make_unique<TlsConnection>();
  ERR_clear_error();
  tls->ctx = SSL_CTX_new(TLS_client_method());
  if (tls->ctx == nullptr) return Status::Internal("TLS: " + OpenSslErrorText());
  SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
  if (tls_options_->verify) {
    SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, nullptr);
    int loaded =
        tls_options_->ca_file.empty()
            ? SSL_CTX_set_default_verify_paths(tls->ctx)
            : SSL_CTX_load_verify_locations(tls->ctx, tls_options_->ca_file.c_str(), nullptr);
    if (loaded != 1) {
      return Status::InvalidArgument("cannot load CA certificates from '" + tls_options_->ca_file +
                                     "': " + OpenSslErrorText());
    }
  }
  tls->ssl = SSL_new(tls->ctx);
  if (tls->ssl == nullptr) return Status::Internal("TLS: " + OpenSslErrorText());
  SSL_set_fd(tls->ssl, fd_);
  if (IsIpAddress(host_)) {
    if (tls_options_->verify) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls->ssl), host_.c_str());
    }
  } else {
    SSL_set_tlsext_host_name(tls->ssl, host_.c_str());
    if (tls_options_->verify) SSL_set1_host(tls->ssl, host_.c_str());
  }
  int connected;
  {
    SigpipeGuard no_sigpipe;
    connected = SSL_connect(tls->ssl);
  }
  if (connected != 1) {
    long verify = SSL_get_verify_result(tls->ssl);
    std::string reason =
        verify != X509_V_OK ? X509_verify_cert_error_string(verify) : OpenSslErrorText();
    return Status::Unavailable(
        "TLS handshake with " + host_ + ":" + std::to_string(port_) + " failed: " + reason +
        (verify != X509_V_OK ? " (trust the server's CA with --ca-file FILE, or use "
                               "--insecure to skip verification)"
                             : " (is the server listening with https, --tls-cert?)"));
  }
  tls_ = std::move(tls);
  return Status::Ok();
}

void HttpClient::Close() {
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  pos_ = 0;
}

Status HttpClient::EnsureConnected() {
  if (fd_ >= 0) return Status::Ok();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  std::string port_text = std::to_string(port_);
  int rc = ::getaddrinfo(host_.c_str(), port_text.c_str(), &hints, &result);
  if (rc != 0) {
    return Status::Unavailable("cannot resolve " + host_ + ": " + gai_strerror(rc));
  }
  int last_errno = 0;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fd_ = fd;
      break;
    }
    last_errno = errno;
    ::close(fd);
  }
  ::freeaddrinfo(result);
  if (fd_ < 0) {
    return Status::Unavailable("cannot connect to " + host_ + ":" + port_text + ": " +
                               std::strerror(last_errno) + " (is `ariadne serve` running there?)");
  }
  ++connection_id_;
  buffer_.clear();
  pos_ = 0;
  if (tls_options_) {
    // Bound the blocking handshake and TLS reads by the same timeout as plain reads.
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    Status started = StartTls();
    if (!started.ok()) {
      Close();
      return started;
    }
  }
  return Status::Ok();
}

Status HttpClient::SendRaw(std::string_view bytes) {
  ARIADNE_RETURN_IF_ERROR(EnsureConnected());
  while (!bytes.empty()) {
    if (tls_) {
      int n;
      {
        SigpipeGuard no_sigpipe;
        n = SSL_write(tls_->ssl, bytes.data(), static_cast<int>(bytes.size()));
      }
      if (n <= 0) {
        Status status = Status::Unavailable("TLS send failed: " + OpenSslErrorText());
        Close();
        return status;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status status = Status::Unavailable(std::string("send failed: ") + std::strerror(errno));
      Close();
      return status;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status HttpClient::Fill() {
  if (fd_ < 0) return Status::Unavailable("not connected");
  if (!tls_ || SSL_pending(tls_->ssl) == 0) {
    pollfd pfd{fd_, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&pfd, 1, static_cast<int>(timeout_.count()));
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) return Status(StatusCode::kDeadlineExceeded, "timed out waiting for the server");
    if (rc < 0) return Status::Unavailable(std::string("poll failed: ") + std::strerror(errno));
  }
  if (pos_ > 0 && pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  }
  char chunk[16384];
  if (tls_) {
    int n;
    {
      SigpipeGuard no_sigpipe;
      n = SSL_read(tls_->ssl, chunk, sizeof(chunk));
    }
    if (n <= 0) {
      int error = SSL_get_error(tls_->ssl, n);
      if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) ||
          error == SSL_ERROR_SSL) {
        ERR_clear_error();
        return Status(StatusCode::kAborted, "connection closed by the server");
      }
      if (error == SSL_ERROR_WANT_READ) {
        return Status(StatusCode::kDeadlineExceeded, "timed out waiting for the server");
      }
      return Status::Unavailable("TLS receive failed: " + OpenSslErrorText());
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return Status::Ok();
  }
  ssize_t n;
  do {
    n = ::recv(fd_, chunk, sizeof(chunk), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::Unavailable(std::string("recv failed: ") + std::strerror(errno));
  if (n == 0) return Status(StatusCode::kAborted, "connection closed by the server");
  buffer_.append(chunk, static_cast<size_t>(n));
  return Status::Ok();
}

Result<std::string> HttpClient::ReadLine() {
  for (;;) {
    size_t eol = buffer_.find("\r\n", pos_);
    if (eol != std::string::npos) {
      std::string line = buffer_.substr(pos_, eol - pos_);
      pos_ = eol + 2;
      return line;
    }
    ARIADNE_RETURN_IF_ERROR(Fill());
  }
}

Status HttpClient::ReadExactly(size_t n, std::string* out) {
  while (buffer_.size() - pos_ < n) ARIADNE_RETURN_IF_ERROR(Fill());
  out->append(buffer_, pos_, n);
  pos_ += n;
  return Status::Ok();
}

namespace {
std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}
}  // namespace

Result<ClientResponse> HttpClient::ReadResponse() {
  ClientResponse response;
  std::string status_line;
  // Skip interim 1xx responses (100 Continue).
  for (;;) {
    ARIADNE_ASSIGN_OR_RETURN(status_line, ReadLine());
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) {
      return Status::InvalidArgument("bad status line from server: '" + status_line + "'");
    }
    response.status = std::atoi(status_line.c_str() + 9);
    response.headers.clear();
    for (;;) {
      ARIADNE_ASSIGN_OR_RETURN(std::string line, ReadLine());
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      response.headers.emplace_back(line.substr(0, colon), Trim(line.substr(colon + 1)));
    }
    if (response.status >= 200) break;
  }
  auto connection = response.Header("connection");
  response.connection_closed = connection && EqualsIgnoreCase(*connection, "close");
  auto transfer = response.Header("transfer-encoding");
  auto length = response.Header("content-length");
  if (transfer && EqualsIgnoreCase(*transfer, "chunked")) {
    for (;;) {
      ARIADNE_ASSIGN_OR_RETURN(std::string size_line, ReadLine());
      size_t size = std::strtoul(size_line.c_str(), nullptr, 16);
      if (size == 0) {
        // Trailers until the empty line.
        for (;;) {
          ARIADNE_ASSIGN_OR_RETURN(std::string trailer, ReadLine());
          if (trailer.empty()) break;
        }
        break;
      }
      ARIADNE_RETURN_IF_ERROR(ReadExactly(size, &response.body));
      ARIADNE_ASSIGN_OR_RETURN(std::string crlf, ReadLine());
    }
  } else if (length) {
    size_t size = std::strtoull(std::string(*length).c_str(), nullptr, 10);
    ARIADNE_RETURN_IF_ERROR(ReadExactly(size, &response.body));
  } else if (response.status != 204 && response.status != 304) {
    // Body until close.
    for (;;) {
      Status status = Fill();
      if (!status.ok()) break;
    }
    response.body.append(buffer_, pos_, std::string::npos);
    pos_ = buffer_.size();
    response.connection_closed = true;
  }
  if (response.connection_closed) Close();
  return response;
}

Result<ClientResponse> HttpClient::Request(std::string_view method, std::string_view target,
                                           const HeaderList& headers, std::string_view body) {
  std::string request;
  request.reserve(256 + body.size());
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  request.append("Host: ").append(host_).append(":").append(std::to_string(port_)).append("\r\n");
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding")) {
      has_length = true;
    }
    request.append(name).append(": ").append(value).append("\r\n");
  }
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT")) {
    request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  request.append("\r\n").append(body);
  // A kept-alive connection the server has closed while it sat idle is noticed before sending.
  if (fd_ >= 0 && !IdleConnectionUsable()) Close();
  const bool fresh = fd_ < 0;
  ARIADNE_RETURN_IF_ERROR(SendRaw(request));
  Result<ClientResponse> response = ReadResponse();
  // The server may still close a reused connection just as the request goes out. Sending again is
  // safe only for idempotent methods (RFC 9110 9.2.2): a POST may have been processed already, so
  // its caller gets the error and decides.
  if (!response.ok() && !fresh && response.status().code() == StatusCode::kAborted &&
      IsIdempotentMethod(method)) {
    Close();
    ARIADNE_RETURN_IF_ERROR(SendRaw(request));
    return ReadResponse();
  }
  return response;
}

bool HttpClient::IsIdempotentMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE";
}

bool HttpClient::IdleConnectionUsable() const {
  // Between responses nothing may arrive: readable means the server closed the connection (EOF,
  // or TLS close_notify) or sent something we could not pair with a request.
  if (pos_ < buffer_.size()) return false;
  pollfd pfd{fd_, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&pfd, 1, 0);
  } while (rc < 0 && errno == EINTR);
  return rc == 0;
}

}  // namespace ariadne::net
