// The protobuf half of otlp_codec.h: a hand-written, zero-copy walker over the
// ExportTraceServiceRequest wire format.
//
// Every read is bounds-checked against the enclosing message. Fields are matched on the full key
// (field number and wire type), so a known field number with an unexpected wire type is skipped
// like an unknown field, as libprotobuf does. Groups (wire types 3/4), wire types 6/7 and field
// number 0 fail the request. Repeated occurrences of a singular field follow protobuf's merge
// rules: the last scalar wins, embedded messages merge (attributes accumulate), and a oneof takes
// its last variant (array/kvlist occurrences in a row concatenate). Every string (names, keys,
// string values, status messages, trace states, schema URLs) is checked for valid UTF-8; an invalid
// one is repaired (U+FFFD per bad subpart, common/utf8.h) into the batch's arena and counted.
//
// Attribute ranges stay contiguous even when a span's attributes are interleaved with its events or
// links on the wire: the span's earlier attributes are moved to the end first (rare; SDKs write
// fields in number order).

#include <cstring>

#include "common/utf8.h"
#include "receivers/otlp/otlp_codec.h"
#include "receivers/otlp/otlp_internal.h"

namespace ariadne::receivers::otlp {
namespace {

using internal::AppendJsonBool;
using internal::AppendJsonBytes;
using internal::AppendJsonDouble;
using internal::AppendJsonInt;
using internal::AppendJsonString;

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

constexpr uint32_t Tag(uint32_t field, WireType type) { return field << 3 | type; }

// One decoded field: its key and its value (varint / fixed bits in `bits`, LEN payload in `bytes`).
struct Field {
  uint32_t tag;
  uint64_t bits;
  std::string_view bytes;
  uint32_t number() const { return tag >> 3; }
};

// A bounded region of the body: one message.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;
  explicit Cursor(std::string_view msg)
      : p(reinterpret_cast<const uint8_t*>(msg.data())), end(p + msg.size()) {}
  bool done() const { return p >= end; }
};

[[gnu::always_inline]] inline bool ReadVarint(const uint8_t*& p, const uint8_t* end,
                                              uint64_t* out) {
  if (p < end && *p < 0x80) {
    *out = *p++;
    return true;
  }
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return false;
    uint8_t b = *p++;
    result |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) {
      *out = result;
      return true;
    }
  }
  return false;
}

inline uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // x86-64 / aarch64 are little-endian, as is the wire format
}
inline uint32_t LoadLe32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

model::SpanKind MapSpanKind(uint64_t raw) {
  auto v = static_cast<int32_t>(raw);
  return v >= 0 && v <= 5 ? static_cast<model::SpanKind>(v) : model::SpanKind::kUnspecified;
}

model::StatusCode MapStatusCode(uint64_t raw) {
  auto v = static_cast<int32_t>(raw);
  return v >= 0 && v <= 2 ? static_cast<model::StatusCode>(v) : model::StatusCode::kUnset;
}

// The resolved content of one AnyValue (or several merged occurrences of it).
struct AnyValueView {
  uint32_t variant = 0;  // AnyValue field number of the winning oneof member, 0 = empty
  uint64_t bits = 0;     // bool / int / double payload
  std::string_view str;  // string / bytes payload
  // For array (5) and kvlist (6): the occurrences of that field in the current run, i.e. since the
  // last occurrence of another variant. Recorded as the messages' payloads.
  std::vector<std::string_view>* run = nullptr;
};

class ProtoDecoder {
 public:
  ProtoDecoder(std::string_view body, DecodedRequest* out)
      : base_(reinterpret_cast<const uint8_t*>(body.data())), body_(body), out_(out) {}

