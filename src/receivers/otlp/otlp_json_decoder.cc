// The OTLP/JSON half of otlp_codec.h, on simdjson On-Demand. This is the only translation unit
// that includes simdjson (it is expensive to compile; see docs/dependencies.md §1).
//
// Rules (docs/protocols.md §1.5): lowerCamelCase keys (snake_case accepted as a leniency), unknown
// keys ignored, null means "default", ids are hex of the right length (case-insensitive) or, as a
// leniency, base64; 64-bit integers as strings or numbers; enums as integers or their upstream
// names; doubleValue may be "NaN"/"Infinity"/"-Infinity"; bytesValue is base64. Duplicate keys: the
// last one wins. Strings are copied into the batch's arena because simdjson's unescaped strings
// live in the parser. Skipped (unknown) values are only checked as far as On-Demand needs to skip
// them.
//
// Threads: one parser and padding buffer per thread (thread_local), so calls are reentrant.

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include <simdjson.h>

#include "common/utf8.h"
#include "receivers/otlp/otlp_codec.h"
#include "receivers/otlp/otlp_internal.h"

namespace ariadne::receivers::otlp {
namespace {

namespace sj = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

// Runs a simdjson call that yields an error_code; on failure records `what` and returns false.
#define OTLP_JSON_TRY(expr, what)                            \
  do {                                                       \
    if (error_code ojt_err_ = (expr); ojt_err_ != SUCCESS) { \
      return Fail(ojt_err_, what);                           \
    }                                                        \
  } while (0)

bool KeyIs(std::string_view key, std::string_view camel, std::string_view snake) {
  return key == camel || key == snake;
}

// Readable, printable excerpt of client text for error messages.
std::string Excerpt(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) out.push_back(c >= 0x20 && c < 0x7F && c != '"' ? c : '?');
  if (text.size() > 40) out += "...";
  return out;
}

class JsonDecoder {
 public:
  explicit JsonDecoder(DecodedRequest* out) : out_(out), batch_(out->batch) {}

  Status Decode(std::string_view body) {
    thread_local sj::parser parser;
    thread_local std::string padded;
    padded.assign(body);
    padded.append(simdjson::SIMDJSON_PADDING, '\0');
    base_ = padded.data();
    size_t text_size = body.size();
    error_code err = parser.iterate(padded.data(), text_size, padded.size()).get(doc_);
    if (err == simdjson::UTF8_ERROR) {
      // The body is not UTF-8 text: repair it (U+FFFD per bad subpart) and decode that.
      padded.clear();
      out_->invalid_utf8_replaced = utf8::AppendRepaired(body, &padded);
      text_size = padded.size();
      padded.append(simdjson::SIMDJSON_PADDING, '\0');
      base_ = padded.data();
      err = parser.iterate(padded.data(), text_size, padded.size()).get(doc_);
    }
    if (err != SUCCESS) {
      return Status::InvalidArgument(std::string("malformed OTLP/JSON body: ") +
                                     simdjson::error_message(err));
    }
    batch_.spans.reserve(body.size() / 1024 + 1);
    batch_.attributes.reserve(body.size() / 96 + 1);
    if (!DecodeRequest()) return std::move(error_);
    out_->rejected_spans = rejections_.count();
    out_->rejection_message = rejections_.Message();
    return Status::Ok();
  }

 private:
  bool Fail(error_code err, std::string_view what) {
    std::string where;
    auto location = doc_.current_location();
    if (location.error() == SUCCESS) {
      where = " at byte offset " + std::to_string(location.value_unsafe() - base_);
    } else if (err == simdjson::INCOMPLETE_ARRAY_OR_OBJECT || err == simdjson::TAPE_ERROR) {
      where = " at the end of the body";
    }
    error_ = Status::InvalidArgument("malformed OTLP/JSON body" + where + ": " + std::string(what) +
                                     " (" + simdjson::error_message(err) + ")");
    return false;
  }

