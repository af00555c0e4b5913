// OTLP trace decode throughput: the hand-written protobuf walker (into a SpanBatch) against
// libprotobuf 3.21 (parse only, reused message or a reused-block Arena), plus the OTLP/JSON
// decoder. Workload as in docs/dependencies.md §3: one ExportTraceServiceRequest = 1 resource (3
// attributes), 1 scope, 512 spans x 10 attributes (6 string, 2 int, 1 bool, 1 double), 16/8/8-byte
// ids; eight different batches are rotated. Reports spans/s (items) and body bytes/s.

#include <benchmark/benchmark.h>
#include <google/protobuf/arena.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "receivers/otlp/otlp_codec.h"

namespace {

using ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
namespace otlp = ::ariadne::receivers::otlp;

constexpr int kSpansPerBatch = 512;
constexpr int kBatches = 8;

ExportTraceServiceRequest MakeBatch(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng() | 1);
    return s;
  };
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto add_str = [](auto* attrs, std::string key, std::string value) {
    auto* kv = attrs->Add();
    kv->set_key(std::move(key));
    kv->mutable_value()->set_string_value(std::move(value));
  };
  add_str(rs->mutable_resource()->mutable_attributes(), "service.name", "backend-flask");
  add_str(rs->mutable_resource()->mutable_attributes(), "host.name", "ip-10-0-3-17");
  add_str(rs->mutable_resource()->mutable_attributes(), "telemetry.sdk.language", "python");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("opentelemetry.instrumentation.flask");
  ss->mutable_scope()->set_version("0.41b0");
  const std::string trace_id = bytes(16);
  for (int i = 0; i < kSpansPerBatch; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(i % 16 == 0 ? bytes(16) : trace_id);
    span->set_span_id(bytes(8));
    span->set_parent_span_id(bytes(8));
    span->set_name("GET /api/activities/" + std::to_string(rng() % 1000));
    span->set_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
    uint64_t start = 1700000000000000000ull + rng() % 1000000000;
    span->set_start_time_unix_nano(start);
    span->set_end_time_unix_nano(start + rng() % 100000000);
    auto* attrs = span->mutable_attributes();
    add_str(attrs, "http.method", "GET");
    add_str(attrs, "http.route", "/api/activities/home");
    add_str(attrs, "http.url",
            "https://api.example.com/api/activities/home?page=" + std::to_string(rng() % 100));
    add_str(attrs, "http.user_agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0");
    add_str(attrs, "net.peer.ip", "10.0." + std::to_string(rng() % 256) + ".7");
    add_str(attrs, "user.id", "user-" + std::to_string(rng() % 100000));
    for (const char* key : {"http.status_code", "http.response_content_length"}) {
      auto* kv = attrs->Add();
      kv->set_key(key);
      kv->mutable_value()->set_int_value(static_cast<int64_t>(rng() % 100000));
    }
    auto* b = attrs->Add();
    b->set_key("cache.hit");
    b->mutable_value()->set_bool_value(rng() & 1);
    auto* d = attrs->Add();
    d->set_key("db.duration_ms");
    d->mutable_value()->set_double_value(static_cast<double>(rng() % 100000) / 7.0);
    span->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_OK);
    span->set_flags(0x101);
  }
  return req;
}

void AppendHex(std::string& out, const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
}

// OTLP/JSON for the workload above (no escaping needed: the strings are plain ASCII).
std::string ToJson(const ExportTraceServiceRequest& req) {
  auto attrs_json = [](const auto& attrs) {
    std::string out = "[";
    for (int i = 0; i < attrs.size(); ++i) {
      const auto& kv = attrs[i];
      if (i) out += ',';
      out += "{\"key\":\"" + kv.key() + "\",\"value\":{";
      const auto& v = kv.value();
      if (v.has_string_value()) out += "\"stringValue\":\"" + v.string_value() + "\"";
      if (v.has_int_value()) out += "\"intValue\":\"" + std::to_string(v.int_value()) + "\"";
      if (v.has_bool_value()) out += v.bool_value() ? "\"boolValue\":true" : "\"boolValue\":false";
      if (v.has_double_value()) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.17g", v.double_value());
        out += std::string("\"doubleValue\":") + buf;
      }
      out += "}}";
    }
    return out + "]";
  };
  const auto& rs = req.resource_spans(0);
  const auto& ss = rs.scope_spans(0);
  std::string out = "{\"resourceSpans\":[{\"resource\":{\"attributes\":" +
                    attrs_json(rs.resource().attributes()) +
                    "},\"scopeSpans\":[{\"scope\":{\"name\":\"" + ss.scope().name() +
                    "\",\"version\":\"" + ss.scope().version() + "\"},\"spans\":[";
  for (int i = 0; i < ss.spans_size(); ++i) {
    const auto& s = ss.spans(i);
    if (i) out += ',';
    out += "{\"traceId\":\"";
    AppendHex(out, s.trace_id());
    out += "\",\"spanId\":\"";
    AppendHex(out, s.span_id());
    out += "\",\"parentSpanId\":\"";
    AppendHex(out, s.parent_span_id());
    out += "\",\"name\":\"" + s.name() + "\",\"kind\":" + std::to_string(s.kind()) +
           ",\"startTimeUnixNano\":\"" + std::to_string(s.start_time_unix_nano()) +
           "\",\"endTimeUnixNano\":\"" + std::to_string(s.end_time_unix_nano()) +
           "\",\"attributes\":" + attrs_json(s.attributes()) +
           ",\"status\":{\"code\":1},\"flags\":" + std::to_string(s.flags()) + "}";
  }
  return out + "]}]}]}";
}

