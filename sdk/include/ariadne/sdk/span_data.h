// SpanData: everything recorded about one span, and SpanDataRef, the shared handle processors and
// exporters pass around.
//
// Memory: SpanData objects come from a process-wide pool with per-thread caches and go back to it
// when the last SpanDataRef lets go, so a steady stream of spans allocates nothing. Up to
// kInlineAttributes attributes and kInlineBytes of strings (name, keys, string values) live inside
// the object; beyond that the span spills to the heap.
//
// Threads: a SpanData is written only by the thread that owns the live Span; after End() it is
// immutable and may be read by any number of threads through SpanDataRefs (the reference count is
// atomic).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "ariadne/sdk/attribute.h"
#include "ariadne/sdk/context.h"

namespace ariadne::sdk {

class Resource;
struct InstrumentationScope;

// Numbering matches OTLP's SpanKind.
enum class SpanKind : uint8_t {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};
// Numbering matches OTLP's Status.code.
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

std::string_view SpanKindName(SpanKind kind);

// An attribute stored in a SpanData; key and string value point into the SpanData.
struct Attribute {
  std::string_view key;
  AttributeValue value;
};

struct SpanEvent {
  uint64_t time_ns = 0;
  std::string_view name;
  std::vector<Attribute> attributes;
};

struct SpanLink {
  SpanContext context;
  std::vector<Attribute> attributes;
};

// Limits from the OTel SDK defaults (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT etc.).
inline constexpr size_t kMaxAttributes = 128;
inline constexpr size_t kMaxEvents = 128;
inline constexpr size_t kMaxLinks = 128;

class SpanData {
 public:
  static constexpr size_t kInlineAttributes = 8;
  static constexpr size_t kInlineBytes = 384;

  SpanData(const SpanData&) = delete;
  SpanData& operator=(const SpanData&) = delete;

  // --- identity and timing -----------------------------------------------------------------
  const SpanContext& context() const { return context_; }
  const SpanId& parent_span_id() const { return parent_span_id_; }
  bool parent_is_remote() const { return parent_is_remote_; }
  SpanKind kind() const { return kind_; }
  std::string_view name() const { return name_; }
  uint64_t start_ns() const { return start_ns_; }
  uint64_t end_ns() const { return end_ns_; }
  StatusCode status() const { return status_; }
  std::string_view status_message() const { return status_message_; }
  const Resource* resource() const { return resource_; }
  const InstrumentationScope* scope() const { return scope_; }

  // --- attributes, events, links ------------------------------------------------------------
  size_t attribute_count() const { return inline_count_ + overflow_.size(); }
  const Attribute& attribute(size_t index) const {
    return index < inline_count_ ? inline_[index] : overflow_[index - inline_count_];
  }
  // nullptr when absent.
  const AttributeValue* FindAttribute(std::string_view key) const;
  uint32_t dropped_attributes() const { return dropped_attributes_; }
  const std::vector<SpanEvent>& events() const { return events_; }
  uint32_t dropped_events() const { return dropped_events_; }
  const std::vector<SpanLink>& links() const { return links_; }
  uint32_t dropped_links() const { return dropped_links_; }

  // --- writers (owning thread only, before End) ---------------------------------------------
  void SetName(std::string_view name) { name_ = CopyString(name); }
  // Adds or replaces `key` (copied).
  void SetAttribute(std::string_view key, const AttributeValue& value) {
    SetAttributeImpl(key, /*copy_key=*/true, value);
  }
  // Adds or replaces `key` without copying it. REQUIRES: `key` has static storage duration
  // (a string literal; Span::SetAttribute guarantees it with LiteralString).
  void SetAttributeStaticKey(std::string_view key, const AttributeValue& value) {
    SetAttributeImpl(key, /*copy_key=*/false, value);
  }
  void AddEvent(uint64_t time_ns, std::string_view name, const KeyValueArg* attrs, size_t count);
  void AddLink(const SpanContext& context, const KeyValueArg* attrs, size_t count);
  void SetStatus(StatusCode code, std::string_view message);
  void SetEnd(uint64_t end_ns) { end_ns_ = end_ns; }

