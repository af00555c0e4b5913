#include "receivers/honeycomb/event_decoder.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <utility>

#include <simdjson.h>
#include <xxhash.h>

#include "common/utf8.h"
#include "receivers/honeycomb/event_time.h"

namespace ariadne::receivers::honeycomb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr uint64_t kMinTimeUnixNano = 946'684'800ull * 1'000'000'000;  // 2000-01-01, as validate.h

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::mt19937_64& ThreadRandom() {
  thread_local std::mt19937_64 random(std::random_device{}());
  return random;
}

template <typename Id>
Id RandomId() {
  Id id;
  while (id.IsZero()) {
    for (size_t i = 0; i < Id::kSize; i += 8) {
      uint64_t r = ThreadRandom()();
      std::memcpy(id.bytes.data() + i, &r, std::min<size_t>(8, Id::kSize - i));
    }
  }
  return id;
}

bool IsHex(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// 8-4-4-4-12 hex digits → the 32 digits without dashes; "" otherwise.
std::string UuidHex(std::string_view text) {
  if (text.size() != 36) return "";
  std::string hex;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return "";
    } else {
      hex.push_back(text[i]);
    }
  }
  return IsHex(hex) ? hex : "";
}

// An id from its text; `as_is` says whether the text was the id's own hex form.
struct TraceIdText {
  model::TraceId id;
  bool as_is = true;
};
TraceIdText TraceIdFromText(std::string_view text) {
  if (auto id = model::TraceId::FromHex(text)) return {*id, true};
  if (text.size() == 16 && IsHex(text)) {
    auto low = model::SpanId::FromHex(text);
    model::TraceId id;
    std::memcpy(id.bytes.data() + 8, low->bytes.data(), 8);
    return {id, true};
  }
  std::string uuid = UuidHex(text);
  if (!uuid.empty()) return {*model::TraceId::FromHex(uuid), false};
  XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  model::TraceId id;
  for (int i = 0; i < 8; ++i) {
    id.bytes[i] = static_cast<uint8_t>(h.high64 >> (56 - 8 * i));
    id.bytes[8 + i] = static_cast<uint8_t>(h.low64 >> (56 - 8 * i));
  }
  if (id.IsZero()) id.bytes[15] = 1;
  return {id, false};
}

struct SpanIdText {
  model::SpanId id;
  bool as_is = true;
};
SpanIdText SpanIdFromText(std::string_view text) {
  if (auto id = model::SpanId::FromHex(text)) return {*id, true};
  uint64_t h = XXH3_64bits(text.data(), text.size());
  model::SpanId id;
  for (int i = 0; i < 8; ++i) id.bytes[i] = static_cast<uint8_t>(h >> (56 - 8 * i));
  if (id.IsZero()) id.bytes[7] = 1;
  return {id, false};
}