struct Workload {
  std::vector<std::shared_ptr<const std::string>> protobuf;
  std::vector<std::string> json;
  size_t protobuf_bytes = 0, json_bytes = 0;

  Workload() {
    for (int i = 0; i < kBatches; ++i) {
      ExportTraceServiceRequest req = MakeBatch(1000 + i);
      protobuf.push_back(std::make_shared<const std::string>(req.SerializeAsString()));
      json.push_back(ToJson(req));
      protobuf_bytes += protobuf.back()->size();
      json_bytes += json.back().size();
      // Check the answer before timing anything.
      auto walked = otlp::DecodeProtobufRequest(protobuf.back());
      auto from_json = otlp::DecodeJsonRequest(json.back());
      ExportTraceServiceRequest parsed;
      if (!walked.ok() || walked->batch.spans.size() != kSpansPerBatch ||
          walked->batch.attributes.size() != kSpansPerBatch * 10 + 3 || !from_json.ok() ||
          from_json->batch.spans.size() != kSpansPerBatch ||
          !parsed.ParseFromString(*protobuf.back()) ||
          parsed.resource_spans(0).scope_spans(0).spans_size() != kSpansPerBatch ||
          walked->batch.spans[7].name != from_json->batch.spans[7].name) {
        std::fprintf(stderr, "benchmark workload does not decode as expected\n");
        std::abort();
      }
    }
  }
};

const Workload& GetWorkload() {
  static const Workload* workload = new Workload();
  return *workload;
}

void Report(benchmark::State& state, size_t total_bytes) {
  state.SetItemsProcessed(state.iterations() * kSpansPerBatch);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (total_bytes / kBatches)));
  state.counters["bytes_per_span"] = static_cast<double>(total_bytes) / (kBatches * kSpansPerBatch);
}

void BM_WalkerDecodeToSpanBatch(benchmark::State& state) {
  const Workload& w = GetWorkload();
  size_t i = 0;
  for (auto _ : state) {
    auto decoded = otlp::DecodeProtobufRequest(w.protobuf[i++ % kBatches]);
    benchmark::DoNotOptimize(decoded->batch.spans.data());
  }
  Report(state, w.protobuf_bytes);
}
BENCHMARK(BM_WalkerDecodeToSpanBatch);

void BM_LibprotobufReusedMessage(benchmark::State& state) {
  const Workload& w = GetWorkload();
  ExportTraceServiceRequest message;
  size_t i = 0;
  for (auto _ : state) {
    message.Clear();
    bool ok = message.ParseFromString(*w.protobuf[i++ % kBatches]);
    benchmark::DoNotOptimize(ok);
  }
  Report(state, w.protobuf_bytes);
}
BENCHMARK(BM_LibprotobufReusedMessage);

void BM_LibprotobufArenaReusedBlock(benchmark::State& state) {
  const Workload& w = GetWorkload();
  constexpr size_t kBlock = 4 << 20;
  std::unique_ptr<char[]> block(new char[kBlock]);
  google::protobuf::ArenaOptions options;
  options.initial_block = block.get();
  options.initial_block_size = kBlock;
  size_t i = 0;
  for (auto _ : state) {
    google::protobuf::Arena arena(options);
    auto* message = google::protobuf::Arena::CreateMessage<ExportTraceServiceRequest>(&arena);
    bool ok = message->ParseFromString(*w.protobuf[i++ % kBatches]);
    benchmark::DoNotOptimize(ok);
  }
  Report(state, w.protobuf_bytes);
}
BENCHMARK(BM_LibprotobufArenaReusedBlock);

void BM_JsonDecodeToSpanBatch(benchmark::State& state) {
  const Workload& w = GetWorkload();
  size_t i = 0;
  for (auto _ : state) {
    auto decoded = otlp::DecodeJsonRequest(w.json[i++ % kBatches]);
    benchmark::DoNotOptimize(decoded->batch.spans.data());
  }
  Report(state, w.json_bytes);
}
BENCHMARK(BM_JsonDecodeToSpanBatch);

}  // namespace
