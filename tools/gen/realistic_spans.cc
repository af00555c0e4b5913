#include "tools/gen/realistic_spans.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

namespace ariadne::gen {
namespace {

constexpr const char* kMethods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
constexpr const char* kDbSystems[] = {"postgresql", "redis", "dynamodb"};

std::string Hex(uint64_t v, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(digits, '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[i] = kDigits[v & 0xF];
  return out;
}

}  // namespace

RealisticSpans::RealisticSpans(uint64_t seed, RealisticOptions options)
    : rng_(seed), options_(options) {
  clock_ = options_.start_unix_nano
               ? options_.start_unix_nano
               : static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
}

model::SpanBatch RealisticSpans::Batch(size_t min_spans) {
  model::SpanBatch b;
  auto text = [&](std::string_view s) { return b.arena.Copy(s); };
  std::vector<int64_t> resource_of_service(options_.services, -1);
  b.scopes.push_back(model::Scope{text("ariadne-gen"), text("1.0.0"), {0, 0}, 0, {}});
  std::lognormal_distribution<double> duration_ms(std::log(2.0), 1.0);
  std::uniform_real_distribution<double> unit(0, 1);

  while (b.spans.size() < min_spans) {
    model::TraceId trace;
    const uint64_t epoch_seconds = clock_ / 1'000'000'000ULL;
    // X-Ray-compatible trace ids: the first 4 bytes are the epoch seconds.
    uint32_t be = __builtin_bswap32(static_cast<uint32_t>(epoch_seconds));
    std::memcpy(trace.bytes.data(), &be, 4);
    uint64_t r1 = rng_(), r2 = rng_();
    std::memcpy(trace.bytes.data() + 4, &r1, 8);
    std::memcpy(trace.bytes.data() + 12, &r2, 4);
    const int spans_in_trace = 1 + static_cast<int>(rng_() % options_.max_spans_per_trace);
    const uint64_t trace_start = clock_;
    clock_ += options_.trace_interval_nano;
    std::vector<model::SpanId> ids;
    std::vector<uint64_t> starts;
    for (int i = 0; i < spans_in_trace; ++i) {
      model::Span s;
      s.trace_id = trace;
      uint64_t sid = rng_() | 1;
      std::memcpy(s.span_id.bytes.data(), &sid, 8);
      size_t parent = 0;
      if (i > 0) {
        parent = rng_() % ids.size();
        s.parent_span_id = ids[parent];
      }
      const int service = static_cast<int>(rng_() % options_.services);
      if (resource_of_service[service] < 0) {
        uint32_t begin = static_cast<uint32_t>(b.attributes.size());
        b.attributes.push_back({text("service.name"),
                                model::Value::String(text("service-" + std::to_string(service)))});
        b.attributes.push_back({text("host.name"), model::Value::String(text(
                                                       "ip-10-0-0-" + std::to_string(service)))});
        b.attributes.push_back(
            {text("telemetry.sdk.language"), model::Value::String(text("python"))});
        b.resources.push_back(model::Resource{{begin, 3}, 0, {}});
        resource_of_service[service] = static_cast<int64_t>(b.resources.size() - 1);
      }
      s.resource_index = static_cast<uint32_t>(resource_of_service[service]);
      const int name = static_cast<int>(rng_() % options_.names_per_service);
      s.name = text("service-" + std::to_string(service) + "/op-" + std::to_string(name));
      s.kind = i == 0 ? model::SpanKind::kServer
                      : (rng_() % 3 == 0 ? model::SpanKind::kClient : model::SpanKind::kInternal);
      const uint64_t start = i == 0 ? trace_start : starts[parent] + 1000 + rng_() % 200'000;
      starts.push_back(start);
      s.start_time_unix_nano = start;
      s.end_time_unix_nano = start + static_cast<uint64_t>(duration_ms(rng_) * 1e6);
      s.flags = 0x301;
      const bool error = unit(rng_) < options_.error_rate;
      if (error) {
        s.status_code = model::StatusCode::kError;
        s.status_message = text("internal error");
      }
      ids.push_back(s.span_id);
      s.attributes.begin = static_cast<uint32_t>(b.attributes.size());
      auto add = [&](std::string_view key, model::Value v) {
        b.attributes.push_back({text(key), v});
      };
      add("http.method", model::Value::String(text(kMethods[rng_() % 6])));
      add("http.route", model::Value::String(text("/api/v1/op" + std::to_string(name))));
      add("http.status_code", model::Value::Int(error ? 500 : (rng_() % 20 == 0 ? 404 : 200)));
      add("net.peer.name", model::Value::String(text("peer-" + std::to_string(rng_() % 20))));
      add("db.system", model::Value::String(text(kDbSystems[rng_() % 3])));
      add("db.rows", model::Value::Int(static_cast<int64_t>(rng_() % 100)));
      add("user.id", model::Value::String(text("user-" + std::to_string(rng_() % 10000))));
      add("app.request_id", model::Value::String(text(Hex(rng_(), 16))));
      add("app.feature_flag", model::Value::Bool(rng_() % 4 == 0));
      add("app.cart_value", model::Value::Double(static_cast<double>(rng_() % 100000) / 100.0));
      s.attributes.count = 10;
      b.spans.push_back(s);
    }
  }
  return b;
}

}  // namespace ariadne::gen
