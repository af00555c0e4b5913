#include "receivers/zipkin/zipkin_decoder.h"

#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "common/utf8.h"
#include "receivers/zipkin/zipkin_span_mapper.h"

namespace ariadne::receivers::zipkin {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

using internal::Annotation;
using internal::Endpoint;
using internal::kMaxMicros;
using internal::ParsedSpan;
using internal::ParseKind;
using internal::SpanMapper;
using internal::Tag;

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

// JSON span objects → ParsedSpan → SpanMapper.
class JsonSpanReader {
 public:
  explicit JsonSpanReader(SpanMapper* mapper) : mapper_(*mapper) {}

  void DecodeSpan(element item, size_t ordinal) {
    std::string reason;
    ParsedSpan span;
    if (!item.is_object()) {
      mapper_.Reject(ordinal, "not a JSON object");
    } else if (!Parse(item.get_object().value(), &span, &reason)) {
      mapper_.Reject(ordinal, reason);
    } else {
      mapper_.Emit(span);
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
  SpanMapper& mapper_;
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
  SpanMapper mapper(&out.batch, /*check_all_utf8=*/false);
  JsonSpanReader reader(&mapper);
  size_t ordinal = 0;
  const array spans = doc.get_array().value();
  for (element item : spans) reader.DecodeSpan(item, ordinal++);
  out.rejected_spans = mapper.rejected();
  out.rejection_message = mapper.RejectionMessage();
  out.invalid_utf8_replaced += mapper.invalid_utf8_replaced();
  return out;
}

}  // namespace ariadne::receivers::zipkin
