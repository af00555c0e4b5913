// TlsServerContext: the certificate and private key a TLS listener presents, loaded from PEM files
// and reloadable while the listeners run (SIGHUP in `ariadne serve`).
//
// Contract: Load() reads both files and checks that the key belongs to the certificate; Reload()
// reads them again and, only when that succeeds, makes the new pair current. Connections accepted
// afterwards use the new pair; connections already open keep the one they started with (each holds
// a reference to it). A failed reload keeps serving the previous pair and returns the error.
// Protocols: TLS 1.2 and 1.3 only.
//
// OpenSSL and Asio's SSL headers stay out of this header: the native context is only reachable
// through net/tls_native.h, which the HTTP server's translation unit includes.
//
// Threads: every method may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace ariadne::net {

class TlsServerContext {
 public:
  // Defined in net/tls_native.h.
  struct Native;

  static Result<std::shared_ptr<TlsServerContext>> Load(std::string cert_file,
                                                        std::string key_file);

  // Re-reads the files; see the contract above.
  Status Reload() ARIADNE_EXCLUDES(mu_);

  // The pair new connections use. Never null.
  std::shared_ptr<Native> Current() const ARIADNE_EXCLUDES(mu_);

  // SHA-256 of the current certificate (DER), uppercase hex pairs separated by ':', as
  // `openssl x509 -fingerprint -sha256` prints it.
  std::string Fingerprint() const ARIADNE_EXCLUDES(mu_);

  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }

  TlsServerContext(std::string cert_file, std::string key_file)
      : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}

 private:
  const std::string cert_file_;
  const std::string key_file_;
  mutable Mutex mu_;
  std::shared_ptr<Native> current_ ARIADNE_GUARDED_BY(mu_);
};

// Client side: how HttpClient (and the CLI) verify a server. `ca_file` empty = the system's trust
// store; `verify` false = accept any certificate (tests, --insecure).
struct TlsClientOptions {
  std::string ca_file;
  bool verify = true;
};

}  // namespace ariadne::net