  bool FailText(std::string what) {
    std::string where;
    auto location = doc_.current_location();
    if (location.error() == SUCCESS) {
      where = " at byte offset " + std::to_string(location.value_unsafe() - base_);
    }
    error_ = Status::InvalidArgument("malformed OTLP/JSON body" + where + ": " + std::move(what));
    return false;
  }

  static bool IsNull(sj::value& value) {
    sj::json_type type;
    return value.type().get(type) == SUCCESS && type == sj::json_type::null;
  }

  // Calls `on_field(key, value)` for each member of the object in `value`; null counts as {}.
  template <typename F>
  bool ForEachField(sj::value& value, const char* what, F&& on_field) {
    if (IsNull(value)) return true;
    sj::object object;
    OTLP_JSON_TRY(value.get_object().get(object), std::string("expected an object for ") + what);
    for (auto member : object) {
      sj::field field;
      OTLP_JSON_TRY(std::move(member).get(field), std::string("bad member in ") + what);
      std::string_view key;
      OTLP_JSON_TRY(field.unescaped_key().get(key), std::string("bad key in ") + what);
      if (!on_field(key, field.value())) return false;
    }
    return true;
  }

  // Calls `on_element(value)` for each element of the array in `value`; null counts as [].
  template <typename F>
  bool ForEachElement(sj::value& value, const char* what, F&& on_element) {
    if (IsNull(value)) return true;
    sj::array array;
    OTLP_JSON_TRY(value.get_array().get(array), std::string("expected an array for ") + what);
    for (auto element : array) {
      sj::value v;
      OTLP_JSON_TRY(std::move(element).get(v), std::string("bad element in ") + what);
      if (!on_element(v)) return false;
    }
    return true;
  }

  bool ReadString(sj::value& value, const char* what, std::string_view* out) {
    if (IsNull(value)) {
      *out = {};
      return true;
    }
    OTLP_JSON_TRY(value.get_string().get(*out), std::string("expected a string for ") + what);
    return true;
  }

  // Copies the string into the arena. simdjson validated the body's bytes, but its \u unescaping
  // lets a lone surrogate through (bytes ED A0..BF ..): text holding 0xED is checked and repaired.
  bool ReadOwnedString(sj::value& value, const char* what, std::string_view* out) {
    std::string_view text;
    if (!ReadString(value, what, &text)) return false;
    if (text.empty() || std::memchr(text.data(), 0xED, text.size()) == nullptr ||
        utf8::IsValid(text)) {
      *out = batch_.arena.Copy(text);
    } else {
      repaired_.clear();
      out_->invalid_utf8_replaced += utf8::AppendRepaired(text, &repaired_);
      *out = batch_.arena.Copy(repaired_);
    }
    return true;
  }

  // int64/uint64 as a decimal string or a JSON number (integral).
  template <typename Int>
  bool ReadInteger(sj::value& value, const char* what, Int* out) {
    sj::json_type type;
    OTLP_JSON_TRY(value.type().get(type), std::string("expected an integer for ") + what);
    if (type == sj::json_type::null) {
      *out = 0;
      return true;
    }
    if (type == sj::json_type::string) {
      std::string_view text;
      OTLP_JSON_TRY(value.get_string().get(text), std::string("expected an integer for ") + what);
      auto res = std::from_chars(text.data(), text.data() + text.size(), *out);
      if (res.ec != std::errc() || res.ptr != text.data() + text.size()) {
        return FailText(std::string("expected a decimal integer string for ") + what + ", got \"" +
                        Excerpt(text) + "\"");
      }
      return true;
    }
    if (type != sj::json_type::number) {
      return FailText(std::string("expected an integer (number or string) for ") + what);
    }
    if constexpr (std::is_signed_v<Int>) {
      int64_t v;
      if (value.get_int64().get(v) == SUCCESS) {
        *out = v;
        return true;
      }
    } else {
      uint64_t v;
      if (value.get_uint64().get(v) == SUCCESS) {
        *out = v;
        return true;
      }
    }
    // 1e9 or 5.0: accept when it is integral and in range.
    double d;
    OTLP_JSON_TRY(value.get_double().get(d), std::string("expected an integer for ") + what);
    if (!(d == std::floor(d)) || d < static_cast<double>(std::numeric_limits<Int>::min()) ||
        d >= static_cast<double>(std::numeric_limits<Int>::max())) {
      return FailText(std::string("expected an integer in range for ") + what);
    }
    *out = static_cast<Int>(d);
    return true;
  }

