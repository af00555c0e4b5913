#include "ariadne/sdk/otlp_exporter.h"

#include <curl/curl.h>
#include <zlib.h>

#include <cstring>
#include <ctime>
#include <random>
#include <thread>

#include "ariadne/sdk/resource.h"
#include "internal/env.h"
#include "internal/http_client.h"

namespace ariadne::sdk {

// ---------------------------------------------------------------------------------------------
// Protobuf writer. Nested messages are written with a one-byte length placeholder that is widened
// in place once the length is known (most KeyValues and AnyValues fit in one byte, so only spans
// and the outer envelopes pay a memmove).

namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

inline void PutVarint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

inline void PutTag(std::string& out, uint32_t field, WireType type) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | type);
}

inline void PutBytes(std::string& out, uint32_t field, const void* data, size_t n) {
  PutTag(out, field, kLen);
  PutVarint(out, n);
  out.append(static_cast<const char*>(data), n);
}

inline void PutString(std::string& out, uint32_t field, std::string_view s) {
  PutBytes(out, field, s.data(), s.size());
}

inline void PutFixed64(std::string& out, uint32_t field, uint64_t v) {
  PutTag(out, field, kFixed64);
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out.append(buf, 8);
}

inline void PutFixed32(std::string& out, uint32_t field, uint32_t v) {
  PutTag(out, field, kFixed32);
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out.append(buf, 4);
}

inline void PutUint(std::string& out, uint32_t field, uint64_t v) {
  PutTag(out, field, kVarint);
  PutVarint(out, v);
}

inline size_t BeginNested(std::string& out, uint32_t field) {
  PutTag(out, field, kLen);
  out.push_back('\0');
  return out.size();  // first byte of the body
}

inline void EndNested(std::string& out, size_t body_start) {
  const size_t len = out.size() - body_start;
  if (len < 0x80) {
    out[body_start - 1] = static_cast<char>(len);
    return;
  }
  char buf[10];
  size_t n = 0;
  uint64_t v = len;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.insert(body_start, n - 1, '\0');
  std::memcpy(&out[body_start - 1], buf, n);
}

void PutAnyValue(std::string& out, uint32_t field, const AttributeValue& v) {
  const size_t body = BeginNested(out, field);
  switch (v.type()) {
    case AttributeType::kString:
      PutString(out, 1, v.string_value());
      break;
    case AttributeType::kBool:
      PutUint(out, 2, v.bool_value() ? 1 : 0);
      break;
    case AttributeType::kInt64:
      PutUint(out, 3, static_cast<uint64_t>(v.int_value()));
      break;
    case AttributeType::kDouble: {
      uint64_t bits;
      double d = v.double_value();
      std::memcpy(&bits, &d, 8);
      PutFixed64(out, 4, bits);
      break;
    }
  }
  EndNested(out, body);
}

void PutKeyValue(std::string& out, uint32_t field, std::string_view key, const AttributeValue& v) {
  const size_t body = BeginNested(out, field);
  PutString(out, 1, key);
  PutAnyValue(out, 2, v);
  EndNested(out, body);
}

void PutSpan(std::string& out, const SpanData& s) {
  const size_t body = BeginNested(out, 2);  // ScopeSpans.spans
  const SpanContext& ctx = s.context();
  PutBytes(out, 1, ctx.trace_id.bytes.data(), 16);
  PutBytes(out, 2, ctx.span_id.bytes.data(), 8);
  if (!ctx.trace_state.empty()) PutString(out, 3, ctx.trace_state.header());
  if (s.parent_span_id().IsValid()) PutBytes(out, 4, s.parent_span_id().bytes.data(), 8);
  PutString(out, 5, s.name());
  PutUint(out, 6, static_cast<uint32_t>(s.kind()));
  PutFixed64(out, 7, s.start_ns());
  PutFixed64(out, 8, s.end_ns());
  for (size_t i = 0; i < s.attribute_count(); ++i) {
    const Attribute& a = s.attribute(i);
    PutKeyValue(out, 9, a.key, a.value);
  }
  if (s.dropped_attributes() != 0) PutUint(out, 10, s.dropped_attributes());
  for (const SpanEvent& e : s.events()) {
    const size_t ev = BeginNested(out, 11);
    PutFixed64(out, 1, e.time_ns);
    PutString(out, 2, e.name);
    for (const Attribute& a : e.attributes) PutKeyValue(out, 3, a.key, a.value);
    EndNested(out, ev);
  }
  if (s.dropped_events() != 0) PutUint(out, 12, s.dropped_events());
  for (const SpanLink& l : s.links()) {
    const size_t lk = BeginNested(out, 13);
    PutBytes(out, 1, l.context.trace_id.bytes.data(), 16);
    PutBytes(out, 2, l.context.span_id.bytes.data(), 8);
    if (!l.context.trace_state.empty()) PutString(out, 3, l.context.trace_state.header());
    for (const Attribute& a : l.attributes) PutKeyValue(out, 4, a.key, a.value);
    PutFixed32(out, 6, l.context.trace_flags | 0x100u | (l.context.is_remote ? 0x200u : 0u));
    EndNested(out, lk);
  }
  if (s.dropped_links() != 0) PutUint(out, 14, s.dropped_links());
  if (s.status() != StatusCode::kUnset) {
    const size_t st = BeginNested(out, 15);
    if (!s.status_message().empty()) PutString(out, 2, s.status_message());
    PutUint(out, 3, static_cast<uint32_t>(s.status()));
    EndNested(out, st);
  }
  uint32_t flags = ctx.trace_flags;
  if (s.parent_span_id().IsValid()) flags |= 0x100u | (s.parent_is_remote() ? 0x200u : 0u);
  PutFixed32(out, 16, flags);
  EndNested(out, body);
}

}  // namespace

