#include "tests/common/random_spans.h"

#include <cstring>
#include <map>

namespace ariadne::testing {

model::SpanBatch RandomSpans::Batch(size_t spans) {
  model::SpanBatch b;
  std::map<int, uint32_t> resource_of_service;
  auto resource_for = [&](int service) {
    auto it = resource_of_service.find(service);
    if (it != resource_of_service.end()) return it->second;
    uint32_t begin = static_cast<uint32_t>(b.attributes.size());
    b.attributes.push_back({Text(&b, "service.name"),
                            model::Value::String(Text(&b, "svc-" + std::to_string(service)))});
    b.attributes.push_back({Text(&b, "host.name"),
                            model::Value::String(Text(&b, "host-" + std::to_string(service % 3)))});
    b.attributes.push_back(
        {Text(&b, "telemetry.sdk.language"), model::Value::String(Text(&b, "cpp"))});
    b.resources.push_back(model::Resource{{begin, 3}, 0, {}});
    uint32_t index = static_cast<uint32_t>(b.resources.size() - 1);
    resource_of_service[service] = index;
    return index;
  };
  b.scopes.push_back(model::Scope{Text(&b, "ariadne.test"), Text(&b, "1.0.0"), {0, 0}, 0, {}});

  while (b.spans.size() < spans) {
    model::TraceId trace;
    uint64_t a = Next(), c = Next();
    std::memcpy(trace.bytes.data(), &a, 8);
    std::memcpy(trace.bytes.data() + 8, &c, 8);
    trace.bytes[0] |= 1;  // never all zero
    const int n = 1 + static_cast<int>(Next() % options_.spans_per_trace_max);
    std::vector<model::SpanId> ids;
    const uint64_t trace_start =
        options_.base_time_unix_nano + (clock_ += 1'000'000 + Next() % 5'000'000);
    for (int i = 0; i < n; ++i) {
      model::Span s;
      s.trace_id = trace;
      uint64_t sid = Next() | 1;
      std::memcpy(s.span_id.bytes.data(), &sid, 8);
      if (i > 0) s.parent_span_id = ids[Next() % ids.size()];
      ids.push_back(s.span_id);
      const int service = static_cast<int>(Next() % options_.services);
      s.resource_index = resource_for(service);
      s.scope_index = 0;
      s.name = Text(&b, "op-" + std::to_string(Next() % options_.names));
      s.kind = static_cast<model::SpanKind>(i == 0 ? 2 : 1 + Next() % 5);
      s.start_time_unix_nano = trace_start + static_cast<uint64_t>(i) * 10'000 + Next() % 1000;
      s.end_time_unix_nano = s.start_time_unix_nano + 1000 + Next() % 50'000'000;
      s.flags = 0x101;
      if ((Next() % 1000) < options_.error_probability * 1000) {
        s.status_code = model::StatusCode::kError;
        s.status_message = Text(&b, "upstream failed");
      }
      s.attributes.begin = static_cast<uint32_t>(b.attributes.size());
      for (int k = 0; k < options_.attributes_per_span; ++k) {
        model::KeyValue kv;
        switch (k % 5) {
          case 0:
            kv = {Text(&b, "http.route"),
                  model::Value::String(Text(&b, "/api/r" + std::to_string(Next() % 30)))};
            break;
          case 1:
            kv = {Text(&b, "http.status_code"), model::Value::Int(Next() % 2 ? 200 : 503)};
            break;
          case 2:
            kv = {Text(&b, "user.id"),
                  model::Value::String(Text(&b, "user-" + std::to_string(Next() % 10000)))};
            break;
          case 3:
            kv = {Text(&b, "app.ratio"), model::Value::Double((Next() % 1000) / 7.0)};
            break;
          case 4:
            kv = {Text(&b, "app.cached"), model::Value::Bool(Next() % 2)};
            break;
        }
        if (k >= 5) kv.key = Text(&b, std::string(kv.key) + "." + std::to_string(k));
        b.attributes.push_back(kv);
      }
      s.attributes.count = static_cast<uint32_t>(b.attributes.size()) - s.attributes.begin;
      if ((Next() % 1000) < options_.event_probability * 1000) {
        uint32_t begin = static_cast<uint32_t>(b.attributes.size());
        b.attributes.push_back(
            {Text(&b, "exception.message"), model::Value::String(Text(&b, "boom"))});
        b.events.push_back(
            model::Event{s.start_time_unix_nano + 5, Text(&b, "exception"), {begin, 1}, 0});
        s.events = {static_cast<uint32_t>(b.events.size() - 1), 1};
      }
      if ((Next() % 1000) < options_.link_probability * 1000) {
        model::Link l;
        l.trace_id = trace;
        l.span_id = ids[0];
        l.flags = 1;
        b.links.push_back(l);
        s.links = {static_cast<uint32_t>(b.links.size() - 1), 1};
      }
      b.spans.push_back(s);
    }
  }
  return b;
}

}  // namespace ariadne::testing