  bool ReadUint32(sj::value& value, const char* what, uint32_t* out) {
    uint64_t v;
    if (!ReadInteger(value, what, &v)) return false;
    if (v > std::numeric_limits<uint32_t>::max()) {
      return FailText(std::string("value out of range for 32-bit ") + what);
    }
    *out = static_cast<uint32_t>(v);
    return true;
  }

  bool ReadDouble(sj::value& value, const char* what, double* out) {
    sj::json_type type;
    OTLP_JSON_TRY(value.type().get(type), std::string("expected a number for ") + what);
    if (type == sj::json_type::string) {
      std::string_view text;
      OTLP_JSON_TRY(value.get_string().get(text), std::string("expected a number for ") + what);
      if (text == "NaN") {
        *out = std::numeric_limits<double>::quiet_NaN();
      } else if (text == "Infinity") {
        *out = std::numeric_limits<double>::infinity();
      } else if (text == "-Infinity") {
        *out = -std::numeric_limits<double>::infinity();
      } else {
        auto res = std::from_chars(text.data(), text.data() + text.size(), *out);
        if (res.ec != std::errc() || res.ptr != text.data() + text.size()) {
          return FailText(std::string("expected a number for ") + what + ", got \"" +
                          Excerpt(text) + "\"");
        }
      }
      return true;
    }
    OTLP_JSON_TRY(value.get_double().get(*out), std::string("expected a number for ") + what);
    return true;
  }

  // Enum as an integer or (leniency) its upstream name; unknown names map to 0.
  bool ReadEnum(sj::value& value, const char* what, const std::string_view* names, int count,
                int64_t* out) {
    sj::json_type type;
    OTLP_JSON_TRY(value.type().get(type), std::string("expected an enum for ") + what);
    if (type == sj::json_type::string) {
      std::string_view text;
      OTLP_JSON_TRY(value.get_string().get(text), std::string("expected an enum for ") + what);
      *out = 0;
      for (int i = 0; i < count; ++i) {
        if (text == names[i]) *out = i;
      }
      // A number in a string ("2") is accepted too.
      int64_t n;
      auto res = std::from_chars(text.data(), text.data() + text.size(), n);
      if (res.ec == std::errc() && res.ptr == text.data() + text.size()) *out = n;
      return true;
    }
    return ReadInteger(value, what, out);
  }

  // Reads an id string into raw bytes in `raw`. Returns false only on a JSON-level error; sets
  // `*bad_text` when the text is neither hex nor base64.
  bool ReadId(sj::value& value, const char* what, size_t size, std::string* raw, bool* bad_text) {
    std::string_view text;
    if (!ReadString(value, what, &text)) return false;
    *bad_text = false;
    if (text.size() == 2 * size && internal::DecodeHex(text, *raw)) return true;
    // Leniency: the padded base64 a generic proto3 JSON printer emits (24 / 12 characters).
    if (text.size() == 4 * ((size + 2) / 3) && internal::DecodeBase64(text, *raw)) return true;
    if (internal::DecodeHex(text, *raw)) return true;
    raw->clear();
    *bad_text = true;
    bad_id_text_ = std::string(what) + " \"" + Excerpt(text) + "\" is neither hex nor base64";
    return true;
  }

