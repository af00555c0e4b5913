#include "api/api_handler.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>

#include <nlohmann/json.hpp>

#include "common/json_dump.h"
#include "common/json_writer.h"
#include "query/xray/trace_id_time.h"

namespace ariadne::api {
namespace {

using nlohmann::json;

net::HttpResponse JsonResponse(int status, const json& body) {
  return net::HttpResponse(status, "application/json", DumpJson(body) + "\n");
}

net::HttpResponse JsonError(int status, std::string message) {
  return JsonResponse(status, json{{"error", std::move(message)}, {"status", status}});
}

std::string Base64(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16 | static_cast<uint8_t>(data[i + 1]) << 8 |
                 static_cast<uint8_t>(data[i + 2]);
    out.push_back(kAlphabet[n >> 18 & 63]);
    out.push_back(kAlphabet[n >> 12 & 63]);
    out.push_back(kAlphabet[n >> 6 & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (i + 1 == data.size()) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16;
    out.push_back(kAlphabet[n >> 18 & 63]);
    out.push_back(kAlphabet[n >> 12 & 63]);
    out.append("==");
  } else if (i + 2 == data.size()) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16 | static_cast<uint8_t>(data[i + 1]) << 8;
    out.push_back(kAlphabet[n >> 18 & 63]);
    out.push_back(kAlphabet[n >> 12 & 63]);
    out.push_back(kAlphabet[n >> 6 & 63]);
    out.push_back('=');
  }
  return out;
}

// Writes an attribute value; doubles that are not finite as the strings "NaN"/"Infinity".
void WriteValue(JsonWriter& w, const model::Value& value) {
  switch (value.type) {
    case model::ValueType::kEmpty:
      w.Null();
      return;
    case model::ValueType::kString:
      w.String(value.str);
      return;
    case model::ValueType::kBool:
      w.Bool(value.bool_value);
      return;
    case model::ValueType::kInt:
      w.Int(value.int_value);
      return;
    case model::ValueType::kDouble:
      if (std::isnan(value.double_value)) {
        w.String("NaN");
      } else if (std::isinf(value.double_value)) {
        w.String(value.double_value > 0 ? "Infinity" : "-Infinity");
      } else {
        w.Double(value.double_value);
      }
      return;
    case model::ValueType::kBytes:
      w.String(Base64(value.str));
      return;
    case model::ValueType::kArray:
    case model::ValueType::kKvList:
      // Stored as JSON text by the decoders; anything that is not valid JSON goes out as a string.
      if (json::accept(value.str)) {
        w.Raw(value.str);
      } else {
        w.String(value.str);
      }
      return;
  }
  w.Null();
}

void WriteAttributes(JsonWriter& w, const model::SpanBatch& batch, model::Range range) {
  w.BeginArray();
  for (uint32_t i = range.begin; i < range.end() && i < batch.attributes.size(); ++i) {
    const model::KeyValue& kv = batch.attributes[i];
    w.BeginObject();
    w.Member("key", kv.key);
    w.Member("type", model::ValueTypeName(kv.value.type));
    w.Key("value");
    WriteValue(w, kv.value);
    w.EndObject();
  }
  w.EndArray();
}

double DurationMs(uint64_t start, uint64_t end) {
  return end > start ? static_cast<double>(end - start) / 1e6 : 0.0;
}

std::string Rfc3339(uint64_t unix_nano) {
  time_t seconds = static_cast<time_t>(unix_nano / 1'000'000'000);
  uint64_t nanos = unix_nano % 1'000'000'000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned long long>(nanos));
  return buf;
}

void WriteSpan(JsonWriter& w, const model::SpanBatch& batch, const model::Span& span,
               std::string_view env) {
  w.BeginObject();
  w.Member("trace_id", span.trace_id.ToHex());
  w.Member("span_id", span.span_id.ToHex());
  w.Member("parent_span_id", span.is_root() ? std::string() : span.parent_span_id.ToHex());
  w.Member("name", span.name);
  w.Member("kind", model::SpanKindName(span.kind));
  w.Key("kind_code");
  w.Int(static_cast<int>(span.kind));
  w.Member("start_time_unix_nano", std::to_string(span.start_time_unix_nano));
  w.Member("end_time_unix_nano", std::to_string(span.end_time_unix_nano));
  w.Key("duration_ms");
  w.Double(DurationMs(span.start_time_unix_nano, span.end_time_unix_nano));
  w.Key("status");
  w.BeginObject();
  w.Member("code", model::StatusCodeName(span.status_code));
  w.Member("message", span.status_message);
  w.EndObject();
  w.Member("trace_state", span.trace_state);
  w.Key("flags");
  w.Uint(span.flags);
  w.Member("service_name", batch.ServiceNameOf(span));
  w.Member("environment", env);
  w.Key("resource");
  w.BeginObject();
  w.Key("attributes");
  if (span.resource_index < batch.resources.size()) {
    const model::Resource& resource = batch.resources[span.resource_index];
    WriteAttributes(w, batch, resource.attributes);
    w.Key("dropped_attributes_count");
    w.Uint(resource.dropped_attributes_count);
    w.Member("schema_url", resource.schema_url);
  } else {
    WriteAttributes(w, batch, {});
    w.Key("dropped_attributes_count");
    w.Uint(0);
    w.Member("schema_url", "");
  }
  w.EndObject();
  w.Key("scope");
  w.BeginObject();
  if (span.scope_index < batch.scopes.size()) {
    const model::Scope& scope = batch.scopes[span.scope_index];
    w.Member("name", scope.name);
    w.Member("version", scope.version);
    w.Key("attributes");
    WriteAttributes(w, batch, scope.attributes);
    w.Key("dropped_attributes_count");
    w.Uint(scope.dropped_attributes_count);
    w.Member("schema_url", scope.schema_url);
  } else {
    w.Member("name", "");
    w.Member("version", "");
    w.Key("attributes");
    WriteAttributes(w, batch, {});
    w.Key("dropped_attributes_count");
    w.Uint(0);
    w.Member("schema_url", "");
  }
  w.EndObject();
  w.Key("attributes");
  WriteAttributes(w, batch, span.attributes);
  w.Key("dropped_attributes_count");
  w.Uint(span.dropped_attributes_count);
  w.Key("dropped_events_count");
  w.Uint(span.dropped_events_count);
  w.Key("dropped_links_count");
  w.Uint(span.dropped_links_count);
  w.Key("events");
  w.BeginArray();
  for (uint32_t i = span.events.begin; i < span.events.end() && i < batch.events.size(); ++i) {
    const model::Event& event = batch.events[i];
    w.BeginObject();
    w.Member("time_unix_nano", std::to_string(event.time_unix_nano));
    w.Member("name", event.name);
    w.Key("attributes");
    WriteAttributes(w, batch, event.attributes);
    w.Key("dropped_attributes_count");
    w.Uint(event.dropped_attributes_count);
    w.EndObject();
  }
  w.EndArray();
  w.Key("links");
  w.BeginArray();
  for (uint32_t i = span.links.begin; i < span.links.end() && i < batch.links.size(); ++i) {
    const model::Link& link = batch.links[i];
    w.BeginObject();
    w.Member("trace_id", link.trace_id.ToHex());
    w.Member("span_id", link.span_id.ToHex());
    w.Member("trace_state", link.trace_state);
    w.Key("flags");
    w.Uint(link.flags);
    w.Key("attributes");
    WriteAttributes(w, batch, link.attributes);
    w.Key("dropped_attributes_count");
    w.Uint(link.dropped_attributes_count);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::string TraceToJson(const model::TraceId& id, const store::TraceResult& trace) {
  const model::SpanBatch& batch = trace.spans;
  std::vector<size_t> order(batch.spans.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return batch.spans[a].start_time_unix_nano < batch.spans[b].start_time_unix_nano;
  });
  uint64_t start = UINT64_MAX, end = 0;
  std::vector<std::string> services;
  std::set<std::string> environments;
  for (size_t span_idx : order) {
    const model::Span& span = batch.spans[span_idx];
    start = std::min(start, span.start_time_unix_nano);
    end = std::max(end, span.end_time_unix_nano);
    std::string service(batch.ServiceNameOf(span));
    if (std::find(services.begin(), services.end(), service) == services.end()) {
      services.push_back(std::move(service));
    }
    if (span_idx < trace.environments.size()) environments.insert(trace.environments[span_idx]);
  }
  if (order.empty()) start = 0;
  // Streamed: a DOM for a 10,000-span trace costs more than the spans themselves.
  std::string out;
  out.reserve(1024 + batch.spans.size() * 900);
  JsonWriter w(&out);
  w.BeginObject();
  w.Member("trace_id", id.ToHex());
  w.Member("xray_trace_id", model::FormatXrayTraceId(id));
  w.Key("span_count");
  w.Uint(batch.spans.size());
  w.Key("services");
  w.BeginArray();
  for (const std::string& s : services) w.String(s);
  w.EndArray();
  w.Key("environments");
  w.BeginArray();
  for (const std::string& e : environments) w.String(e);
  w.EndArray();
  w.Member("start_time_unix_nano", std::to_string(start));
  w.Member("end_time_unix_nano", std::to_string(end));
  w.Member("start", Rfc3339(start));
  w.Key("duration_ms");
  w.Double(DurationMs(start, end));
  w.Key("spans");
  w.BeginArray();
  for (size_t span_idx : order) {
    std::string_view env = span_idx < trace.environments.size()
                               ? std::string_view(trace.environments[span_idx])
                               : std::string_view();
    WriteSpan(w, batch, batch.spans[span_idx], env);
  }
  w.EndArray();
  w.EndObject();
  out.push_back('\n');
  return out;
}

uint64_t ProcessRssBytes() {
  FILE* file = std::fopen("/proc/self/statm", "r");
  if (file == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  int fields = std::fscanf(file, "%llu %llu", &size, &resident);
  std::fclose(file);
  if (fields != 2) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

ApiHandler::ApiHandler(store::SpanStore* store, const pipeline::IngestMetrics* metrics,
                       QueryRoutesOptions query_options, ApiHandlerOptions options)
    : store_(store),
      metrics_(metrics),
      query_routes_(std::make_unique<QueryRoutes>(store, query_options)),
      reads_(std::make_unique<net::HandlerPool>(options.read_threads, options.read_queue)) {}

net::HttpHandler ApiHandler::AsHandler() {
  return [this](net::HttpRequest&& request, net::Responder respond) {
    Handle(std::move(request), std::move(respond));
  };
}

void ApiHandler::Handle(net::HttpRequest&& request, net::Responder respond) {
  if (query_routes_->Handle(request, respond)) return;
  const std::string& path = request.path;
  const bool is_read = request.method == "GET";
  auto method_not_allowed = [&] {
    auto response = JsonError(405, "method " + request.method + " not allowed on " + path);
    response.SetHeader("Allow", "GET");
    return response;
  };
  constexpr std::string_view kTracePrefix = "/api/v1/traces/";
  const bool is_trace = path.compare(0, kTracePrefix.size(), kTracePrefix) == 0;
  if ((is_trace || path == "/api/v1/services") && is_read) {
    // Store reads run on the read pool, so /healthz and /metrics never wait behind them.
    CancelFlagPtr cancel = request.cancel;
    std::string id =
        is_trace ? net::PercentDecode(std::string_view(path).substr(kTracePrefix.size()), false)
                 : std::string();
    reads_->Run(
        std::move(cancel), std::move(respond),
        [this, is_trace, id = std::move(id), request = std::move(request)] {
          return is_trace ? GetTrace(request, id) : ListServices(request);
        },
        [] {
          auto busy = JsonError(503, "too many reads are running; retry shortly");
          busy.SetHeader("Retry-After", "1");
          return busy;
        });
    return;
  }
  net::HttpResponse response;
  if (is_trace || path == "/api/v1/services") {
    response = method_not_allowed();
  } else if (path == "/api/v1/info") {
    response = is_read ? server_info_.Response() : method_not_allowed();
  } else if (path == "/healthz") {
    response = is_read ? JsonResponse(200, json{{"status", "ok"}}) : method_not_allowed();
  } else if (path == "/readyz") {
    // Readiness: the store takes appends and answers reads (ClickHouse reachable).
    const Status ready = store_->Ready();
    response = !is_read     ? method_not_allowed()
               : ready.ok() ? JsonResponse(200, json{{"status", "ready"}})
                            : JsonResponse(503, json{{"status", "not ready"},
                                                     {"reason", std::string(ready.message())}});
  } else if (path == "/metrics") {
    response = is_read ? Metrics() : method_not_allowed();
  } else if (path == "/" && is_read) {
    response = net::HttpResponse(
        200, "text/plain; charset=utf-8",
        "ariadne query API\n  GET /api/v1/traces/{trace_id}\n  GET /api/v1/services\n"
        "  GET /healthz\n  GET /readyz\n  GET /metrics\n"
        "Jaeger-compatible (docs/api.md)\n  GET /api/services\n  GET /api/operations?service=\n"
        "  GET /api/traces?service=\n  GET /api/traces/{trace_id}\n  GET /api/dependencies\n");
  } else {
    response = JsonError(
        404, "no such endpoint: " + request.method + " " + path + " (see GET / for the list)");
  }
  respond(std::move(response));
}

net::HttpResponse ApiHandler::GetTrace(const net::HttpRequest& request, std::string_view id_text) {
  std::optional<model::TraceId> id = model::ParseAnyTraceId(id_text);
  if (!id) {
    return JsonError(400, "malformed trace id '" + std::string(id_text) +
                              "': expected 32 hex digits or an X-Ray id like "
                              "1-5759e988-bd862e3fe1be46a994272793");
  }
  std::string_view environment = request.QueryParam("environment").value_or("");
  // Where the trace is in time, so engines with time partitions read only those around it:
  // `near` (unix nanos a span of the trace starts at; the UI's trace lists pass the trace's start)
  // or the second an X-Ray id names (query/xray/trace_id_time.h). The trace is read everywhere
  // when it is not there (a link or an id whose time is off).
  std::optional<store::TraceTimeHint> hint;
  if (auto near = request.QueryParam("near"); near && !near->empty()) {
    uint64_t nanos = 0;
    auto [end, ec] = std::from_chars(near->data(), near->data() + near->size(), nanos);
    if (ec != std::errc() || end != near->data() + near->size() || nanos == 0) {
      return JsonError(400, "near='" + std::string(*near) +
                                "' is not a time: pass the unix nanoseconds a span of the trace "
                                "starts at, or leave it out");
    }
    hint = query::xray::TraceStartsHint(nanos, nanos);
  } else {
    hint = query::xray::XrayTraceIdTimeHint(id_text, static_cast<double>(std::time(nullptr)));
  }
  Result<store::TraceResult> trace =
      hint ? store_->GetTraceNear(*id, environment, *hint) : Status::NotFound("");
  if (!hint || trace.status().IsNotFound()) trace = store_->GetTrace(*id, environment);
  if (!trace.ok()) {
    if (trace.status().IsNotFound()) {
      return JsonError(404, "trace " + id->ToHex() + " not found");
    }
    if (trace.status().IsUnavailable()) return Unavailable(trace.status());
    return JsonError(
        500, "reading trace " + id->ToHex() + " failed: " + std::string(trace.status().message()));
  }
  if (trace->spans.spans.empty()) return JsonError(404, "trace " + id->ToHex() + " not found");
  return net::HttpResponse(200, "application/json", TraceToJson(*id, *trace));
}

// The store's server (ClickHouse) is unreachable or not ready: 503 + Retry-After, as ingest.
net::HttpResponse ApiHandler::Unavailable(const Status& status) {
  net::HttpResponse response = JsonError(503, std::string(status.message()));
  response.SetHeader("Retry-After", "1");
  return response;
}

net::HttpResponse ApiHandler::ListServices(const net::HttpRequest& request) {
  std::string_view environment = request.QueryParam("environment").value_or("");
  auto services = store_->ListServices(environment);
  if (!services.ok()) {
    if (services.status().IsUnavailable()) return Unavailable(services.status());
    return JsonError(500, "listing services failed: " + std::string(services.status().message()));
  }
  json list = json::array();
  for (const store::ServiceSummary& service : *services) {
    list.push_back({{"environment", service.environment},
                    {"name", service.name},
                    {"span_count", service.span_count},
                    {"trace_root_count", service.trace_root_count},
                    {"error_count", service.error_count},
                    {"first_seen_unix_nano", std::to_string(service.first_seen_unix_nano)},
                    {"last_seen_unix_nano", std::to_string(service.last_seen_unix_nano)}});
  }
  return JsonResponse(200, json{{"services", std::move(list)}});
}

net::HttpResponse ApiHandler::Metrics() {
  std::string out;
  out.reserve(4096);
  if (metrics_ != nullptr) metrics_->AppendPrometheus(&out);
  auto metric = [&out](std::string_view name, std::string_view type, std::string_view help,
                       uint64_t value) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    out.append(name).append(" ").append(std::to_string(value)).append("\n");
  };
  // The store's counters come from its operator role (StoreAdmin, the embedded engine); an
  // engine without one (ClickHouse) shows none of them rather than zeros.
  if (const store::StoreAdmin* admin = store_->Admin()) {
    const store::StoreStats stats = admin->Stats();
    metric("ariadne_store_spans_appended_total", "counter", "Spans appended to the store.",
           stats.spans_appended);
    metric("ariadne_store_batches_appended_total", "counter", "Batches appended to the store.",
           stats.batches_appended);
    metric("ariadne_store_append_errors_total", "counter", "Appends that failed.",
           stats.append_errors);
    out.append(
        "# HELP ariadne_store_appends_refused_total Appends refused for backpressure (answered 503 "
        "with Retry-After), by reason: behind (spans waiting for the group commit), sealing (a "
        "head "
        "seals and the next is full), wal_buffer (WAL records past their --memory-limit share).\n"
        "# TYPE ariadne_store_appends_refused_total counter\n");
    for (const auto& [reason, count] :
         {std::pair<const char*, uint64_t>{"behind", stats.appends_refused_behind},
          {"sealing", stats.appends_refused_sealing},
          {"wal_buffer", stats.appends_refused_wal_buffer}}) {
      out.append("ariadne_store_appends_refused_total{reason=\"")
          .append(reason)
          .append("\"} ")
          .append(std::to_string(count))
          .append("\n");
    }
    metric("ariadne_store_wal_bytes_total", "counter", "Bytes written to the write-ahead log.",
           stats.wal_bytes);
    metric("ariadne_store_wal_syncs_total", "counter", "Group-commit fsyncs of the WAL.",
           stats.wal_syncs);
    metric("ariadne_store_head_spans", "gauge", "Spans in memory not yet sealed into a block.",
           stats.head_spans);
    metric("ariadne_store_head_bytes", "gauge",
           "Bytes of the decoded heads in memory (live and being sealed) and of a running seal's "
           "sorted copies.",
           stats.head_bytes);
    metric("ariadne_store_wal_buffer_bytes", "gauge",
           "Bytes of WAL records waiting for the group commit, and of its buffer.",
           stats.wal_buffer_bytes);
    metric("ariadne_store_blocks", "gauge", "Block files on disk.", stats.blocks);
    metric("ariadne_store_block_bytes", "gauge",
           "Bytes of block files on disk (with their trace-summary side files).",
           stats.block_bytes);
    metric("ariadne_store_block_spans", "gauge", "Spans in block files.", stats.block_spans);
    metric("ariadne_store_pending_appends", "gauge", "Appends waiting for the group commit.",
           stats.pending_appends);
    metric("ariadne_store_wal_write_failures_total", "counter",
           "Group commits refused because the WAL could not be written (disk full?).",
           stats.wal_write_failures);
    metric("ariadne_store_wal_corrupt_records_total", "counter",
           "Damaged WAL records skipped at replay (see the log for segment and offset).",
           stats.wal_corrupt_records);
    metric("ariadne_store_wal_skipped_bytes_total", "counter",
           "Bytes of damaged WAL records skipped at replay.", stats.wal_skipped_bytes);
    metric("ariadne_store_wal_skipped_spans_total", "counter",
           "Spans in damaged WAL records skipped at replay (when the record header was intact).",
           stats.wal_skipped_spans);
    metric("ariadne_store_blocks_quarantined_total", "counter",
           "Block files that failed their checksums and were moved to quarantine/.",
           stats.blocks_quarantined);
    metric("ariadne_column_cache_hits_total", "counter",
           "Block columns a query needed that were already decoded in memory.",
           stats.column_cache_hits);
    metric("ariadne_column_cache_misses_total", "counter",
           "Block columns a query needed that were read and decoded from block files.",
           stats.column_cache_misses);
    metric("ariadne_column_cache_bytes", "gauge", "Bytes of decoded block columns held in memory.",
           stats.column_cache_bytes);
    metric("ariadne_column_cache_capacity_bytes", "gauge",
           "Most bytes of decoded columns kept (the column-cache share of --memory-limit).",
           stats.column_cache_capacity_bytes);
    metric("ariadne_column_cache_evictions_total", "counter",
           "Cached block columns dropped to stay within the capacity.",
           stats.column_cache_evictions);
    metric("ariadne_column_cache_rejected_total", "counter",
           "Missed block columns handed out but not kept: keeping them would have evicted "
           "columns used more recently than they were last wanted (a scan larger than the cache).",
           stats.column_cache_rejected);
    metric("ariadne_trace_summary_bytes", "gauge",
           "Bytes of trace summaries the trace-summary index holds in memory (its resident "
           "entries' and the decoded side files, those bounded by the trace_summaries share of "
           "--memory-limit).",
           stats.trace_summary_bytes);
    metric("ariadne_trace_summary_loads_total", "counter",
           "Block trace-summary side files read and decoded by trace searches.",
           stats.trace_summary_loads);
    metric("ariadne_trace_summary_blocks_skipped_total", "counter",
           "Blocks trace searches passed over by their side files' digests (an annotation the "
           "filter needs is in none of their traces) without decoding their summaries.",
           stats.trace_summary_blocks_skipped);
    metric("ariadne_trace_index_resident_traces", "gauge",
           "Traces the trace-summary index keeps an entry for in memory (those with spans in a "
           "head, and those split across blocks); sealed whole traces have none.",
           stats.trace_index_resident);
    metric("ariadne_trace_index_split_traces", "gauge",
           "Traces whose spans are in more than one sealed block (kept resident, summarized from "
           "the whole trace).",
           stats.trace_index_split);
    metric("ariadne_query_blocks_pruned_total", "counter",
           "Blocks that queries and trace searches skipped by their meta (time range, services, "
           "column statistics) without reading them.",
           stats.blocks_pruned);
    metric(
        "ariadne_store_orphan_blocks_removed_total", "counter",
        "Block files no manifest edit named (an interrupted seal or compaction), removed at open.",
        stats.orphan_blocks_removed);
    metric("ariadne_store_retention_blocks_removed_total", "counter",
           "Blocks removed by --retention or --max-disk (see the log for what they held).",
           stats.retention_blocks_removed);
    metric("ariadne_store_retention_spans_removed_total", "counter",
           "Spans in blocks removed by --retention or --max-disk.", stats.retention_spans_removed);
    metric("ariadne_store_retention_bytes_removed_total", "counter",
           "Bytes of blocks removed by --retention or --max-disk.", stats.retention_bytes_removed);
    metric("ariadne_store_compactions_total", "counter", "Merged blocks written by compaction.",
           stats.compactions);
    metric("ariadne_store_compaction_input_blocks_total", "counter",
           "Small blocks merged away by compaction.", stats.compaction_input_blocks);
  }
  metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         ProcessRssBytes());
  return net::HttpResponse(200, "text/plain; version=0.0.4; charset=utf-8", std::move(out));
}

}  // namespace ariadne::api
