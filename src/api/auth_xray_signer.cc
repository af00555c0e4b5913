#include "api/auth_xray_signer.h"

#include <algorithm>

#include "api/xray/sigv4.h"

namespace ariadne::api {

void SignXrayRequest(net::HttpRequest* request, const std::string& access_key, std::time_t now) {
  using receivers::xray::CanonicalRequest;
  using receivers::xray::Sha256Hex;
  using receivers::xray::SigV4Signature;
  const size_t colon = access_key.find(':');
  const std::string id = access_key.substr(0, colon);
  const std::string secret = colon == std::string::npos ? "" : access_key.substr(colon + 1);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char amz_date[32];
  std::strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
  auto& headers = request->headers;
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [](const auto& h) {
                                 return net::EqualsIgnoreCase(h.first, "authorization") ||
                                        net::EqualsIgnoreCase(h.first, "x-amz-date") ||
                                        net::EqualsIgnoreCase(h.first, "x-amz-content-sha256");
                               }),
                headers.end());
  headers.emplace_back("x-amz-date", amz_date);
  headers.emplace_back("x-amz-content-sha256", Sha256Hex(*request->body));
  const std::string signed_headers = "content-type;x-amz-content-sha256;x-amz-date";
  const std::string region = "us-east-1";
  const std::string signature =
      SigV4Signature(secret, amz_date, region, "xray", CanonicalRequest(*request, signed_headers));
  headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + id + "/" +
                                            std::string(amz_date, 8) + "/" + region +
                                            "/xray/aws4_request, SignedHeaders=" + signed_headers +
                                            ", Signature=" + signature);
}

}  // namespace ariadne::api
