// SignXrayRequest: lets the web UI's X-Ray calls through when the X-Ray API requires SigV4
// (--xray-access-key). The query port's proxy (WithXrayProxy) forwards a call only after ApiAuth
// allowed it (an admin key for changes), and signs it here with the server's own X-Ray key, as
// an X-Ray client would: AWS4-HMAC-SHA256, region us-east-1, service xray, signed headers
// content-type, x-amz-content-sha256 (the body's real SHA-256) and x-amz-date.
//
// Threads: pure function.
#pragma once

#include <ctime>
#include <string>

#include "net/http_server.h"

namespace ariadne::api {

// `access_key` is "ID:SECRET" (as given to --xray-access-key); `now` is epoch seconds. Replaces
// any Authorization/x-amz-* headers of `request`.
void SignXrayRequest(net::HttpRequest* request, const std::string& access_key, std::time_t now);

}  // namespace ariadne::api