void EncodeExportTraceServiceRequest(std::span<const SpanDataRef> spans, std::string& out) {
  // Group by resource, then scope, keeping first-seen order. Batches hold one or two of each,
  // so linear scans beat hashing.
  std::vector<const Resource*> resources;
  for (const SpanDataRef& s : spans) {
    const Resource* r = s->resource();
    bool seen = false;
    for (const Resource* x : resources) seen = seen || x == r;
    if (!seen) resources.push_back(r);
  }
  std::vector<const InstrumentationScope*> scopes;
  for (const Resource* resource : resources) {
    const size_t rs = BeginNested(out, 1);  // ExportTraceServiceRequest.resource_spans
    if (resource != nullptr) {
      const size_t res = BeginNested(out, 1);  // ResourceSpans.resource
      for (const OwnedAttribute& a : resource->attributes()) PutKeyValue(out, 1, a.key, a.value());
      EndNested(out, res);
    }
    scopes.clear();
    for (const SpanDataRef& s : spans) {
      if (s->resource() != resource) continue;
      bool seen = false;
      for (const InstrumentationScope* x : scopes) seen = seen || x == s->scope();
      if (!seen) scopes.push_back(s->scope());
    }
    for (const InstrumentationScope* scope : scopes) {
      const size_t ss = BeginNested(out, 2);  // ResourceSpans.scope_spans
      if (scope != nullptr) {
        const size_t sc = BeginNested(out, 1);
        if (!scope->name.empty()) PutString(out, 1, scope->name);
        if (!scope->version.empty()) PutString(out, 2, scope->version);
        EndNested(out, sc);
      }
      for (const SpanDataRef& s : spans) {
        if (s->resource() == resource && s->scope() == scope) PutSpan(out, *s);
      }
      EndNested(out, ss);
    }
    EndNested(out, rs);
  }
}

