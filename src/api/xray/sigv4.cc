#include "api/xray/sigv4.h"

#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <vector>

namespace ariadne::api::xray {

std::string HexEncode(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xF];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trim and collapse runs of spaces, as SigV4 canonical header values require.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xF];
    }
  }
  return out;
}

std::map<std::string, std::string> ParseAuthorization(std::string_view header) {
  // "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/xray/aws4_request,
  //  SignedHeaders=a;b, Signature=hex"
  std::map<std::string, std::string> out;
  size_t space = header.find(' ');
  if (space == std::string_view::npos) return out;
  std::string_view rest = header.substr(space + 1);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos) {
      out[std::string(part.substr(0, eq))] = std::string(part.substr(eq + 1));
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

// "20260101T120000Z" → epoch seconds, or -1.
double ParseAmzDate(const std::string& text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return -1;
  std::tm tm{};
  try {
    tm.tm_year = std::stoi(text.substr(0, 4)) - 1900;
    tm.tm_mon = std::stoi(text.substr(4, 2)) - 1;
    tm.tm_mday = std::stoi(text.substr(6, 2));
    tm.tm_hour = std::stoi(text.substr(9, 2));
    tm.tm_min = std::stoi(text.substr(11, 2));
    tm.tm_sec = std::stoi(text.substr(13, 2));
  } catch (...) {
    return -1;
  }
  return static_cast<double>(timegm(&tm));
}

}  // namespace

std::string CanonicalRequest(const net::HttpRequest& request, const std::string& signed_headers) {
  std::string out = request.method + "\n";
  out += UriEncode(net::PercentDecode(request.path, false), /*keep_slash=*/true) + "\n";
  // Canonical query: sorted by name then value, both encoded.
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [k, v] : request.query)
    query.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(query.begin(), query.end());
  for (size_t i = 0; i < query.size(); ++i) {
    if (i) out += '&';
    out += query[i].first + "=" + query[i].second;
  }
  out += "\n";
  for (const std::string& name : Split(signed_headers, ';')) {
    std::string joined;
    for (const auto& [k, v] : request.headers) {
      if (Lower(k) != name) continue;
      if (!joined.empty()) joined += ',';
      joined += CanonicalValue(v);
    }
    out += name + ":" + joined + "\n";
  }
  out += "\n" + signed_headers + "\n";
  // Always the hash of the body as received: a client-supplied x-amz-content-sha256 is checked
  // against it in VerifySigV4, never trusted in its place.
  out += Sha256Hex(*request.body);
  return out;
}

std::string SigV4Signature(const std::string& secret, const std::string& amz_date,
                           const std::string& region, const std::string& service,
                           const std::string& canonical_request) {
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(canonical_request);
  std::string key = HmacSha256("AWS4" + secret, date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  return HexEncode(HmacSha256(key, to_sign));
}

SigV4Check VerifySigV4(const net::HttpRequest& request, const SigV4Credentials& credentials,
                       double now) {
  SigV4Check check;
  auto auth = request.Header("authorization");
  if (!auth || auth->substr(0, 16) != "AWS4-HMAC-SHA256") {
    check.error_type = "MissingAuthenticationTokenException";
    check.message = "Missing Authentication Token: sign requests with AWS Signature Version 4";
    return check;
  }
  check.signed_request = true;
  auto fields = ParseAuthorization(*auth);
  auto credential = Split(fields["Credential"], '/');
  if (credential.size() != 5 || fields["SignedHeaders"].empty() || fields["Signature"].empty()) {
    check.error_type = "IncompleteSignatureException";
    check.message = "Authorization header requires Credential, SignedHeaders and Signature";
    return check;
  }
  if (credential[0] != credentials.access_key_id) {
    check.error_type = "UnrecognizedClientException";
    check.message = "The security token included in the request is invalid.";
    return check;
  }
  std::string amz_date(request.Header("x-amz-date").value_or(""));
  double signed_at = ParseAmzDate(amz_date);
  if (signed_at < 0 || amz_date.substr(0, 8) != credential[1]) {
    check.error_type = "IncompleteSignatureException";
    check.message = "X-Amz-Date is missing or does not match the credential scope date";
    return check;
  }
  if (std::abs(signed_at - now) > 300) {
    check.error_type = "InvalidSignatureException";
    check.message =
        "Signature expired: " + amz_date + " is more than 5 minutes away from the server's time";
    return check;
  }
  // The body must be what was signed. A declared payload hash has to equal the hash of the bytes
  // received (otherwise a captured signature could be replayed with another body), and
  // UNSIGNED-PAYLOAD is refused: AWS allows it only for S3, not for X-Ray's JSON operations.
  if (auto declared = request.Header("x-amz-content-sha256")) {
    if (*declared == "UNSIGNED-PAYLOAD") {
      check.error_type = "InvalidSignatureException";
      check.message =
          "x-amz-content-sha256: UNSIGNED-PAYLOAD is not accepted for X-Ray API calls; sign the "
          "request body (omit the header or send the body's SHA-256 in hex)";
      return check;
    }
    if (Lower(std::string(*declared)) != Sha256Hex(*request.body)) {
      check.error_type = "InvalidSignatureException";
      check.message =
          "x-amz-content-sha256 does not match the SHA-256 of the request body; the body was "
          "changed after signing (sign the body you send)";
      return check;
    }
  }
  std::string canonical = CanonicalRequest(request, fields["SignedHeaders"]);
  std::string expected = SigV4Signature(credentials.secret_access_key, amz_date, credential[2],
                                        credential[3], canonical);
  if (expected != fields["Signature"]) {
    check.error_type = "InvalidSignatureException";
    check.message =
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method.";
    return check;
  }
  check.ok = true;
  return check;
}

}  // namespace ariadne::api::xray