  Status Decode() {
    model::SpanBatch& batch = out_->batch;
    batch.spans.reserve(body_.size() / 300 + 1);
    batch.attributes.reserve(body_.size() / 40 + 1);
    Cursor c(body_);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "ExportTraceServiceRequest")) return std::move(error_);
      if (f.tag == Tag(1, kLen) && !DecodeResourceSpans(f.bytes)) return std::move(error_);
    }
    out_->rejected_spans = rejections_.count();
    out_->rejection_message = rejections_.Message();
    return Status::Ok();
  }

 private:
  size_t Offset(const uint8_t* p) const { return static_cast<size_t>(p - base_); }

  [[gnu::cold, gnu::noinline]] bool Fail(const uint8_t* at, std::string what) {
    error_ = Status::InvalidArgument("malformed OTLP protobuf body at byte offset " +
                                     std::to_string(Offset(at)) + ": " + std::move(what));
    return false;
  }

  // Reads the next key and value of the message under `c`. `message` names it for errors. The
  // fast path is inline; error reporting (with its string building) is out of line.
  inline bool NextField(Cursor& c, Field* f, const char* message) {
    const uint8_t* p = c.p;
    uint64_t key;
    if (__builtin_expect(ReadVarint(p, c.end, &key) && key >= 8 && key <= 0xFFFFFFFFu, 1)) {
      switch (key & 7) {
        case kVarint:
          if (ReadVarint(p, c.end, &f->bits)) {
            f->tag = static_cast<uint32_t>(key);
            c.p = p;
            return true;
          }
          break;
        case kLen: {
          uint64_t len;
          if (ReadVarint(p, c.end, &len) && len <= static_cast<uint64_t>(c.end - p)) {
            f->tag = static_cast<uint32_t>(key);
            f->bytes = std::string_view(reinterpret_cast<const char*>(p), len);
            c.p = p + len;
            return true;
          }
          break;
        }
        case kFixed64:
          if (c.end - p >= 8) {
            f->tag = static_cast<uint32_t>(key);
            f->bits = LoadLe64(p);
            c.p = p + 8;
            return true;
          }
          break;
        case kFixed32:
          if (c.end - p >= 4) {
            f->tag = static_cast<uint32_t>(key);
            f->bits = LoadLe32(p);
            c.p = p + 4;
            return true;
          }
          break;
        default:
          break;
      }
    }
    // Errors (and only errors) end up here; it re-reads the field to say what went wrong.
    return NextFieldSlow(c, f, message);
  }

  [[gnu::noinline]] bool NextFieldSlow(Cursor& c, Field* f, const char* message) {
    const uint8_t* start = c.p;
    uint64_t key;
    if (!ReadVarint(c.p, c.end, &key)) {
      return Fail(start, std::string("expected a field key (varint) in ") + message +
                             (c.p >= c.end ? ", but the message ends mid-varint"
                                           : ", but the varint is longer than 10 bytes"));
    }
    if (key > 0xFFFFFFFFu || (key >> 3) == 0) {
      return Fail(start, std::string("invalid field number ") + std::to_string(key >> 3) + " in " +
                             message);
    }
    f->tag = static_cast<uint32_t>(key);
    const uint8_t* value_start = c.p;
    switch (key & 7) {
      case kVarint:
        if (!ReadVarint(c.p, c.end, &f->bits)) {
          return Fail(
              value_start,
              "expected a varint for field " + std::to_string(key >> 3) + " of " + message +
                  (c.p >= c.end ? ", but the message ends" : ", but it is longer than 10 bytes"));
        }
        return true;
      case kFixed64:
        if (c.end - c.p < 8) {
          return Fail(value_start, "expected 8 bytes (fixed64) for field " +
                                       std::to_string(key >> 3) + " of " + message + ", only " +
                                       std::to_string(c.end - c.p) + " remain");
        }
        f->bits = LoadLe64(c.p);
        c.p += 8;
        return true;
      case kFixed32:
        if (c.end - c.p < 4) {
          return Fail(value_start, "expected 4 bytes (fixed32) for field " +
                                       std::to_string(key >> 3) + " of " + message + ", only " +
                                       std::to_string(c.end - c.p) + " remain");
        }
        f->bits = LoadLe32(c.p);
        c.p += 4;
        return true;
      case kLen: {
        uint64_t len;
        if (!ReadVarint(c.p, c.end, &len)) {
          return Fail(value_start, "expected a length (varint) for field " +
                                       std::to_string(key >> 3) + " of " + message);
        }
        auto remaining = static_cast<uint64_t>(c.end - c.p);
        if (len > remaining) {
          return Fail(value_start, "field " + std::to_string(key >> 3) + " of " + message +
                                       " declares " + std::to_string(len) + " bytes but only " +
                                       std::to_string(remaining) +
                                       " remain in the enclosing message");
        }
        f->bytes = std::string_view(reinterpret_cast<const char*>(c.p), len);
        c.p += len;
        return true;
      }
      case kStartGroup:
      case kEndGroup:
        return Fail(start, "field " + std::to_string(key >> 3) + " of " + message +
                               " uses the deprecated group wire type, which OTLP never sends");
      default:
        return Fail(start, "invalid wire type " + std::to_string(key & 7) + " for field " +
                               std::to_string(key >> 3) + " of " + message);
    }
  }

  // `bytes` when it is valid UTF-8 (the common case, no copy), else a repaired copy in the arena.
  std::string_view Text(std::string_view bytes) {
    if (__builtin_expect(utf8::IsValid(bytes), 1)) return bytes;
    return Repair(bytes);
  }
  [[gnu::cold, gnu::noinline]] std::string_view Repair(std::string_view bytes) {
    repaired_.clear();
    out_->invalid_utf8_replaced += utf8::AppendRepaired(bytes, &repaired_);
    return out_->batch.arena.Copy(repaired_);
  }

  const uint8_t* Ptr(std::string_view bytes) const {
    return reinterpret_cast<const uint8_t*>(bytes.data());
  }

  bool DecodeResourceSpans(std::string_view msg) {
    model::SpanBatch& batch = out_->batch;
    auto resource_index = static_cast<uint32_t>(batch.resources.size());
    batch.resources.emplace_back();
    Cursor c(msg);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "ResourceSpans")) return false;
      switch (f.tag) {
        case Tag(1, kLen):
          if (!DecodeResource(f.bytes, resource_index)) return false;
          break;
        case Tag(2, kLen):
          if (!DecodeScopeSpans(f.bytes, resource_index)) return false;
          break;
        case Tag(3, kLen):
          batch.resources[resource_index].schema_url = Text(f.bytes);
          break;
        default:
          break;
      }
    }
    return true;
  }

  bool DecodeResource(std::string_view msg, uint32_t index) {
    Cursor c(msg);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "Resource")) return false;
      switch (f.tag) {
        case Tag(1, kLen): {
          model::Range range = out_->batch.resources[index].attributes;
          if (!AppendAttribute(&range, f.bytes)) return false;
          out_->batch.resources[index].attributes = range;
          break;
        }
        case Tag(2, kVarint):
          out_->batch.resources[index].dropped_attributes_count = static_cast<uint32_t>(f.bits);
          break;
        default:
          break;
      }
    }
    return true;
  }

  bool DecodeScopeSpans(std::string_view msg, uint32_t resource_index) {
    model::SpanBatch& batch = out_->batch;
    auto scope_index = static_cast<uint32_t>(batch.scopes.size());
    batch.scopes.emplace_back();
    Cursor c(msg);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "ScopeSpans")) return false;
      switch (f.tag) {
        case Tag(1, kLen):
          if (!DecodeScope(f.bytes, scope_index)) return false;
          break;
        case Tag(2, kLen):
          if (!DecodeSpan(f.bytes, resource_index, scope_index)) return false;
          break;
        case Tag(3, kLen):
          batch.scopes[scope_index].schema_url = Text(f.bytes);
          break;
        default:
          break;
      }
    }
    return true;
  }

  bool DecodeScope(std::string_view msg, uint32_t index) {
    Cursor c(msg);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "InstrumentationScope")) return false;
      model::Scope& scope = out_->batch.scopes[index];
      switch (f.tag) {
        case Tag(1, kLen):
          scope.name = Text(f.bytes);
          break;
        case Tag(2, kLen):
          scope.version = Text(f.bytes);
          break;
        case Tag(3, kLen): {
          model::Range range = scope.attributes;
          if (!AppendAttribute(&range, f.bytes)) return false;
          out_->batch.scopes[index].attributes = range;
          break;
        }
        case Tag(4, kVarint):
          scope.dropped_attributes_count = static_cast<uint32_t>(f.bits);
          break;
        default:
          break;
      }
    }
    return true;
  }

  bool DecodeSpan(std::string_view msg, uint32_t resource_index, uint32_t scope_index) {
    model::SpanBatch& batch = out_->batch;
    const size_t attributes_before = batch.attributes.size();
    const size_t events_before = batch.events.size();
    const size_t links_before = batch.links.size();
    const uint64_t ordinal = span_ordinal_++;

    model::Span span;
    span.resource_index = resource_index;
    span.scope_index = scope_index;
    span.events.begin = static_cast<uint32_t>(events_before);
    span.links.begin = static_cast<uint32_t>(links_before);
    std::string_view trace_id, span_id, parent_span_id;
    uint32_t links_dropped_here = 0;  // links we dropped for bad ids

    Cursor c(msg);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "Span")) return false;
      switch (f.tag) {
        case Tag(1, kLen):
          trace_id = f.bytes;
          break;
        case Tag(2, kLen):
          span_id = f.bytes;
          break;
        case Tag(3, kLen):
          span.trace_state = Text(f.bytes);
          break;
        case Tag(4, kLen):
          parent_span_id = f.bytes;
          break;
        case Tag(5, kLen):
          span.name = Text(f.bytes);
          break;
        case Tag(6, kVarint):
          span.kind = MapSpanKind(f.bits);
          break;
        case Tag(7, kFixed64):
          span.start_time_unix_nano = f.bits;
          break;
        case Tag(8, kFixed64):
          span.end_time_unix_nano = f.bits;
          break;
        case Tag(9, kLen):
          if (!AppendAttribute(&span.attributes, f.bytes)) return false;
          break;
        case Tag(10, kVarint):
          span.dropped_attributes_count = static_cast<uint32_t>(f.bits);
          break;
        case Tag(11, kLen):
          if (!DecodeEvent(f.bytes)) return false;
          ++span.events.count;
          break;
        case Tag(12, kVarint):
          span.dropped_events_count = static_cast<uint32_t>(f.bits);
          break;
        case Tag(13, kLen): {
          bool kept;
          if (!DecodeLink(f.bytes, &kept)) return false;
          if (kept) {
            ++span.links.count;
          } else {
            ++links_dropped_here;
          }
          break;
        }
        case Tag(14, kVarint):
          span.dropped_links_count = static_cast<uint32_t>(f.bits);
          break;
        case Tag(15, kLen):
          if (!DecodeStatus(f.bytes, &span)) return false;
          break;
        case Tag(16, kFixed32):
          span.flags = static_cast<uint32_t>(f.bits);
          break;
        default:
          break;
      }
    }

    if (!internal::CheckSpanIds(trace_id, span_id, parent_span_id, &reason_)) {
      batch.attributes.resize(attributes_before);
      batch.events.resize(events_before);
      batch.links.resize(links_before);
      rejections_.Add(ordinal, reason_);
      return true;
    }
    // Links we dropped for bad ids count on top of the sender's own dropped_links_count.
    span.dropped_links_count += links_dropped_here;
    span.trace_id = internal::IdFromBytes<model::TraceId>(trace_id);
    span.span_id = internal::IdFromBytes<model::SpanId>(span_id);
    span.parent_span_id = internal::IdFromBytes<model::SpanId>(parent_span_id);
    batch.spans.push_back(span);
    return true;
  }

  bool DecodeStatus(std::string_view msg, model::Span* span) {
    Cursor c(msg);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "Status")) return false;
      if (f.tag == Tag(2, kLen)) {
        span->status_message = Text(f.bytes);
      } else if (f.tag == Tag(3, kVarint)) {
        span->status_code = MapStatusCode(f.bits);
      }
    }
    return true;
  }

  bool DecodeEvent(std::string_view msg) {
    model::Event event;
    Cursor c(msg);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "Span.Event")) return false;
      switch (f.tag) {
        case Tag(1, kFixed64):
          event.time_unix_nano = f.bits;
          break;
        case Tag(2, kLen):
          event.name = Text(f.bytes);
          break;
        case Tag(3, kLen):
          if (!AppendAttribute(&event.attributes, f.bytes)) return false;
          break;
        case Tag(4, kVarint):
          event.dropped_attributes_count = static_cast<uint32_t>(f.bits);
          break;
        default:
          break;
      }
    }
    out_->batch.events.push_back(event);
    return true;
  }

  // A link whose ids are not 16/8 non-zero bytes is dropped (`*kept` = false) and counted in the
  // span's dropped_links_count; the span itself survives.
  bool DecodeLink(std::string_view msg, bool* kept) {
    model::SpanBatch& batch = out_->batch;
    const size_t attributes_before = batch.attributes.size();
    model::Link link;
    std::string_view trace_id, span_id;
    Cursor c(msg);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "Span.Link")) return false;
      switch (f.tag) {
        case Tag(1, kLen):
          trace_id = f.bytes;
          break;
        case Tag(2, kLen):
          span_id = f.bytes;
          break;
        case Tag(3, kLen):
          link.trace_state = Text(f.bytes);
          break;
        case Tag(4, kLen):
          if (!AppendAttribute(&link.attributes, f.bytes)) return false;
          break;
        case Tag(5, kVarint):
          link.dropped_attributes_count = static_cast<uint32_t>(f.bits);
          break;
        case Tag(6, kFixed32):
          link.flags = static_cast<uint32_t>(f.bits);
          break;
        default:
          break;
      }
    }
    if (!internal::CheckSpanIds(trace_id, span_id, {}, &reason_)) {
      batch.attributes.resize(attributes_before);
      *kept = false;
      return true;
    }
    link.trace_id = internal::IdFromBytes<model::TraceId>(trace_id);
    link.span_id = internal::IdFromBytes<model::SpanId>(span_id);
    batch.links.push_back(link);
    *kept = true;
    return true;
  }

  // Decodes one KeyValue message and appends it to `range`, keeping the range contiguous.
  bool AppendAttribute(model::Range* range, std::string_view msg) {
    std::vector<model::KeyValue>& attributes = out_->batch.attributes;
    if (range->count == 0) {
      range->begin = static_cast<uint32_t>(attributes.size());
    } else if (range->end() != attributes.size()) {
      // Something else was appended since this range's last entry: move the range to the end.
      auto new_begin = static_cast<uint32_t>(attributes.size());
      for (uint32_t i = range->begin; i < range->end(); ++i) {
        model::KeyValue copy = attributes[i];
        attributes.push_back(copy);
      }
      range->begin = new_begin;
    }
    model::KeyValue kv;
    if (!DecodeKeyValue(msg, &kv, 0)) return false;
    attributes.push_back(kv);
    ++range->count;
    return true;
  }

  bool DecodeKeyValue(std::string_view msg, model::KeyValue* kv, int depth) {
    AnyValueView view;
    std::vector<std::string_view> run;
    view.run = &run;
    Cursor c(msg);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "KeyValue")) return false;
      if (f.tag == Tag(1, kLen)) {
        kv->key = Text(f.bytes);
      } else if (f.tag == Tag(2, kLen)) {
        if (!ResolveAnyValue(f.bytes, &view)) return false;
      }
    }
    return ToModelValue(view, &kv->value, depth);
  }

  // Walks one AnyValue message and updates `view` with the oneof member that wins.
  bool ResolveAnyValue(std::string_view msg, AnyValueView* view) {
    Cursor c(msg);
    while (!c.done()) {
      Field f;
      if (!NextField(c, &f, "AnyValue")) return false;
      switch (f.tag) {
        case Tag(1, kLen):
        case Tag(7, kLen):
          view->variant = f.number();
          view->str = f.bytes;
          break;
        case Tag(2, kVarint):
        case Tag(3, kVarint):
        case Tag(8, kVarint):
          view->variant = f.number();
          view->bits = f.bits;
          break;
        case Tag(4, kFixed64):
          view->variant = 4;
          view->bits = f.bits;
          break;
        case Tag(5, kLen):
        case Tag(6, kLen):
          if (view->variant != f.number()) view->run->clear();
          view->variant = f.number();
          view->run->push_back(f.bytes);
          break;
        default:
          break;
      }
    }
    return true;
  }

  bool ToModelValue(const AnyValueView& view, model::Value* value, int depth) {
    switch (view.variant) {
      case 1:
        *value = model::Value::String(Text(view.str));
        return true;
      case 2:
        *value = model::Value::Bool(view.bits != 0);
        return true;
      case 3:
        *value = model::Value::Int(static_cast<int64_t>(view.bits));
        return true;
      case 4: {
        double d;
        std::memcpy(&d, &view.bits, sizeof(d));
        *value = model::Value::Double(d);
        return true;
      }
      case 5:
      case 6: {
        scratch_.clear();
        if (!RenderComposite(view, &scratch_, depth + 1)) return false;
        std::string_view json = out_->batch.arena.Copy(scratch_);
        *value = view.variant == 5 ? model::Value::Array(json) : model::Value::KvList(json);
        return true;
      }
      case 7:
        *value = model::Value::Bytes(view.str);
        return true;
      default:  // unset, or the Profiles-only string_value_strindex: treated as absent
        *value = model::Value();
        return true;
    }
  }

  // Appends the JSON text of a resolved AnyValue.
  bool RenderValue(const AnyValueView& view, std::string* out, int depth) {
    switch (view.variant) {
      case 1:
        AppendJsonString(*out, Text(view.str));
        return true;
      case 2:
        AppendJsonBool(*out, view.bits != 0);
        return true;
      case 3:
        AppendJsonInt(*out, static_cast<int64_t>(view.bits));
        return true;
      case 4: {
        double d;
        std::memcpy(&d, &view.bits, sizeof(d));
        AppendJsonDouble(*out, d);
        return true;
      }
      case 5:
      case 6:
        return RenderComposite(view, out, depth + 1);
      case 7:
        AppendJsonBytes(*out, view.str);
        return true;
      default:
        *out += "null";
        return true;
    }
  }

  // Renders an array (variant 5) as [..] or a kvlist (variant 6) as {..}.
  bool RenderComposite(const AnyValueView& view, std::string* out, int depth) {
    if (depth > internal::kMaxValueNesting) {
      return Fail(Ptr(view.run->front()), "attribute values nest deeper than " +
                                              std::to_string(internal::kMaxValueNesting) +
                                              " arrays/kvlists");
    }
    const bool is_array = view.variant == 5;
    out->push_back(is_array ? '[' : '{');
    bool first = true;
    for (std::string_view container : *view.run) {
      Cursor c(container);
      while (!c.done()) {
        Field f;
        if (!NextField(c, &f, is_array ? "ArrayValue" : "KeyValueList")) return false;
        if (f.tag != Tag(1, kLen)) continue;
        if (!first) out->push_back(',');
        first = false;
        std::vector<std::string_view> run;
        AnyValueView element;
        element.run = &run;
        if (is_array) {
          if (!ResolveAnyValue(f.bytes, &element)) return false;
        } else {
          std::string_view key;
          Cursor kc(f.bytes);
          while (!kc.done()) {
            Field kf;
            if (!NextField(kc, &kf, "KeyValue")) return false;
            if (kf.tag == Tag(1, kLen)) {
              key = kf.bytes;
            } else if (kf.tag == Tag(2, kLen)) {
              if (!ResolveAnyValue(kf.bytes, &element)) return false;
            }
          }
          AppendJsonString(*out, Text(key));
          out->push_back(':');
        }
        if (!RenderValue(element, out, depth)) return false;
      }
    }
    out->push_back(is_array ? ']' : '}');
    return true;
  }

  const uint8_t* base_;
  std::string_view body_;
  DecodedRequest* out_;
  Status error_;
  internal::RejectionLog rejections_;
  uint64_t span_ordinal_ = 0;
  std::string reason_;
  std::string scratch_;
  std::string repaired_;
};

}  // namespace

Result<DecodedRequest> DecodeProtobufRequest(std::shared_ptr<const std::string> body) {
  if (body == nullptr) return Status::InvalidArgument("OTLP protobuf body is missing");
  DecodedRequest out;
  ProtoDecoder decoder(*body, &out);
  ARIADNE_RETURN_IF_ERROR(decoder.Decode());
  out.batch.arena.Retain(std::move(body));
  return out;
}

}  // namespace ariadne::receivers::otlp
