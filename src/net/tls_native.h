// The OpenSSL side of TlsServerContext (net/tls.h). Include only from translation units that
// already pay for Asio's SSL headers (net/tls.cc, net/http_server.cc).
#pragma once

#include <string>

#include <boost/asio/ssl/context.hpp>

#include "net/tls.h"

namespace ariadne::net {

struct TlsServerContext::Native {
  Native() : context(boost::asio::ssl::context::tls_server) {}
  boost::asio::ssl::context context;
  std::string fingerprint;  // of the certificate, see TlsServerContext::Fingerprint
};

}  // namespace ariadne::net
