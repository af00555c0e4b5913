#include "receivers/zipkin/zipkin_decoder.h"

#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "common/utf8.h"

namespace ariadne::receivers::zipkin {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// How many rejection reasons end up in DecodedSpans::rejection_message.
constexpr size_t kMaxReasons = 3;
// Microseconds that still fit in nanoseconds as uint64 (year 2554).
constexpr double kMaxMicros = 18'446'744'073'709'551.0;

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Fills the last (hex.size()+1)/2 bytes of `out` from `hex` (right-aligned); false on a non-hex
// digit.
bool HexRightAligned(std::string_view hex, uint8_t* out, size_t out_size) {
  size_t byte = out_size;
  size_t i = hex.size();
  while (i > 0) {
    int lo = HexDigit(hex[i - 1]);
    if (lo < 0) return false;
    int hi = 0;
    if (i >= 2) {
      hi = HexDigit(hex[i - 2]);
      if (hi < 0) return false;
      i -= 2;
    } else {
      i -= 1;
    }
    out[--byte] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool IsResourceTag(std::string_view key) {
  static constexpr std::string_view kPrefixes[] = {
      "service.", "telemetry.", "host.",       "os.",   "process.", "container.",
      "k8s.",     "cloud.",     "deployment.", "faas.", "device.",
  };
  for (std::string_view prefix : kPrefixes) {
    if (key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<model::SpanKind> ParseKind(std::string_view text) {
  if (EqualsIgnoreCase(text, "CLIENT")) return model::SpanKind::kClient;
  if (EqualsIgnoreCase(text, "SERVER")) return model::SpanKind::kServer;
  if (EqualsIgnoreCase(text, "PRODUCER")) return model::SpanKind::kProducer;
  if (EqualsIgnoreCase(text, "CONSUMER")) return model::SpanKind::kConsumer;
  if (EqualsIgnoreCase(text, "INTERNAL")) return model::SpanKind::kInternal;
  return std::nullopt;
}

std::optional<model::StatusCode> ParseStatusCode(std::string_view text) {
  if (text.size() > 12 && EqualsIgnoreCase(text.substr(0, 12), "STATUS_CODE_")) {
    text.remove_prefix(12);
  }
  if (EqualsIgnoreCase(text, "OK")) return model::StatusCode::kOk;
  if (EqualsIgnoreCase(text, "ERROR")) return model::StatusCode::kError;
  if (EqualsIgnoreCase(text, "UNSET")) return model::StatusCode::kUnset;
  return std::nullopt;
}

std::optional<uint32_t> ParseCount(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  return v;
}

// Microseconds (a JSON number, integer or not) → nanoseconds; nullopt when not a positive number
// in range.
std::optional<uint64_t> MicrosToNanos(element value) {
  if (value.is_uint64() || value.is_int64()) {
    uint64_t micros;
    if (value.is_uint64()) {
      micros = value.get_uint64().value();
    } else {
      int64_t v = value.get_int64().value();
      if (v < 0) return std::nullopt;
      micros = static_cast<uint64_t>(v);
    }
    if (micros > static_cast<uint64_t>(kMaxMicros)) return std::nullopt;
    return micros * 1000;
  }
  if (value.is_double()) {
    double micros = value.get_double().value();
    if (!(micros >= 0) || micros > kMaxMicros) return std::nullopt;
    // Whole microseconds and the fraction apart: micros × 1000 as a double would lose the last
    // digits of an epoch timestamp.
    const double whole = std::floor(micros);
    return static_cast<uint64_t>(whole) * 1000 +
           static_cast<uint64_t>(std::llround((micros - whole) * 1000.0));
  }
  return std::nullopt;
}

struct Endpoint {
  std::string_view service_name;
  std::string_view ipv4;
  std::string_view ipv6;
  int64_t port = 0;
};

struct Tag {
  std::string_view key;
  model::Value value;  // str points into the parsed document
};

struct Annotation {
  uint64_t time_unix_nano = 0;
  std::string_view value;
};

// One span object, read and checked, with strings still in the parsed document.
struct ParsedSpan {
  model::TraceId trace_id;
  model::SpanId span_id;
  model::SpanId parent_span_id;
  std::string_view name;
  std::optional<model::SpanKind> kind;
  uint64_t start_unix_nano = 0;
  uint64_t duration_nano = 0;
  std::optional<Endpoint> local;
  std::optional<Endpoint> remote;
  std::vector<Tag> tags;
  std::vector<Annotation> annotations;
  uint32_t dropped_annotations = 0;
  bool shared = false;
};

class Decoder {
 public:
  explicit Decoder(model::SpanBatch* batch) : b_(*batch) {}

  uint64_t invalid_utf8_replaced() const { return invalid_utf8_replaced_; }
  uint64_t rejected() const { return rejected_; }

  std::string RejectionMessage() const {
    if (rejected_ == 0) return "";
    std::string out =
        std::to_string(rejected_) + (rejected_ == 1 ? " span" : " spans") + " rejected: ";
    for (size_t i = 0; i < reasons_.size(); ++i) {
      if (i > 0) out += "; ";
      out += reasons_[i];
    }
    if (rejected_ > reasons_.size()) out += "; …";
    return out;
  }

  void DecodeSpan(element item, size_t ordinal) {
    std::string reason;
    ParsedSpan span;
    if (!item.is_object()) {
      reason = "not a JSON object";
    } else if (!Parse(item.get_object().value(), &span, &reason)) {
      // reason set by Parse
    } else {
      Emit(span);
      return;
    }
    ++rejected_;
    if (reasons_.size() < kMaxReasons) {
      reasons_.push_back("span #" + std::to_string(ordinal) + ": " + reason);
    }
  }

 private:
  static std::optional<element> Field(object obj, std::string_view key) {
    element value;
    if (obj.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
    return value;
  }

  // A string field; `*bad` is set when the field is present but not a string.
  static std::optional<std::string_view> StringField(object obj, std::string_view key, bool* bad) {
    auto value = Field(obj, key);
    if (!value) return std::nullopt;
    if (!value->is_string()) {
      *bad = true;
      return std::nullopt;
    }
    return value->get_string().value();
  }

  static bool ParseEndpoint(element value, std::string_view field, Endpoint* out,
                            std::string* reason) {
    if (!value.is_object()) {
      *reason = std::string(field) + " must be an object";
      return false;
    }
    object obj = value.get_object().value();
    bool bad = false;
    if (auto v = StringField(obj, "serviceName", &bad)) out->service_name = *v;
    if (auto v = StringField(obj, "ipv4", &bad)) out->ipv4 = *v;
    if (auto v = StringField(obj, "ipv6", &bad)) out->ipv6 = *v;
    if (bad) {
      *reason = std::string(field) + ": serviceName, ipv4 and ipv6 must be strings";
      return false;
    }
    if (auto port = Field(obj, "port")) {
      if (!port->is_int64() || port->get_int64().value() < 0 || port->get_int64().value() > 65535) {
        *reason = std::string(field) + ".port must be an integer from 0 to 65535";
        return false;
      }
      out->port = port->get_int64().value();
    }
    return true;
  }

  static bool Parse(object obj, ParsedSpan* span, std::string* reason) {
    bool bad = false;
    auto trace_text = StringField(obj, "traceId", &bad);
    if (!trace_text) {
      *reason = bad ? "traceId must be a string" : "traceId is required";
      return false;
    }
    auto trace_id = ParseZipkinTraceId(*trace_text);
    if (!trace_id || trace_id->IsZero()) {
      *reason = "traceId must be 16 or 32 hex digits and not all zero, got '" +
                std::string(trace_text->substr(0, 40)) + "'";
      return false;
    }
    span->trace_id = *trace_id;
    auto id_text = StringField(obj, "id", &bad);
    if (!id_text) {
      *reason = bad ? "id must be a string" : "id is required";
      return false;
    }
    auto span_id = ParseZipkinSpanId(*id_text);
    if (!span_id || span_id->IsZero()) {
      *reason = "id must be 16 hex digits and not all zero, got '" +
                std::string(id_text->substr(0, 40)) + "'";
      return false;
    }
    span->span_id = *span_id;
    if (auto parent_text = StringField(obj, "parentId", &bad);
        parent_text && !parent_text->empty()) {
      auto parent = ParseZipkinSpanId(*parent_text);
      if (!parent) {
        *reason =
            "parentId must be 16 hex digits, got '" + std::string(parent_text->substr(0, 40)) + "'";
        return false;
      }
      if (*parent != span->span_id) span->parent_span_id = *parent;
    }
    if (auto name = StringField(obj, "name", &bad)) span->name = *name;
    if (auto kind_text = StringField(obj, "kind", &bad)) {
      span->kind = ParseKind(*kind_text);
      if (!span->kind) {
        *reason = "kind must be CLIENT, SERVER, PRODUCER or CONSUMER, got '" +
                  std::string(kind_text->substr(0, 40)) + "'";
        return false;
      }
    }
    if (bad) {
      *reason = "traceId, id, parentId, name and kind must be strings";
      return false;
    }
    if (Field(obj, "binaryAnnotations")) {
      *reason =
          "this is Zipkin v1 JSON (binaryAnnotations); send Zipkin v2 JSON (zipkin-js: "
          "jsonEncoder JSON_V2)";
      return false;
    }
    auto timestamp = Field(obj, "timestamp");
    if (!timestamp) {
      *reason = "timestamp (epoch microseconds) is required";
      return false;
    }
    auto start = MicrosToNanos(*timestamp);
    if (!start || *start == 0) {
      *reason = "timestamp must be a positive number of epoch microseconds";
      return false;
    }
    span->start_unix_nano = *start;
    if (auto duration = Field(obj, "duration")) {
      auto nanos = MicrosToNanos(*duration);
      if (!nanos || *nanos > UINT64_MAX - span->start_unix_nano) {
        *reason = "duration must be a non-negative number of microseconds";
        return false;
      }
      span->duration_nano = *nanos;
    }
    if (auto local = Field(obj, "localEndpoint")) {
      span->local.emplace();
      if (!ParseEndpoint(*local, "localEndpoint", &*span->local, reason)) return false;
    }
    if (auto remote = Field(obj, "remoteEndpoint")) {
      span->remote.emplace();
      if (!ParseEndpoint(*remote, "remoteEndpoint", &*span->remote, reason)) return false;
    }
    if (auto tags = Field(obj, "tags")) {
      if (!tags->is_object()) {
        *reason = "tags must be an object of strings";
        return false;
      }
      const object tag_object = tags->get_object().value();
      for (auto field : tag_object) {
        Tag tag{field.key, {}};
        switch (field.value.type()) {
          case element_type::STRING:
            tag.value = model::Value::String(field.value.get_string().value());
            break;
          case element_type::BOOL:
            tag.value = model::Value::Bool(field.value.get_bool().value());
            break;
          case element_type::INT64:
            tag.value = model::Value::Int(field.value.get_int64().value());
            break;
          case element_type::UINT64:
          case element_type::DOUBLE:
            tag.value = model::Value::Double(field.value.get_double().value());
            break;
          case element_type::NULL_VALUE:
            continue;
          default:
            *reason = "tags." + std::string(field.key.substr(0, 64)) + " must be a string";
            return false;
        }
        span->tags.push_back(tag);
      }
    }
    if (auto annotations = Field(obj, "annotations")) {
      if (!annotations->is_array()) {
        *reason = "annotations must be an array of {timestamp, value}";
        return false;
      }
      const array annotation_array = annotations->get_array().value();
      for (element item : annotation_array) {
        if (!item.is_object()) {
          ++span->dropped_annotations;
          continue;
        }
        object annotation = item.get_object().value();
        if (Field(annotation, "endpoint")) {
          *reason =
              "this is Zipkin v1 JSON (annotation endpoints); send Zipkin v2 JSON (zipkin-js: "
              "jsonEncoder JSON_V2)";
          return false;
        }
        bool bad_value = false;
        auto value = StringField(annotation, "value", &bad_value);
        auto time = Field(annotation, "timestamp");
        std::optional<uint64_t> nanos = time ? MicrosToNanos(*time) : std::nullopt;
        if (!value || !nanos || *nanos == 0) {
          ++span->dropped_annotations;
          continue;
        }
        span->annotations.push_back(Annotation{*nanos, *value});
      }
    }
    if (auto shared = Field(obj, "shared")) {
      span->shared = shared->is_bool() && shared->get_bool().value();
    }
    return true;
  }

  // Copies `text` into the batch's arena. simdjson validated the document's bytes, but its \u
  // unescaping lets a lone surrogate through (bytes ED A0..BF ..), so text holding 0xED is checked
  // and repaired like the raw bytes of a body that is not UTF-8.
  std::string_view Own(std::string_view text) {
    if (text.empty()) return {};
    if (std::memchr(text.data(), 0xED, text.size()) == nullptr || utf8::IsValid(text)) {
      return b_.arena.Copy(text);
    }
    std::string repaired;
    invalid_utf8_replaced_ += utf8::AppendRepaired(text, &repaired);
    return b_.arena.Copy(repaired);
  }

  model::Value OwnValue(model::Value value) {
    if (value.type == model::ValueType::kString) value.str = Own(value.str);
    return value;
  }

  void Attr(std::string_view key, model::Value value) {
    b_.attributes.push_back(model::KeyValue{key, value});
  }

  // The resource of a local service plus its resource tags; one per distinct combination.
  uint32_t ResourceFor(const ParsedSpan& span, const std::vector<const Tag*>& resource_tags) {
    std::string key;
    std::string_view service = span.local ? span.local->service_name : std::string_view();
    key.append(service).push_back('\0');
    for (const Tag* tag : resource_tags) {
      if (!service.empty() && tag->key == "service.name") continue;  // the endpoint's name wins
      key.append(tag->key).push_back('\0');
      key.push_back(static_cast<char>(tag->value.type));
      if (tag->value.type == model::ValueType::kString) {
        key.append(tag->value.str);
      } else {
        key.append(reinterpret_cast<const char*>(&tag->value.int_value), sizeof(int64_t));
      }
      key.push_back('\0');
    }
    auto [it, inserted] = resources_.try_emplace(std::move(key), 0);
    if (!inserted) return it->second;
    model::Resource resource;
    resource.attributes.begin = static_cast<uint32_t>(b_.attributes.size());
    if (!service.empty()) Attr("service.name", model::Value::String(Own(service)));
    for (const Tag* tag : resource_tags) {
      if (!service.empty() && tag->key == "service.name") continue;
      Attr(Own(tag->key), OwnValue(tag->value));
    }
    resource.attributes.count =
        static_cast<uint32_t>(b_.attributes.size()) - resource.attributes.begin;
    b_.resources.push_back(resource);
    it->second = static_cast<uint32_t>(b_.resources.size() - 1);
    return it->second;
  }

  uint32_t ScopeFor(std::string_view name, std::string_view version) {
    std::string key;
    key.append(name).push_back('\0');
    key.append(version);
    auto [it, inserted] = scopes_.try_emplace(std::move(key), 0);
    if (!inserted) return it->second;
    model::Scope scope;
    scope.name = Own(name);
    scope.version = Own(version);
    scope.attributes = {static_cast<uint32_t>(b_.attributes.size()), 0};
    b_.scopes.push_back(scope);
    it->second = static_cast<uint32_t>(b_.scopes.size() - 1);
    return it->second;
  }

  void Emit(const ParsedSpan& parsed) {
    model::Span span;
    span.trace_id = parsed.trace_id;
    span.span_id = parsed.span_id;
    span.parent_span_id = parsed.parent_span_id;
    span.name = Own(parsed.name);
    span.kind = parsed.kind.value_or(model::SpanKind::kUnspecified);
    span.start_time_unix_nano = parsed.start_unix_nano;
    span.end_time_unix_nano = parsed.start_unix_nano + parsed.duration_nano;
    span.dropped_events_count = parsed.dropped_annotations;

    // Sort the tags: resource attributes, the ones the model has a field for, span attributes.
    std::vector<const Tag*> resource_tags;
    std::vector<const Tag*> span_tags;
    std::string_view scope_name, scope_version, status_description, error_text;
    std::optional<model::StatusCode> status;
    bool error_tag = false;
    for (const Tag& tag : parsed.tags) {
      const bool is_string = tag.value.type == model::ValueType::kString;
      const std::string_view text = is_string ? tag.value.str : std::string_view();
      const std::string_view key = tag.key;
      if (IsResourceTag(key)) {
        resource_tags.push_back(&tag);
      } else if (is_string && (key == "otel.scope.name" || key == "otel.library.name")) {
        scope_name = text;
      } else if (is_string && (key == "otel.scope.version" || key == "otel.library.version")) {
        scope_version = text;
      } else if (key == "otel.status_code" && is_string && ParseStatusCode(text)) {
        status = ParseStatusCode(text);
      } else if (key == "otel.status_description" && is_string) {
        status_description = text;
      } else if (key == "error" && !(is_string && EqualsIgnoreCase(text, "false")) &&
                 !(tag.value.type == model::ValueType::kBool && !tag.value.bool_value)) {
        error_tag = true;
        if (is_string && !EqualsIgnoreCase(text, "true")) error_text = text;
      } else if (key == "w3c.tracestate" && is_string) {
        span.trace_state = Own(text);
      } else if (key == "span.kind" && is_string && !parsed.kind && ParseKind(text)) {
        span.kind = *ParseKind(text);
      } else if (key == "otel.dropped_attributes_count" && is_string && ParseCount(text)) {
        span.dropped_attributes_count = *ParseCount(text);
      } else if (key == "otel.dropped_events_count" && is_string && ParseCount(text)) {
        span.dropped_events_count += *ParseCount(text);
      } else if (key == "otel.dropped_links_count" && is_string && ParseCount(text)) {
        span.dropped_links_count = *ParseCount(text);
      } else {
        span_tags.push_back(&tag);
      }
    }
    if (error_tag) status = model::StatusCode::kError;
    span.status_code = status.value_or(model::StatusCode::kUnset);
    if (span.status_code == model::StatusCode::kError) {
      span.status_message = Own(!status_description.empty() ? status_description : error_text);
    } else if (!status_description.empty()) {
      span.status_message = Own(status_description);
    }
    span.resource_index = ResourceFor(parsed, resource_tags);
    span.scope_index = ScopeFor(scope_name, scope_version);

    span.attributes.begin = static_cast<uint32_t>(b_.attributes.size());
    for (const Tag* tag : span_tags) Attr(Own(tag->key), OwnValue(tag->value));
    if (parsed.local) {
      const Endpoint& local = *parsed.local;
      std::string_view ip = !local.ipv4.empty() ? local.ipv4 : local.ipv6;
      if (!ip.empty()) Attr("net.host.ip", model::Value::String(Own(ip)));
      if (local.port > 0) Attr("net.host.port", model::Value::Int(local.port));
    }
    if (parsed.remote) {
      const Endpoint& remote = *parsed.remote;
      if (!remote.service_name.empty()) {
        Attr("peer.service", model::Value::String(Own(remote.service_name)));
      }
      std::string_view ip = !remote.ipv4.empty() ? remote.ipv4 : remote.ipv6;
      if (!ip.empty()) Attr("net.peer.ip", model::Value::String(Own(ip)));
      if (remote.port > 0) Attr("net.peer.port", model::Value::Int(remote.port));
    }
    if (parsed.shared) {
      // The server half of a shared span: its own id, the client's (shared) id as its parent.
      span.parent_span_id = parsed.span_id;
      span.span_id = SharedServerSpanId(parsed.span_id);
      Attr("zipkin.shared", model::Value::Bool(true));
    }
    span.attributes.count = static_cast<uint32_t>(b_.attributes.size()) - span.attributes.begin;

    span.events.begin = static_cast<uint32_t>(b_.events.size());
    for (const Annotation& annotation : parsed.annotations) {
      model::Event event;
      event.time_unix_nano = annotation.time_unix_nano;
      event.name = Own(annotation.value);
      event.attributes = {static_cast<uint32_t>(b_.attributes.size()), 0};
      b_.events.push_back(event);
    }
    span.events.count = static_cast<uint32_t>(b_.events.size()) - span.events.begin;
    span.links = {static_cast<uint32_t>(b_.links.size()), 0};
    b_.spans.push_back(span);
  }

  model::SpanBatch& b_;
  std::map<std::string, uint32_t> resources_;
  std::map<std::string, uint32_t> scopes_;
  uint64_t rejected_ = 0;
  std::vector<std::string> reasons_;
  uint64_t invalid_utf8_replaced_ = 0;
};

}  // namespace

std::optional<model::TraceId> ParseZipkinTraceId(std::string_view hex) {
  if (hex.empty() || hex.size() > 32) return std::nullopt;
  model::TraceId id;
  if (!HexRightAligned(hex, id.bytes.data(), id.bytes.size())) return std::nullopt;
  return id;
}

std::optional<model::SpanId> ParseZipkinSpanId(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  model::SpanId id;
  if (!HexRightAligned(hex, id.bytes.data(), id.bytes.size())) return std::nullopt;
  return id;
}

model::SpanId SharedServerSpanId(const model::SpanId& shared_id) {
  uint64_t x = 0;
  for (uint8_t b : shared_id.bytes) x = x << 8 | b;
  // splitmix64's finalizer: a bijection, so distinct shared ids stay distinct.
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  model::SpanId out;
  for (int i = 7; i >= 0; --i) {
    out.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(x);
    x >>= 8;
  }
  if (out.IsZero() || out == shared_id) out.bytes[7] ^= 0x01;
  return out;
}

Result<DecodedSpans> DecodeZipkinJson(std::string_view body) {
  DecodedSpans out;
  element doc;
  auto parse_error = ThreadParser().parse(body.data(), body.size()).get(doc);
  std::string repaired;
  // simdjson may report bad bytes inside a string as STRING_ERROR rather than UTF8_ERROR, so any
  // failure on a body that is not UTF-8 text gets the repair and a retry.
  if (parse_error != simdjson::SUCCESS && !utf8::IsValid(body)) {
    out.invalid_utf8_replaced += utf8::AppendRepaired(body, &repaired);
    parse_error = ThreadParser().parse(repaired.data(), repaired.size()).get(doc);
  }
  if (parse_error != simdjson::SUCCESS) {
    return Status::InvalidArgument(std::string("the body is not valid JSON (") +
                                   simdjson::error_message(parse_error) +
                                   "); send a JSON array of Zipkin v2 spans");
  }
  if (!doc.is_array()) {
    return Status::InvalidArgument(
        "expected a JSON array of Zipkin v2 spans, e.g. [{\"traceId\": \"…\", \"id\": \"…\", "
        "\"timestamp\": …}]");
  }
  Decoder decoder(&out.batch);
  size_t ordinal = 0;
  const array spans = doc.get_array().value();
  for (element item : spans) decoder.DecodeSpan(item, ordinal++);
  out.rejected_spans = decoder.rejected();
  out.rejection_message = decoder.RejectionMessage();
  out.invalid_utf8_replaced += decoder.invalid_utf8_replaced();
  return out;
}

}  // namespace ariadne::receivers::zipkin