  bool DecodeRequest() {
    sj::value root;
    OTLP_JSON_TRY(doc_.get_value().get(root), "expected a JSON object");
    bool ok =
        ForEachField(root, "ExportTraceServiceRequest", [&](std::string_view key, sj::value& v) {
          if (KeyIs(key, "resourceSpans", "resource_spans")) {
            return ForEachElement(v, "resourceSpans",
                                  [&](sj::value& rs) { return DecodeResourceSpans(rs); });
          }
          return true;
        });
    if (!ok) return false;
    // current_location() is OUT_OF_BOUNDS once every token has been consumed.
    if (doc_.current_location().error() == SUCCESS) {
      return FailText("unexpected content after the top-level object");
    }
    return true;
  }

  bool DecodeResourceSpans(sj::value& value) {
    auto index = static_cast<uint32_t>(batch_.resources.size());
    batch_.resources.emplace_back();
    return ForEachField(value, "ResourceSpans", [&](std::string_view key, sj::value& v) {
      if (key == "resource") return DecodeResource(v, index);
      if (KeyIs(key, "scopeSpans", "scope_spans") || key == "instrumentationLibrarySpans") {
        return ForEachElement(v, "scopeSpans",
                              [&](sj::value& ss) { return DecodeScopeSpans(ss, index); });
      }
      if (KeyIs(key, "schemaUrl", "schema_url")) {
        return ReadOwnedString(v, "ResourceSpans.schemaUrl", &batch_.resources[index].schema_url);
      }
      return true;
    });
  }

