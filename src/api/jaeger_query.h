// JaegerQuery: the reads behind the Jaeger-compatible query API (jaeger_routes.h), from the
// parameters as jaeger-query takes them to the `data` it answers, rendered by jaeger_model.h.
//
//   Services()                    service names (sorted, de-duplicated across environments)
//   Operations(service, kind)     [{"name", "spanKind"}] seen for a service, any time; kind ""
//                                 = every kind ("" is also the kind of spans without one)
//   OperationNames(service)       the legacy form: sorted unique names
//   FindTraces(params)            whole traces: either `traceID=` (repeatable) or a search by
//                                 service (required), operation, tags (`tags={"k":"v"}` JSON and
//                                 `tag=k:v`), minDuration/maxDuration (Go durations: 1.5s, 100ms,
//                                 1h30m), start/end (Unix µs; default the 48 h before now),
//                                 limit (default 100, at most 1000) — a trace matches when one of
//                                 its spans satisfies every condition (Jaeger's semantics)
//   GetTrace(id)                  one trace (kNotFound when unknown)
//   Dependencies(params)          [{"parent", "child", "callCount"}] between services over
//                                 endTs (Unix ms, default now) − lookback (ms, default 24 h),
//                                 optionally only the links touching `service`
//
// `environment` (the query parameter, narrowed by ApiAuth for scoped keys) limits every read;
// "" reads all. Errors: kInvalidArgument (a bad parameter; the message names it the way
// jaeger-query does), kNotFound, kResourceExhausted (a read past the query limits), others from the
// store.
//
// Threads: every method may be called concurrently; the store must outlive this object.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/jaeger_model.h"
#include "common/status.h"
#include "query/exec_context.h"
#include "store/span_store.h"

namespace ariadne::api::jaeger {

using Params = std::vector<std::pair<std::string, std::string>>;

// What a read answers: the `data` JSON text, the envelope's `total`, and per-trace errors (traces
// asked for by id that do not exist).
struct Answer {
  std::string data_json;
  uint64_t total = 0;
  std::vector<Error> errors;
};

// Go's time.ParseDuration subset jaeger-query accepts ("300ms", "1.5s", "1h30m", "2us", "0"), in
// nanoseconds; negative durations are refused.
Result<uint64_t> ParseGoDuration(std::string_view text);

// The search a FindTraces request without trace ids stands for (exposed for tests).
Result<store::TraceSearchRequest> ParseTraceSearch(const Params& params, uint64_t now_unix_nano);

class JaegerQuery {
 public:
  explicit JaegerQuery(store::SpanStore* store, std::function<uint64_t()> clock = {});

  Result<Answer> Services(std::string_view environment) const;
  Result<Answer> Operations(std::string_view service, std::string_view span_kind,
                            std::string_view environment, const query::ExecContext& context) const;
  Result<Answer> OperationNames(std::string_view service, std::string_view environment,
                                const query::ExecContext& context) const;
  Result<Answer> FindTraces(const Params& params, std::string_view environment,
                            const query::ExecContext& context) const;
  Result<Answer> GetTrace(std::string_view id_text, std::string_view environment) const;
  Result<Answer> Dependencies(const Params& params, std::string_view environment) const;

 private:
  struct Operation {
    std::string name;
    std::string span_kind;
  };
  Result<std::vector<Operation>> ReadOperations(std::string_view service,
                                                std::string_view environment,
                                                const query::ExecContext& context) const;
  uint64_t Now() const;

  store::SpanStore* store_;
  std::function<uint64_t()> clock_;
};

}  // namespace ariadne::api::jaeger