std::optional<model::SpanKind> KindFromName(std::string_view name) {
  static constexpr std::pair<std::string_view, model::SpanKind> kKinds[] = {
      {"unspecified", model::SpanKind::kUnspecified}, {"internal", model::SpanKind::kInternal},
      {"server", model::SpanKind::kServer},           {"client", model::SpanKind::kClient},
      {"producer", model::SpanKind::kProducer},       {"consumer", model::SpanKind::kConsumer}};
  for (const auto& [text, kind] : kKinds) {
    if (name.size() == text.size() &&
        std::equal(name.begin(), name.end(), text.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
      return kind;
  }
  return std::nullopt;
}

// Builds the spans of one request into a batch: one resource per service name and one scope per
// library, shared by the request's events.
class EventBuilder {
 public:
  EventBuilder(model::SpanBatch* batch, const EventDefaults& defaults)
      : b_(*batch), defaults_(defaults) {}

  uint64_t invalid_utf8_replaced() const { return invalid_utf8_replaced_; }

  // Appends the span of one event whose fields are `data`. `time` and `sample_rate` are the
  // element's own (batch), else the request's. On failure nothing is left in the batch.
  Status Add(object data, std::optional<uint64_t> time, int64_t sample_rate) {
    const Mark mark = Save();
    Status status = AddUnchecked(data, time, sample_rate);
    if (!status.ok()) Rollback(mark);
    return status;
  }

 private:
  struct Mark {
    size_t spans, attributes, resources, scopes;
  };
  Mark Save() const {
    return {b_.spans.size(), b_.attributes.size(), b_.resources.size(), b_.scopes.size()};
  }
  void Rollback(const Mark& mark) {
    b_.spans.resize(mark.spans);
    b_.attributes.resize(mark.attributes);
    b_.resources.resize(mark.resources);
    b_.scopes.resize(mark.scopes);
    std::erase_if(resource_by_service_, [&](const auto& e) { return e.second >= mark.resources; });
    std::erase_if(scope_by_library_, [&](const auto& e) { return e.second >= mark.scopes; });
  }

  // Copies `text` into the arena. simdjson validated the body's bytes, but its \u unescaping lets
  // a lone surrogate through, so text holding 0xED is checked and repaired.
  std::string_view Own(std::string_view text) {
    if (text.empty() || std::memchr(text.data(), 0xED, text.size()) == nullptr ||
        utf8::IsValid(text)) {
      return b_.arena.Copy(text);
    }
    std::string repaired;
    invalid_utf8_replaced_ += utf8::AppendRepaired(text, &repaired);
    return b_.arena.Copy(repaired);
  }
  void Attr(std::string_view key, model::Value value) {
    b_.attributes.push_back(model::KeyValue{key, value});
  }
  std::string_view Prefixed(std::string_view name) {
    std::string key = "honeycomb.";
    key.append(name);
    return Own(key);
  }

  uint32_t ResourceFor(std::string_view service) {
    auto it = resource_by_service_.find(std::string(service));
    if (it != resource_by_service_.end()) return it->second;
    model::Resource resource;
    resource.attributes = {static_cast<uint32_t>(b_.attributes.size()), 2};
    Attr(Own("service.name"), model::Value::String(Own(service)));
    Attr(Own("honeycomb.dataset"), model::Value::String(Own(defaults_.dataset)));
    b_.resources.push_back(resource);
    const uint32_t index = static_cast<uint32_t>(b_.resources.size() - 1);
    resource_by_service_.emplace(std::string(service), index);
    return index;
  }
  uint32_t ScopeFor(std::string_view name, std::string_view version) {
    std::string key = std::string(name) + '\0' + std::string(version);
    auto it = scope_by_library_.find(key);
    if (it != scope_by_library_.end()) return it->second;
    model::Scope scope;
    scope.name = Own(name);
    scope.version = Own(version);
    b_.scopes.push_back(scope);
    const uint32_t index = static_cast<uint32_t>(b_.scopes.size() - 1);
    scope_by_library_.emplace(std::move(key), index);
    return index;
  }

  // Counts the attributes `data` flattens to (stops early past the limit).
  static size_t CountFields(object data, int depth, size_t so_far) {
    for (auto [key, value] : data) {
      if (so_far > kMaxEventFields) return so_far;
      if (value.is_object() && depth < kMaxFlattenDepth) {
        so_far = CountFields(value.get_object().value(), depth + 1, so_far);
      } else {
        ++so_far;
      }
    }
    return so_far;
  }

  // A field as a typed attribute under `key`; objects flattened with dots.
  void FieldAttr(std::string_view key, element value, int depth) {
    switch (value.type()) {
      case element_type::STRING:
        Attr(key, model::Value::String(Own(value.get_string().value())));
        break;
      case element_type::BOOL:
        Attr(key, model::Value::Bool(value.get_bool().value()));
        break;
      case element_type::INT64:
        Attr(key, model::Value::Int(value.get_int64().value()));
        break;
      case element_type::UINT64:
      case element_type::DOUBLE:
        Attr(key, model::Value::Double(value.get_double().value()));
        break;
      case element_type::ARRAY:
        Attr(key, model::Value::Array(Own(simdjson::minify(value))));
        break;
      case element_type::OBJECT: {
        if (depth >= kMaxFlattenDepth) {
          Attr(key, model::Value::KvList(Own(simdjson::minify(value))));
          break;
        }
        object children = value.get_object().value();
        for (auto [child_key, child] : children) {
          std::string nested(key);
          nested.push_back('.');
          nested.append(child_key);
          FieldAttr(Own(nested), child, depth + 1);
        }
        break;
      }
      case element_type::NULL_VALUE:
        break;
    }
  }

  Status AddUnchecked(object data, std::optional<uint64_t> time, int64_t sample_rate) {
    if (CountFields(data, 1, 0) > kMaxEventFields) {
      return Status::InvalidArgument("Event has too many columns: at most " +
                                     std::to_string(kMaxEventFields) +
                                     " fields (after flattening nested objects) are accepted");
    }
    // The fields with a meaning of their own, found first; everything else becomes an attribute.
    auto str = [&](std::string_view key) -> std::optional<std::string_view> {
      element value;
      if (data.at_key(key).get(value) != simdjson::SUCCESS || !value.is_string()) {
        return std::nullopt;
      }
      return value.get_string().value();
    };
    // Empty = absent.
    const std::string_view trace_text = str("trace.trace_id").value_or("");
    const std::string_view span_text = str("trace.span_id").value_or("");
    const std::string_view parent_text = str("trace.parent_id").value_or("");
    const bool has_trace = !trace_text.empty(), has_span = !span_text.empty(),
               has_parent = !parent_text.empty();
    std::optional<std::string_view> service = str("service.name");
    if (!service || service->empty()) service = str("service_name");
    if (!service || service->empty()) service = defaults_.dataset;

    model::Span span;
    // Ids.
    bool trace_as_is = true, span_as_is = true, parent_as_is = true;
    if (has_trace) {
      TraceIdText parsed = TraceIdFromText(trace_text);
      if (parsed.id.IsZero()) {
        return Status::InvalidArgument("trace.trace_id '" + std::string(trace_text) +
                                       "' is all zeros; send a non-zero trace id");
      }
      span.trace_id = parsed.id;
      trace_as_is = parsed.as_is;
      if (has_span) {
        SpanIdText span_id = SpanIdFromText(span_text);
        if (span_id.id.IsZero()) {
          return Status::InvalidArgument("trace.span_id '" + std::string(span_text) +
                                         "' is all zeros; send a non-zero span id");
        }
        span.span_id = span_id.id;
        span_as_is = span_id.as_is;
      } else {
        span.span_id = RandomId<model::SpanId>();
      }
      if (has_parent) {
        SpanIdText parent = SpanIdFromText(parent_text);
        span.parent_span_id = parent.id;  // all zeros = root
        parent_as_is = parent.as_is;
      }
    } else {
      span.trace_id = RandomId<model::TraceId>();
      span.span_id = RandomId<model::SpanId>();
      span.kind = model::SpanKind::kInternal;
    }

    // Start time.
    bool timestamp_used = false;
    if (!time) {
      element ts;
      if (data.at_key("Timestamp").get(ts) == simdjson::SUCCESS) {
        if (ts.is_string()) {
          time = ParseEventTime(ts.get_string().value());
        } else if (ts.is_number()) {
          time = UnixNumberToNanos(ts.get_double().value());
        }
        timestamp_used = time.has_value();
      }
    }
    uint64_t start = time.value_or(defaults_.now_unix_nano);
    if (start > defaults_.now_unix_nano + kMaxFutureNanos) start = defaults_.now_unix_nano;
    if (start < kMinTimeUnixNano) {
      return Status::InvalidArgument(
          "event time is before 2000-01-01: send the time as RFC 3339 "
          "(2006-01-02T15:04:05.999Z) or Unix seconds/milliseconds");
    }
    span.start_time_unix_nano = start;
    span.end_time_unix_nano = start;

    const uint32_t resource = ResourceFor(*service);
    std::string_view library_name, library_version;
    if (auto name = str("library.name")) library_name = *name;
    if (auto version = str("library.version")) library_version = *version;
    const uint32_t scope = ScopeFor(library_name, library_version);
    span.resource_index = resource;
    span.scope_index = scope;

    span.attributes.begin = static_cast<uint32_t>(b_.attributes.size());
    bool named = false;
    for (auto [key, value] : data) {
      if (key == "trace.trace_id" || key == "trace.span_id" || key == "trace.parent_id") {
        const bool used = key == "trace.trace_id"  ? has_trace && value.is_string()
                          : key == "trace.span_id" ? has_span && has_trace && value.is_string()
                                                   : has_parent && has_trace && value.is_string();
        const bool as_is = key == "trace.trace_id"  ? trace_as_is
                           : key == "trace.span_id" ? span_as_is
                                                    : parent_as_is;
        if (used && as_is) continue;
        if (value.is_null() || (value.is_string() && value.get_string().value().empty())) continue;
        FieldAttr(Prefixed(key.substr(6)), value, 1);  // honeycomb.trace_id / span_id / parent_id
      } else if (key == "name" && value.is_string() && !named) {
        span.name = Own(value.get_string().value());
        named = true;
      } else if (key == "service.name" && value.is_string()) {
        continue;  // the resource's service.name
      } else if (key == "duration_ms" && value.is_number()) {
        double ms = value.get_double().value();
        if (ms < 0) {
          Attr(Own("meta.invalid_duration"), model::Value::Bool(true));
          ms = 0;
        }
        const double nanos = std::round(ms * 1e6);
        if (!(nanos < static_cast<double>(UINT64_MAX - start))) {
          return Status::InvalidArgument("duration_ms " + std::to_string(ms) +
                                         " is too large; send the duration in milliseconds");
        }
        span.end_time_unix_nano = start + static_cast<uint64_t>(nanos);
      } else if (key == "Timestamp" && timestamp_used) {
        continue;
      } else if (key == "error" && !value.is_object() && !value.is_array()) {
        if ((value.is_bool() && value.get_bool().value()) ||
            (value.is_number() && value.get_double().value() != 0) ||
            (value.is_string() && !value.get_string().value().empty())) {
          span.status_code = model::StatusCode::kError;
          if (value.is_string() && span.status_message.empty()) {
            span.status_message = Own(value.get_string().value());
          }
        }
      } else if (key == "status_code" && value.is_int64() && value.get_int64().value() >= 0 &&
                 value.get_int64().value() <= 2) {
        // `error` wins over a contradicting status code.
        if (span.status_code != model::StatusCode::kError) {
          span.status_code = static_cast<model::StatusCode>(value.get_int64().value());
        }
      } else if (key == "status_message" && value.is_string()) {
        span.status_message = Own(value.get_string().value());
      } else if ((key == "span.kind" || key == "type") && value.is_string() &&
                 KindFromName(value.get_string().value())) {
        span.kind = *KindFromName(value.get_string().value());
      } else if (key == "trace.trace_state" && value.is_string()) {
        span.trace_state = Own(value.get_string().value());
      } else if ((key == "library.name" || key == "library.version") && value.is_string()) {
        continue;  // the scope
      } else if (IsBuiltInColumn(key) ||
                 (sample_rate > 1 && (key == "SampleRate" || key == "sampleRate"))) {
        FieldAttr(Prefixed(key), value, 1);
      } else {
        FieldAttr(Own(key), value, 1);
      }
    }
    if (!named) span.name = Own(defaults_.dataset);
    if (!has_trace) Attr(Own("meta.event"), model::Value::Bool(true));
    if (sample_rate > 1) Attr(Own("SampleRate"), model::Value::Int(sample_rate));
    span.attributes.count = static_cast<uint32_t>(b_.attributes.size()) - span.attributes.begin;
    b_.spans.push_back(span);
    return Status::Ok();
  }

  // Query columns computed from the span itself (query/exec/column_view.cc), which an attribute of
  // the same name could never be read through.
  static bool IsBuiltInColumn(std::string_view key) {
    static constexpr std::string_view kColumns[] = {"name",
                                                    "status_message",
                                                    "trace.trace_state",
                                                    "duration_ms",
                                                    "status_code",
                                                    "span.num_events",
                                                    "span.num_links",
                                                    "error",
                                                    "span.kind",
                                                    "type",
                                                    "trace.trace_id",
                                                    "trace.span_id",
                                                    "trace.parent_id",
                                                    "library.name",
                                                    "library.version",
                                                    "service.name"};
    for (std::string_view c : kColumns)
      if (c == key) return true;
    return false;
  }

  model::SpanBatch& b_;
  const EventDefaults& defaults_;
  std::map<std::string, uint32_t> resource_by_service_;
  std::map<std::string, uint32_t> scope_by_library_;
  uint64_t invalid_utf8_replaced_ = 0;
};

// Parses `body` (repairing invalid UTF-8 into `*repaired` first when needed).
Result<element> Parse(std::string_view body, std::string* repaired, uint64_t* replaced) {
  element doc;
  auto error = ThreadParser().parse(body.data(), body.size()).get(doc);
  if (error != simdjson::SUCCESS && !utf8::IsValid(body)) {
    *replaced += utf8::AppendRepaired(body, repaired);
    error = ThreadParser().parse(repaired->data(), repaired->size()).get(doc);
  }
  if (error == simdjson::EMPTY) {
    return Status::InvalidArgument("Request body should not be empty.");
  }
  if (error != simdjson::SUCCESS) {
    return Status::InvalidArgument(
        std::string("Request body is malformed and cannot be read: not valid JSON (") +
        simdjson::error_message(error) + ")");
  }
  return doc;
}

}  // namespace

int64_t ParseSampleRate(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return 1;
  value = std::round(value);
  if (value < 1) return 1;
  if (value > 1e15) return static_cast<int64_t>(1e15);
  return static_cast<int64_t>(value);
}

Status DecodeSingleEvent(std::string_view body, const EventDefaults& defaults,
                         model::SpanBatch* batch, uint64_t* invalid_utf8_replaced) {
  std::string repaired;
  uint64_t replaced = 0;
  ARIADNE_ASSIGN_OR_RETURN(element doc, Parse(body, &repaired, &replaced));
  if (!doc.is_object()) {
    return Status::InvalidArgument(
        "Request body is malformed: /1/events takes one JSON object of fields "
        "(send arrays of events to /1/batch)");
  }
  EventBuilder builder(batch, defaults);
  ARIADNE_RETURN_IF_ERROR(
      builder.Add(doc.get_object().value(), defaults.time_unix_nano, defaults.sample_rate));
  if (invalid_utf8_replaced) *invalid_utf8_replaced += replaced + builder.invalid_utf8_replaced();
  return Status::Ok();
}

Result<std::vector<EventOutcome>> DecodeEventBatch(std::string_view body,
                                                   const EventDefaults& defaults,
                                                   model::SpanBatch* batch,
                                                   uint64_t* invalid_utf8_replaced) {
  std::string repaired;
  uint64_t replaced = 0;
  ARIADNE_ASSIGN_OR_RETURN(element doc, Parse(body, &repaired, &replaced));
  if (!doc.is_array()) {
    return Status::InvalidArgument(
        "Request body is malformed: /1/batch takes a JSON array of "
        "{\"data\":{...},\"time\":\"...\",\"samplerate\":N} (send single events to /1/events)");
  }
  std::vector<EventOutcome> outcomes;
  EventBuilder builder(batch, defaults);
  simdjson::dom::array items = doc.get_array().value();
  for (element item : items) {
    auto refuse = [&](std::string message) {
      outcomes.push_back(EventOutcome{400, std::move(message)});
    };
    if (!item.is_object()) {
      refuse("Request body is malformed and cannot be read: each batch element must be an object");
      continue;
    }
    object obj = item.get_object().value();
    element data;
    if (obj.at_key("data").get(data) != simdjson::SUCCESS || data.is_null()) {
      refuse("Request body should not be empty: the element has no \"data\" object");
      continue;
    }
    if (!data.is_object()) {
      refuse("Request body is malformed and cannot be read: \"data\" must be a JSON object");
      continue;
    }
    std::optional<uint64_t> time = defaults.time_unix_nano;
    element time_value;
    if (obj.at_key("time").get(time_value) == simdjson::SUCCESS && !time_value.is_null()) {
      std::optional<uint64_t> parsed;
      if (time_value.is_string()) {
        parsed = ParseEventTime(time_value.get_string().value());
      } else if (time_value.is_number()) {
        parsed = UnixNumberToNanos(time_value.get_double().value());
      }
      if (!parsed) {
        refuse(
            "\"time\" is not a valid time: send RFC 3339 (2006-01-02T15:04:05.999Z) or Unix "
            "seconds");
        continue;
      }
      time = parsed;
    }
    int64_t sample_rate = defaults.sample_rate;
    element rate_value;
    if (obj.at_key("samplerate").get(rate_value) == simdjson::SUCCESS && !rate_value.is_null()) {
      if (!rate_value.is_number()) {
        refuse("\"samplerate\" must be a number (N means 1 event kept of N)");
        continue;
      }
      const double rate = std::round(rate_value.get_double().value());
      sample_rate = rate < 1      ? 1
                    : rate > 1e15 ? static_cast<int64_t>(1e15)
                                  : static_cast<int64_t>(rate);
    }
    Status added = builder.Add(data.get_object().value(), time, sample_rate);
    if (!added.ok()) {
      refuse(std::string(added.message()));
      continue;
    }
    outcomes.push_back(EventOutcome{202, ""});
  }
  if (invalid_utf8_replaced) *invalid_utf8_replaced += replaced + builder.invalid_utf8_replaced();
  return outcomes;
}

}  // namespace ariadne::receivers::honeycomb