std::string GzipCompress(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return {};
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Configuration

std::string ResolveOtlpTracesUrl(std::string_view generic_endpoint,
                                 std::string_view traces_endpoint) {
  traces_endpoint = internal::Trim(traces_endpoint);
  if (!traces_endpoint.empty()) {
    std::string url(traces_endpoint);
    // Only an empty path becomes "/".
    size_t scheme = url.find("://");
    size_t path_start = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (path_start == std::string::npos) url += "/";
    return url;
  }
  generic_endpoint = internal::Trim(generic_endpoint);
  std::string base =
      generic_endpoint.empty() ? "http://localhost:4318" : std::string(generic_endpoint);
  if (base.back() != '/') base += '/';
  return base + "v1/traces";
}

std::chrono::milliseconds ParseRetryAfter(std::string_view value) {
  value = internal::Trim(value);
  if (value.empty()) return std::chrono::milliseconds(-1);
  long long secs = internal::ParseInt(value, -1);
  if (secs >= 0) return std::chrono::seconds(secs);
  std::string date(value);
  time_t t = curl_getdate(date.c_str(), nullptr);
  if (t < 0) return std::chrono::milliseconds(-1);
  const long long delta_ms =
      (static_cast<long long>(t) * 1000) - std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count();
  return std::chrono::milliseconds(std::max<long long>(delta_ms, 0));
}

OtlpHttpExporterOptions OtlpHttpExporterOptions::FromEnvironment() {
  OtlpHttpExporterOptions o;
  o.url = ResolveOtlpTracesUrl(internal::GetEnv("OTEL_EXPORTER_OTLP_ENDPOINT"),
                               internal::GetEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
  std::string headers = internal::GetEnv("OTEL_EXPORTER_OTLP_TRACES_HEADERS");
  if (headers.empty()) headers = internal::GetEnv("OTEL_EXPORTER_OTLP_HEADERS");
  for (auto& [k, v] : ParseKeyValueList(headers)) {
    std::string key = k;
    for (char& c : key) c = internal::AsciiLower(c);
    o.headers.emplace_back(std::move(key), std::move(v));
  }
  std::string compression = internal::GetEnv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION");
  if (compression.empty()) compression = internal::GetEnv("OTEL_EXPORTER_OTLP_COMPRESSION");
  o.gzip = internal::EqualsIgnoreCase(internal::Trim(compression), "gzip");
  long long timeout = internal::EnvInt("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", -1);
  if (timeout < 0) timeout = internal::EnvInt("OTEL_EXPORTER_OTLP_TIMEOUT", -1);
  if (timeout > 0) o.timeout = std::chrono::milliseconds(timeout);
  o.ca_file =
      std::string(internal::Trim(internal::GetEnv("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE")));
  if (o.ca_file.empty()) {
    o.ca_file = std::string(internal::Trim(internal::GetEnv("OTEL_EXPORTER_OTLP_CERTIFICATE")));
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Exporter

struct OtlpHttpExporter::Impl {
  internal::HttpClient client;
  std::string buffer;
  std::mt19937_64 rng{std::random_device{}()};
};

OtlpHttpExporter::OtlpHttpExporter(OtlpHttpExporterOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  impl_->client.set_ca_file(options_.ca_file);
  sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

OtlpHttpExporter::~OtlpHttpExporter() = default;

void OtlpHttpExporter::SetSleepForTest(std::function<void(std::chrono::milliseconds)> sleep) {
  sleep_ = std::move(sleep);
}

std::vector<std::chrono::milliseconds> OtlpHttpExporter::last_retry_delays() const {
  std::lock_guard lock(stats_mu_);
  return last_delays_;
}

std::string OtlpHttpExporter::last_error() const {
  std::lock_guard lock(stats_mu_);
  return last_error_;
}

void OtlpHttpExporter::Shutdown() { shut_down_ = true; }

ExportResult OtlpHttpExporter::Export(std::span<const SpanDataRef> spans) {
  if (spans.empty()) return ExportResult::kSuccess;
  if (shut_down_) return ExportResult::kFailure;
  std::string& body = impl_->buffer;
  body.clear();
  EncodeExportTraceServiceRequest(spans, body);
  std::string compressed;
  auto headers = options_.headers;
  headers.emplace_back("Content-Type", "application/x-protobuf");
  std::string_view payload = body;
  if (options_.gzip) {
    compressed = GzipCompress(body);
    payload = compressed;
    headers.emplace_back("Content-Encoding", "gzip");
  }

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + options_.timeout;
  std::vector<std::chrono::milliseconds> delays;
  std::string error;
  std::chrono::milliseconds backoff = options_.initial_backoff;
  bool ok = false;
  for (int attempt = 1;; ++attempt) {
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) {
      if (error.empty()) error = "export timed out";
      break;
    }
    internal::HttpResponse r = impl_->client.Post(options_.url, headers, payload, remaining);
    requests_.fetch_add(1);
    if (r.status >= 200 && r.status < 300) {
      ok = true;
      break;
    }
    const bool retryable =
        r.status == 0 || r.status == 429 || r.status == 502 || r.status == 503 || r.status == 504;
    error = r.status == 0 ? "no response from " + options_.url + ": " + r.error
                          : "HTTP " + std::to_string(r.status) + " from " + options_.url +
                                (r.body.empty() ? "" : ": " + r.body.substr(0, 200));
    if (!retryable || attempt >= options_.max_attempts) break;
    std::chrono::milliseconds delay = ParseRetryAfter(r.retry_after);
    if (delay.count() < 0) {
      // Exponential backoff with ±20 % jitter.
      std::uniform_real_distribution<double> jitter(0.8, 1.2);
      delay = std::chrono::milliseconds(
          static_cast<long long>(static_cast<double>(backoff.count()) * jitter(impl_->rng)));
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (delay >= left) {
      error += " (next retry would pass the export timeout)";
      break;
    }
    delays.push_back(delay);
    sleep_(delay);
  }
  {
    std::lock_guard lock(stats_mu_);
    last_delays_ = std::move(delays);
    if (!ok) last_error_ = error;
  }
  if (!ok) {
    failures_.fetch_add(1);
    return ExportResult::kFailure;
  }
  return ExportResult::kSuccess;
}

}  // namespace ariadne::sdk
