#include "net/tls.h"

// Boost 1.74 + GCC 12 + C++20: include <utility> before any Asio header (see http_server.cc).
#include <utility>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <fstream>

#include "net/tls_native.h"

namespace ariadne::net {
namespace {

// The last OpenSSL error in words, or `fallback`.
std::string OpenSslError(const std::string& fallback) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

bool Readable(const std::string& path) {
  std::ifstream in(path);
  return in.good();
}

std::string FingerprintOf(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert == nullptr) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) return "";
  std::string out;
  char hex[4];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(hex, sizeof(hex), i + 1 < length ? "%02X:" : "%02X", digest[i]);
    out += hex;
  }
  return out;
}

Result<std::shared_ptr<TlsServerContext::Native>> BuildContext(const std::string& cert_file,
                                                               const std::string& key_file) {
  if (!Readable(cert_file)) {
    return Status::InvalidArgument("--tls-cert " + cert_file +
                                   ": cannot read the file (give a PEM certificate chain)");
  }
  if (!Readable(key_file)) {
    return Status::InvalidArgument("--tls-key " + key_file +
                                   ": cannot read the file (give the PEM private key)");
  }
  auto native = std::make_shared<TlsServerContext::Native>();
  SSL_CTX* ctx = native->context.native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return Status::InvalidArgument("--tls-cert " + cert_file + ": not a PEM certificate (" +
                                   OpenSslError("unknown error") + ")");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return Status::InvalidArgument("--tls-key " + key_file + " does not belong to --tls-cert " +
                                     cert_file + " (" + OpenSslError("key mismatch") + ")");
    }
    return Status::InvalidArgument("--tls-key " + key_file +
                                   ": not an unencrypted PEM private key (" +
                                   OpenSslError("unknown error") + ")");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::InvalidArgument("--tls-key " + key_file + " does not belong to --tls-cert " +
                                   cert_file + " (" + OpenSslError("key mismatch") + ")");
  }
  native->fingerprint = FingerprintOf(ctx);
  return native;
}

}  // namespace

Result<std::shared_ptr<TlsServerContext>> TlsServerContext::Load(std::string cert_file,
                                                                 std::string key_file) {
  auto tls = std::make_shared<TlsServerContext>(std::move(cert_file), std::move(key_file));
  ARIADNE_RETURN_IF_ERROR(tls->Reload());
  return tls;
}

Status TlsServerContext::Reload() {
  auto built = BuildContext(cert_file_, key_file_);
  if (!built.ok()) return built.status();
  MutexLock lock(&mu_);
  current_ = std::move(built).value();
  return Status::Ok();
}

std::shared_ptr<TlsServerContext::Native> TlsServerContext::Current() const {
  MutexLock lock(&mu_);
  return current_;
}

std::string TlsServerContext::Fingerprint() const { return Current()->fingerprint; }

}  // namespace ariadne::net
