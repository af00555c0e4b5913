// Ariadne's own JSON views of X-Ray data, mounted on the query port under /api/v1/xray/:
//   GET /api/v1/xray/groups           groups with their filters and, per group, the services its
//                                     filter names that never sent data (the seed's
//                                     service("$backend-flask") shows up here)
//   GET /api/v1/xray/sampling         sampling rules with their active clients and the clients'
//                                     statistics per 10-s window (the last hour)
//   GET /api/v1/xray/trace-summaries  ?filter=EXPR&start=EPOCH_S&end=EPOCH_S&limit=N (default: the
//                                     last hour, 100): X-Ray trace summaries
// Errors: {"error": "...", "status": N} like the rest of /api. May scan traces: run it on the read
// pool.
#pragma once

#include "api/xray/read_ops.h"
#include "net/http_server.h"

namespace ariadne::api::xray {

struct ViewContext {
  const query::xray::XrayTraceReader* reader;
  sampling::XrayConfigStore* config;
  sampling::SamplingTargets* targets;
  ReadLimits limits;
  sampling::Clock clock;
};

net::HttpResponse XrayQueryView(const net::HttpRequest& request, const ViewContext& context);

}  // namespace ariadne::api::xray
