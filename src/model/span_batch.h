// SpanBatch: the unit every stage passes on — decoded spans with their resources, scopes,
// attributes, events and links, stored flat.
//
// Layout: spans, events, links, resources and scopes refer to their attributes by a [begin, count)
// range in `attributes`; spans refer to their events and links the same way and to their resource
// and scope by index. Flat vectors keep decoding to a handful of allocations per batch and map
// directly onto columns.
//
// Strings are std::string_view into memory the batch owns (its StringArena): the request body a
// zero-copy decoder read from, or bytes copied in by a decoder that had to unescape. A batch may be
// moved freely; views stay valid because arena memory never moves. Copying a batch is not allowed
// (use Clone()).
//
// Threads: a batch is owned by one thread at a time; const access from several threads is safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/ids.h"

namespace ariadne::model {

// Owns the bytes that a batch's string_views point into.
class StringArena {
 public:
  StringArena() = default;
  StringArena(StringArena&&) noexcept = default;
  StringArena& operator=(StringArena&&) noexcept = default;
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;

  // Copies `text` into the arena and returns a view of the copy.
  std::string_view Copy(std::string_view text);
  // Keeps `buffer` alive as long as the arena; views into it stay valid.
  void Retain(std::shared_ptr<const std::string> buffer) { retained_.push_back(std::move(buffer)); }

  size_t bytes_allocated() const { return bytes_allocated_; }

 private:
  static constexpr size_t kChunkSize = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t chunk_used_ = kChunkSize;
  size_t bytes_allocated_ = 0;
  std::vector<std::shared_ptr<const std::string>> retained_;
};

enum class SpanKind : uint8_t {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};
std::string_view SpanKindName(SpanKind kind);  // "server", "client", ... (Honeycomb's spelling)

enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };
std::string_view StatusCodeName(StatusCode code);  // "unset", "ok", "error"

// Attribute value types. Arrays and key/value lists keep their OTLP JSON rendering in `str` so they
// survive storage without a nested column type; bytes keep the raw bytes.
enum class ValueType : uint8_t {
  kEmpty = 0,
  kString = 1,
  kBool = 2,
  kInt = 3,
  kDouble = 4,
  kBytes = 5,
  kArray = 6,   // str = JSON array text, e.g. ["a",1]
  kKvList = 7,  // str = JSON object text, e.g. {"k":"v"}
};
std::string_view ValueTypeName(ValueType type);  // "string", "bool", "int", ...

struct Value {
  ValueType type = ValueType::kEmpty;
  union {
    bool bool_value;
    int64_t int_value;
    double double_value;
  };
  std::string_view str;  // kString, kBytes, kArray, kKvList

  Value() : int_value(0) {}
  static Value String(std::string_view s) {
    Value v;
    v.type = ValueType::kString;
    v.str = s;
    return v;
  }
  static Value Bool(bool b) {
    Value v;
    v.type = ValueType::kBool;
    v.bool_value = b;
    return v;
  }
  static Value Int(int64_t i) {
    Value v;
    v.type = ValueType::kInt;
    v.int_value = i;
    return v;
  }
  static Value Double(double d) {
    Value v;
    v.type = ValueType::kDouble;
    v.double_value = d;
    return v;
  }
  static Value Bytes(std::string_view b) {
    Value v;
    v.type = ValueType::kBytes;
    v.str = b;
    return v;
  }
  static Value Array(std::string_view json) {
    Value v;
    v.type = ValueType::kArray;
    v.str = json;
    return v;
  }
  static Value KvList(std::string_view json) {
    Value v;
    v.type = ValueType::kKvList;
    v.str = json;
    return v;
  }
  bool operator==(const Value& other) const;
};

struct KeyValue {
  std::string_view key;
  Value value;
};

// [begin, begin + count) in one of the batch's flat vectors.
struct Range {
  uint32_t begin = 0;
  uint32_t count = 0;
  uint32_t end() const { return begin + count; }
};

struct Resource {
  Range attributes;
  uint32_t dropped_attributes_count = 0;
  std::string_view schema_url;
};

struct Scope {
  std::string_view name;
  std::string_view version;
  Range attributes;
  uint32_t dropped_attributes_count = 0;
  std::string_view schema_url;
};

struct Event {
  uint64_t time_unix_nano = 0;
  std::string_view name;
  Range attributes;
  uint32_t dropped_attributes_count = 0;
};

struct Link {
  TraceId trace_id;
  SpanId span_id;
  std::string_view trace_state;
  Range attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
};

struct Span {
  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span_id;  // zero for a root span
  std::string_view trace_state;
  std::string_view name;
  SpanKind kind = SpanKind::kUnspecified;
  StatusCode status_code = StatusCode::kUnset;
  std::string_view status_message;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  uint32_t flags = 0;
  uint32_t dropped_attributes_count = 0;
  uint32_t dropped_events_count = 0;
  uint32_t dropped_links_count = 0;
  uint32_t resource_index = 0;
  uint32_t scope_index = 0;
  Range attributes;
  Range events;
  Range links;

  bool is_root() const { return parent_span_id.IsZero(); }
  uint64_t duration_nano() const {
    return end_time_unix_nano > start_time_unix_nano ? end_time_unix_nano - start_time_unix_nano
                                                     : 0;
  }
};

struct SpanBatch {
  SpanBatch() = default;
  SpanBatch(SpanBatch&&) noexcept = default;
  SpanBatch& operator=(SpanBatch&&) noexcept = default;
  SpanBatch(const SpanBatch&) = delete;
  SpanBatch& operator=(const SpanBatch&) = delete;

  std::vector<Resource> resources;
  std::vector<Scope> scopes;
  std::vector<Span> spans;
  std::vector<KeyValue> attributes;
  std::vector<Event> events;
  std::vector<Link> links;
  StringArena arena;

  // Copies everything, strings included, into a batch that owns its own memory.
  SpanBatch Clone() const;

  // Appends span `index` of `other` (with its resource, scope, attributes, events and links) to
  // this batch, copying strings into this batch's arena. Resources and scopes are appended anew
  // each call unless the caller passes the index of one already copied (see CopyResourceFrom).
  uint32_t CopyResourceFrom(const SpanBatch& other, uint32_t resource_index);
  uint32_t CopyScopeFrom(const SpanBatch& other, uint32_t scope_index);
  void CopySpanFrom(const SpanBatch& other, size_t index, uint32_t resource_index,
                    uint32_t scope_index);

  // The service.name resource attribute of a resource, or "" when absent.
  std::string_view ServiceName(uint32_t resource_index) const;
  std::string_view ServiceNameOf(const Span& span) const {
    return ServiceName(span.resource_index);
  }

  // Attribute lookup inside a range; nullptr when the key is absent.
  const Value* FindAttribute(Range range, std::string_view key) const;

  // Appends copies of other.attributes[range] (strings into this arena); returns their range.
  Range CopyAttributes(const SpanBatch& other, Range range);
};

}  // namespace ariadne::model
