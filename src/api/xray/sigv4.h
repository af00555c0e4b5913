// AWS Signature Version 4 verification for the X-Ray API (protocols.md §5.1), with OpenSSL's
// libcrypto doing SHA-256 and HMAC-SHA256.
//
// Threads: pure functions, reentrant.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "net/http_server.h"

namespace ariadne::api::xray {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// The outcome of checking a request's signature. `error_type` is X-Ray's error code for a 403
// (UnrecognizedClientException, InvalidSignatureException, IncompleteSignatureException).
struct SigV4Check {
  bool signed_request = false;  // an AWS4-HMAC-SHA256 Authorization header was present
  bool ok = false;
  std::string error_type;
  std::string message;
};

// Checks `request` against `credentials`; `now` is epoch seconds (for the 5-minute skew rule).
SigV4Check VerifySigV4(const net::HttpRequest& request, const SigV4Credentials& credentials,
                       double now);

// Building blocks, exposed for tests (and for signing test requests).
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw bytes
std::string HexEncode(std::string_view raw);
// The signature of a request given its canonical parts; `amz_date` is YYYYMMDD'T'HHMMSS'Z'.
std::string SigV4Signature(const std::string& secret, const std::string& amz_date,
                           const std::string& region, const std::string& service,
                           const std::string& canonical_request);
// The canonical request of `request` for the given signed header names (lowercase).
std::string CanonicalRequest(const net::HttpRequest& request, const std::string& signed_headers);

}  // namespace ariadne::api::xray