  bool DecodeResource(sj::value& value, uint32_t index) {
    return ForEachField(value, "Resource", [&](std::string_view key, sj::value& v) {
      if (key == "attributes") {
        model::Range range;
        if (!DecodeAttributes(v, &range)) return false;
        batch_.resources[index].attributes = range;
        return true;
      }
      if (KeyIs(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return ReadUint32(v, "Resource.droppedAttributesCount",
                          &batch_.resources[index].dropped_attributes_count);
      }
      return true;
    });
  }

  bool DecodeScopeSpans(sj::value& value, uint32_t resource_index) {
    auto index = static_cast<uint32_t>(batch_.scopes.size());
    batch_.scopes.emplace_back();
    return ForEachField(value, "ScopeSpans", [&](std::string_view key, sj::value& v) {
      if (key == "scope" || key == "instrumentationLibrary") return DecodeScope(v, index);
      if (key == "spans") {
        return ForEachElement(v, "spans",
                              [&](sj::value& s) { return DecodeSpan(s, resource_index, index); });
      }
      if (KeyIs(key, "schemaUrl", "schema_url")) {
        return ReadOwnedString(v, "ScopeSpans.schemaUrl", &batch_.scopes[index].schema_url);
      }
      return true;
    });
  }

  bool DecodeScope(sj::value& value, uint32_t index) {
    return ForEachField(value, "InstrumentationScope", [&](std::string_view key, sj::value& v) {
      model::Scope& scope = batch_.scopes[index];
      if (key == "name") return ReadOwnedString(v, "InstrumentationScope.name", &scope.name);
      if (key == "version") {
        return ReadOwnedString(v, "InstrumentationScope.version", &scope.version);
      }
      if (key == "attributes") {
        model::Range range;
        if (!DecodeAttributes(v, &range)) return false;
        batch_.scopes[index].attributes = range;
        return true;
      }
      if (KeyIs(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return ReadUint32(v, "InstrumentationScope.droppedAttributesCount",
                          &scope.dropped_attributes_count);
      }
      return true;
    });
  }

  bool DecodeSpan(sj::value& value, uint32_t resource_index, uint32_t scope_index) {
    static constexpr std::string_view kKindNames[] = {
        "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
        "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"};
    const size_t attributes_before = batch_.attributes.size();
    const size_t events_before = batch_.events.size();
    const size_t links_before = batch_.links.size();
    const uint64_t ordinal = span_ordinal_++;

    model::Span span;
    span.resource_index = resource_index;
    span.scope_index = scope_index;
    trace_raw_.clear();
    span_raw_.clear();
    parent_raw_.clear();
    std::string bad_id;  // set when an id is not hex/base64 text
    uint32_t links_dropped_here = 0;

    bool ok = ForEachField(value, "Span", [&](std::string_view key, sj::value& v) {
      bool bad_text = false;
      if (KeyIs(key, "traceId", "trace_id")) {
        if (!ReadId(v, "trace id", 16, &trace_raw_, &bad_text)) return false;
      } else if (KeyIs(key, "spanId", "span_id")) {
        if (!ReadId(v, "span id", 8, &span_raw_, &bad_text)) return false;
      } else if (KeyIs(key, "parentSpanId", "parent_span_id")) {
        if (!ReadId(v, "parent span id", 8, &parent_raw_, &bad_text)) return false;
      } else if (KeyIs(key, "traceState", "trace_state")) {
        return ReadOwnedString(v, "Span.traceState", &span.trace_state);
      } else if (key == "name") {
        return ReadOwnedString(v, "Span.name", &span.name);
      } else if (key == "kind") {
        int64_t kind;
        if (!ReadEnum(v, "Span.kind", kKindNames, 6, &kind)) return false;
        span.kind = kind >= 0 && kind <= 5 ? static_cast<model::SpanKind>(kind)
                                           : model::SpanKind::kUnspecified;
      } else if (KeyIs(key, "startTimeUnixNano", "start_time_unix_nano")) {
        return ReadInteger(v, "Span.startTimeUnixNano", &span.start_time_unix_nano);
      } else if (KeyIs(key, "endTimeUnixNano", "end_time_unix_nano")) {
        return ReadInteger(v, "Span.endTimeUnixNano", &span.end_time_unix_nano);
      } else if (key == "attributes") {
        return DecodeAttributes(v, &span.attributes);
      } else if (KeyIs(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return ReadUint32(v, "Span.droppedAttributesCount", &span.dropped_attributes_count);
      } else if (key == "events") {
        span.events = {static_cast<uint32_t>(batch_.events.size()), 0};
        return ForEachElement(v, "Span.events", [&](sj::value& e) {
          if (!DecodeEvent(e)) return false;
          ++span.events.count;
          return true;
        });
      } else if (KeyIs(key, "droppedEventsCount", "dropped_events_count")) {
        return ReadUint32(v, "Span.droppedEventsCount", &span.dropped_events_count);
      } else if (key == "links") {
        span.links = {static_cast<uint32_t>(batch_.links.size()), 0};
        links_dropped_here = 0;
        return ForEachElement(v, "Span.links", [&](sj::value& l) {
          bool kept;
          if (!DecodeLink(l, &kept)) return false;
          if (kept) {
            ++span.links.count;
          } else {
            ++links_dropped_here;
          }
          return true;
        });
      } else if (KeyIs(key, "droppedLinksCount", "dropped_links_count")) {
        return ReadUint32(v, "Span.droppedLinksCount", &span.dropped_links_count);
      } else if (key == "status") {
        return DecodeStatus(v, &span);
      } else if (key == "flags") {
        return ReadUint32(v, "Span.flags", &span.flags);
      }
      if (bad_text && bad_id.empty()) bad_id = bad_id_text_;
      return true;
    });
    if (!ok) return false;

    if (!bad_id.empty() || !internal::CheckSpanIds(trace_raw_, span_raw_, parent_raw_, &reason_)) {
      batch_.attributes.resize(attributes_before);
      batch_.events.resize(events_before);
      batch_.links.resize(links_before);
      rejections_.Add(ordinal, bad_id.empty() ? reason_ : bad_id);
      return true;
    }
    span.dropped_links_count += links_dropped_here;
    span.trace_id = internal::IdFromBytes<model::TraceId>(trace_raw_);
    span.span_id = internal::IdFromBytes<model::SpanId>(span_raw_);
    span.parent_span_id = internal::IdFromBytes<model::SpanId>(parent_raw_);
    batch_.spans.push_back(span);
    return true;
  }

  bool DecodeStatus(sj::value& value, model::Span* span) {
    static constexpr std::string_view kCodeNames[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK",
                                                      "STATUS_CODE_ERROR"};
    return ForEachField(value, "Status", [&](std::string_view key, sj::value& v) {
      if (key == "message") return ReadOwnedString(v, "Status.message", &span->status_message);
      if (key == "code") {
        int64_t code;
        if (!ReadEnum(v, "Status.code", kCodeNames, 3, &code)) return false;
        span->status_code = code >= 0 && code <= 2 ? static_cast<model::StatusCode>(code)
                                                   : model::StatusCode::kUnset;
      }
      return true;
    });
  }

  bool DecodeEvent(sj::value& value) {
    model::Event event;
    bool ok = ForEachField(value, "Span.Event", [&](std::string_view key, sj::value& v) {
      if (KeyIs(key, "timeUnixNano", "time_unix_nano")) {
        return ReadInteger(v, "Event.timeUnixNano", &event.time_unix_nano);
      }
      if (key == "name") return ReadOwnedString(v, "Event.name", &event.name);
      if (key == "attributes") return DecodeAttributes(v, &event.attributes);
      if (KeyIs(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return ReadUint32(v, "Event.droppedAttributesCount", &event.dropped_attributes_count);
      }
      return true;
    });
    if (!ok) return false;
    batch_.events.push_back(event);
    return true;
  }

  // A link with bad ids is dropped (`*kept` = false); the caller counts it as a dropped link.
  bool DecodeLink(sj::value& value, bool* kept) {
    const size_t attributes_before = batch_.attributes.size();
    model::Link link;
    std::string trace_raw, span_raw;
    bool bad = false;
    bool ok = ForEachField(value, "Span.Link", [&](std::string_view key, sj::value& v) {
      bool bad_text = false;
      if (KeyIs(key, "traceId", "trace_id")) {
        if (!ReadId(v, "link trace id", 16, &trace_raw, &bad_text)) return false;
      } else if (KeyIs(key, "spanId", "span_id")) {
        if (!ReadId(v, "link span id", 8, &span_raw, &bad_text)) return false;
      } else if (KeyIs(key, "traceState", "trace_state")) {
        return ReadOwnedString(v, "Link.traceState", &link.trace_state);
      } else if (key == "attributes") {
        return DecodeAttributes(v, &link.attributes);
      } else if (KeyIs(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return ReadUint32(v, "Link.droppedAttributesCount", &link.dropped_attributes_count);
      } else if (key == "flags") {
        return ReadUint32(v, "Link.flags", &link.flags);
      }
      bad = bad || bad_text;
      return true;
    });
    if (!ok) return false;
    if (bad || !internal::CheckSpanIds(trace_raw, span_raw, {}, &reason_)) {
      batch_.attributes.resize(attributes_before);
      *kept = false;
      return true;
    }
    link.trace_id = internal::IdFromBytes<model::TraceId>(trace_raw);
    link.span_id = internal::IdFromBytes<model::SpanId>(span_raw);
    batch_.links.push_back(link);
    *kept = true;
    return true;
  }

  // An "attributes" array; a repeated key replaces the earlier range.
  bool DecodeAttributes(sj::value& value, model::Range* range) {
    *range = {static_cast<uint32_t>(batch_.attributes.size()), 0};
    return ForEachElement(value, "attributes", [&](sj::value& kv_value) {
      model::KeyValue kv;
      bool ok = ForEachField(kv_value, "KeyValue", [&](std::string_view key, sj::value& v) {
        if (key == "key") return ReadOwnedString(v, "KeyValue.key", &kv.key);
        if (key == "value") return DecodeAnyValue(v, &kv.value);
        return true;
      });
      if (!ok) return false;
      batch_.attributes.push_back(kv);
      ++range->count;
      return true;
    });
  }

  // An AnyValue object into a model::Value (last variant wins; none = empty).
  bool DecodeAnyValue(sj::value& value, model::Value* out) {
    *out = model::Value();
    return ForEachField(value, "AnyValue", [&](std::string_view key, sj::value& v) {
      if (KeyIs(key, "stringValue", "string_value")) {
        std::string_view s;
        if (!ReadOwnedString(v, "AnyValue.stringValue", &s)) return false;
        *out = model::Value::String(s);
      } else if (KeyIs(key, "boolValue", "bool_value")) {
        bool b = false;
        if (!IsNull(v)) OTLP_JSON_TRY(v.get_bool().get(b), "expected a bool for boolValue");
        *out = model::Value::Bool(b);
      } else if (KeyIs(key, "intValue", "int_value")) {
        int64_t i;
        if (!ReadInteger(v, "AnyValue.intValue", &i)) return false;
        *out = model::Value::Int(i);
      } else if (KeyIs(key, "doubleValue", "double_value")) {
        double d;
        if (!ReadDouble(v, "AnyValue.doubleValue", &d)) return false;
        *out = model::Value::Double(d);
      } else if (KeyIs(key, "bytesValue", "bytes_value")) {
        std::string_view b;
        if (!ReadBytes(v, &b)) return false;
        *out = model::Value::Bytes(batch_.arena.Copy(b));
      } else if (KeyIs(key, "arrayValue", "array_value")) {
        scratch_.clear();
        if (!RenderArray(v, &scratch_, 1)) return false;
        *out = model::Value::Array(batch_.arena.Copy(scratch_));
      } else if (KeyIs(key, "kvlistValue", "kvlist_value")) {
        scratch_.clear();
        if (!RenderKvList(v, &scratch_, 1)) return false;
        *out = model::Value::KvList(batch_.arena.Copy(scratch_));
      } else if (KeyIs(key, "stringValueStrindex", "string_value_strindex")) {
        *out = model::Value();  // Profiles-only; treated as absent
      }
      return true;
    });
  }

  bool ReadBytes(sj::value& v, std::string_view* out) {
    std::string_view text;
    if (!ReadString(v, "AnyValue.bytesValue", &text)) return false;
    if (!internal::DecodeBase64(text, bytes_)) {
      return FailText("bytesValue \"" + Excerpt(text) + "\" is not base64");
    }
    *out = bytes_;
    return true;
  }

  bool CheckDepth(int depth) {
    if (depth > internal::kMaxValueNesting) {
      return FailText("attribute values nest deeper than " +
                      std::to_string(internal::kMaxValueNesting) + " arrays/kvlists");
    }
    return true;
  }

  // {"values":[AnyValue...]} as [v,...].
  bool RenderArray(sj::value& value, std::string* out, int depth) {
    if (!CheckDepth(depth)) return false;
    const size_t start = out->size();
    out->push_back('[');
    bool ok = ForEachField(value, "ArrayValue", [&](std::string_view key, sj::value& v) {
      if (key != "values") return true;
      out->resize(start + 1);  // a repeated "values" key replaces the earlier one
      bool first = true;
      return ForEachElement(v, "ArrayValue.values", [&](sj::value& element) {
        if (!first) out->push_back(',');
        first = false;
        return RenderAnyValue(element, out, depth);
      });
    });
    out->push_back(']');
    return ok;
  }

  // {"values":[KeyValue...]} as {"k":v,...}.
  bool RenderKvList(sj::value& value, std::string* out, int depth) {
    if (!CheckDepth(depth)) return false;
    const size_t start = out->size();
    out->push_back('{');
    bool ok = ForEachField(value, "KeyValueList", [&](std::string_view key, sj::value& v) {
      if (key != "values") return true;
      out->resize(start + 1);
      bool first = true;
      return ForEachElement(v, "KeyValueList.values", [&](sj::value& element) {
        if (!first) out->push_back(',');
        first = false;
        // The key may come after the value: render the value aside first.
        std::string key_text, value_text = "null";
        bool kv_ok = ForEachField(element, "KeyValue", [&](std::string_view k, sj::value& kv) {
          if (k == "key") {
            std::string_view s;
            if (!ReadString(kv, "KeyValue.key", &s)) return false;
            key_text.assign(s);
          } else if (k == "value") {
            value_text.clear();
            return RenderAnyValue(kv, &value_text, depth);
          }
          return true;
        });
        if (!kv_ok) return false;
        internal::AppendJsonString(*out, key_text);
        out->push_back(':');
        out->append(value_text);
        return true;
      });
    });
    out->push_back('}');
    return ok;
  }

  // One AnyValue object as JSON text; the last variant wins, none renders as null.
  bool RenderAnyValue(sj::value& value, std::string* out, int depth) {
    const size_t start = out->size();
    bool any = false;
    bool ok = ForEachField(value, "AnyValue", [&](std::string_view key, sj::value& v) {
      auto restart = [&] {
        out->resize(start);
        any = true;
      };
      if (KeyIs(key, "stringValue", "string_value")) {
        std::string_view s;
        if (!ReadString(v, "AnyValue.stringValue", &s)) return false;
        restart();
        internal::AppendJsonString(*out, s);
      } else if (KeyIs(key, "boolValue", "bool_value")) {
        bool b = false;
        if (!IsNull(v)) OTLP_JSON_TRY(v.get_bool().get(b), "expected a bool for boolValue");
        restart();
        internal::AppendJsonBool(*out, b);
      } else if (KeyIs(key, "intValue", "int_value")) {
        int64_t i;
        if (!ReadInteger(v, "AnyValue.intValue", &i)) return false;
        restart();
        internal::AppendJsonInt(*out, i);
      } else if (KeyIs(key, "doubleValue", "double_value")) {
        double d;
        if (!ReadDouble(v, "AnyValue.doubleValue", &d)) return false;
        restart();
        internal::AppendJsonDouble(*out, d);
      } else if (KeyIs(key, "bytesValue", "bytes_value")) {
        std::string_view b;
        if (!ReadBytes(v, &b)) return false;
        restart();
        internal::AppendJsonBytes(*out, b);
      } else if (KeyIs(key, "arrayValue", "array_value")) {
        restart();
        return RenderArray(v, out, depth + 1);
      } else if (KeyIs(key, "kvlistValue", "kvlist_value")) {
        restart();
        return RenderKvList(v, out, depth + 1);
      } else if (KeyIs(key, "stringValueStrindex", "string_value_strindex")) {
        out->resize(start);
        any = false;
      }
      return true;
    });
    if (!ok) return false;
    if (!any) *out += "null";
    return true;
  }

  DecodedRequest* out_;
  model::SpanBatch& batch_;
  sj::document doc_;
  const char* base_ = nullptr;
  Status error_;
  internal::RejectionLog rejections_;
  uint64_t span_ordinal_ = 0;
  std::string reason_;
  std::string bad_id_text_;
  std::string trace_raw_, span_raw_, parent_raw_;
  std::string bytes_;
  std::string scratch_;
  std::string repaired_;
};

}  // namespace

Result<DecodedRequest> DecodeJsonRequest(std::string_view body) {
  DecodedRequest out;
  JsonDecoder decoder(&out);
  ARIADNE_RETURN_IF_ERROR(decoder.Decode(body));
  return out;
}

}  // namespace ariadne::receivers::otlp