  // Copies `text` into this span's storage (inline buffer first, heap chunks when full).
  std::string_view CopyString(std::string_view text) {
    const size_t n = text.size();
    if (n - 1 < 32 && n <= kInlineBytes - inline_used_) {  // 1..32 bytes that fit inline
      char* dst = inline_bytes_ + inline_used_;
      CopySmall(dst, text.data(), n);
      inline_used_ += n;
      return {dst, n};
    }
    return CopyStringSlow(text);
  }
  AttributeValue CopyValue(const AttributeValue& value);
  // dst = value, copying string characters into this span (no temporaries on the hot path).
  void StoreValue(AttributeValue& dst, const AttributeValue& value);

  // Allocation statistics for tests: bytes that went to heap chunks since the last reuse.
  size_t heap_bytes_for_test() const { return heap_bytes_; }

 private:
  friend class SpanDataPool;
  std::string_view CopyStringSlow(std::string_view text);
  void SetAttributeImpl(std::string_view key, bool copy_key, const AttributeValue& value);
  // Overlapping word moves for short strings instead of a libc call.
  static void CopySmall(char* dst, const char* src, size_t n) {
    if (n >= 8 && n <= 16) {
      uint64_t a, b;
      std::memcpy(&a, src, 8);
      std::memcpy(&b, src + n - 8, 8);
      std::memcpy(dst, &a, 8);
      std::memcpy(dst + n - 8, &b, 8);
    } else if (n > 16) {
      uint64_t w[4];
      std::memcpy(w, src, 16);
      std::memcpy(w + 2, src + n - 16, 16);
      std::memcpy(dst, w, 16);
      std::memcpy(dst + n - 16, w + 2, 16);
    } else {
      for (size_t i = 0; i < n; ++i) dst[i] = src[i];
    }
  }
  friend class SpanDataRef;
  friend class Tracer;

  SpanData();
  ~SpanData();
  void Reset();

  std::atomic<uint32_t> refs_{0};
  SpanData* next_free_ = nullptr;      // pool free-list link
  SpanData* next_magazine_ = nullptr;  // pool: next list of free spans
  size_t magazine_size_ = 0;

  SpanContext context_;
  SpanId parent_span_id_;
  bool parent_is_remote_ = false;
  SpanKind kind_ = SpanKind::kInternal;
  StatusCode status_ = StatusCode::kUnset;
  uint32_t inline_count_ = 0;
  uint32_t dropped_attributes_ = 0;
  uint32_t dropped_events_ = 0;
  uint32_t dropped_links_ = 0;
  uint64_t start_ns_ = 0;
  uint64_t end_ns_ = 0;
  std::string_view name_;
  std::string_view status_message_;
  const Resource* resource_ = nullptr;
  const InstrumentationScope* scope_ = nullptr;

  Attribute inline_[kInlineAttributes];
  std::vector<Attribute> overflow_;
  std::vector<SpanEvent> events_;
  std::vector<SpanLink> links_;

  // String storage.
  size_t inline_used_ = 0;
  char* chunk_ = nullptr;  // current heap chunk
  size_t chunk_left_ = 0;
  size_t heap_bytes_ = 0;
  std::vector<std::unique_ptr<char[]>> chunks_;
  alignas(8) char inline_bytes_[kInlineBytes];
};

// Shared, counted reference to a finished (or live) SpanData. Copying is an atomic increment;
// the last reference returns the SpanData to the pool.
class SpanDataRef {
 public:
  SpanDataRef() = default;
  SpanDataRef(const SpanDataRef& other) : data_(other.data_) {
    if (data_) data_->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  SpanDataRef(SpanDataRef&& other) noexcept : data_(other.data_) { other.data_ = nullptr; }
  SpanDataRef& operator=(SpanDataRef other) noexcept {
    std::swap(data_, other.data_);
    return *this;
  }
  ~SpanDataRef() { Release(); }

  // A fresh SpanData from the pool with one reference.
  static SpanDataRef Acquire();

  SpanData* get() const { return data_; }
  SpanData* operator->() const { return data_; }
  SpanData& operator*() const { return *data_; }
  explicit operator bool() const { return data_ != nullptr; }
  void reset() { Release(); }

 private:
  void Release();
  SpanData* data_ = nullptr;
};

}  // namespace ariadne::sdk
