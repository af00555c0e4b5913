// Trace identity: TraceId, SpanId, TraceState and SpanContext, the immutable values that travel
// with a span inside a process and across processes in propagation headers.
//
// Threads: all types here are values; a const object may be read from any thread.
// Ownership: TraceState shares one immutable string between copies, so copying a SpanContext never
// allocates (the hot path copies the parent's context into every child).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ariadne::sdk {

// 16-byte trace id. All zeros is invalid (W3C trace-context, OTLP).
struct TraceId {
  std::array<uint8_t, 16> bytes{};

  bool IsValid() const {
    uint64_t a, b;
    __builtin_memcpy(&a, bytes.data(), 8);
    __builtin_memcpy(&b, bytes.data() + 8, 8);
    return (a | b) != 0;
  }
  // 32 lowercase hex characters.
  std::string ToHex() const;
  void ToHex(char out[32]) const;
  // X-Ray form "1-<8 hex>-<24 hex>" (protocols.md §2.4).
  std::string ToXRay() const;
  // Accepts exactly 32 hex characters; `allow_upper` also accepts A-F (W3C forbids them).
  static std::optional<TraceId> FromHex(std::string_view hex, bool allow_upper = false);
  // Accepts "1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy" (hex case-insensitive).
  static std::optional<TraceId> FromXRay(std::string_view text);

  friend bool operator==(const TraceId&, const TraceId&) = default;
};

// 8-byte span id. All zeros is invalid.
struct SpanId {
  std::array<uint8_t, 8> bytes{};

  bool IsValid() const {
    uint64_t a;
    __builtin_memcpy(&a, bytes.data(), 8);
    return a != 0;
  }
  std::string ToHex() const;
  void ToHex(char out[16]) const;
  static std::optional<SpanId> FromHex(std::string_view hex, bool allow_upper = false);

  friend bool operator==(const SpanId&, const SpanId&) = default;
};

// W3C trace-flags bit 0.
inline constexpr uint8_t kTraceFlagSampled = 0x01;

// The W3C `tracestate` header value, kept verbatim (already validated by the propagator). Copies
// share the string.
class TraceState {
 public:
  TraceState() = default;
  explicit TraceState(std::string header);

  bool empty() const { return header_ == nullptr || header_->empty(); }
  std::string_view header() const {
    return header_ ? std::string_view(*header_) : std::string_view();
  }
  // Value of `key`, or empty.
  std::string_view Get(std::string_view key) const;

  friend bool operator==(const TraceState& a, const TraceState& b) {
    return a.header() == b.header();
  }

 private:
  std::shared_ptr<const std::string> header_;
};

// Identity of one span as seen by its children and by other processes.
struct SpanContext {
  TraceId trace_id;
  SpanId span_id;
  uint8_t trace_flags = 0;
  // True when the context came from another process through a propagator.
  bool is_remote = false;
  TraceState trace_state;

  bool IsValid() const { return trace_id.IsValid() && span_id.IsValid(); }
  bool IsSampled() const { return (trace_flags & kTraceFlagSampled) != 0; }
};

}  // namespace ariadne::sdk
