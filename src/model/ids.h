// Trace and span identifiers: fixed-size byte arrays with hex conversion.
//
// A TraceId is 16 bytes (W3C / OTLP); X-Ray's "1-XXXXXXXX-YYYYYYYYYYYYYYYYYYYYYYYY" form maps onto
// the same 16 bytes (see ParseXrayTraceId). A SpanId is 8 bytes. All-zero ids are invalid on the
// wire; a zero parent id means "root span".
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace ariadne::model {

template <size_t N>
struct FixedId {
  std::array<uint8_t, N> bytes{};

  static constexpr size_t kSize = N;

  bool IsZero() const {
    for (uint8_t b : bytes)
      if (b != 0) return false;
    return true;
  }
  bool operator==(const FixedId& other) const = default;
  bool operator<(const FixedId& other) const {
    return std::memcmp(bytes.data(), other.bytes.data(), N) < 0;
  }

  // Lowercase hex, 2*N characters.
  std::string ToHex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(2 * N, '0');
    for (size_t i = 0; i < N; ++i) {
      out[2 * i] = kDigits[bytes[i] >> 4];
      out[2 * i + 1] = kDigits[bytes[i] & 0xF];
    }
    return out;
  }

  // Accepts exactly 2*N hex digits, either case. Returns nullopt otherwise.
  static std::optional<FixedId> FromHex(std::string_view hex) {
    if (hex.size() != 2 * N) return std::nullopt;
    FixedId id;
    for (size_t i = 0; i < N; ++i) {
      int hi = HexValue(hex[2 * i]);
      int lo = HexValue(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      id.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return id;
  }

  // Raw bytes; returns nullopt unless `raw` has exactly N bytes.
  static std::optional<FixedId> FromBytes(std::string_view raw) {
    if (raw.size() != N) return std::nullopt;
    FixedId id;
    std::memcpy(id.bytes.data(), raw.data(), N);
    return id;
  }

  std::string_view AsStringView() const {
    return std::string_view(reinterpret_cast<const char*>(bytes.data()), N);
  }

 private:
  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
};

using TraceId = FixedId<16>;
using SpanId = FixedId<8>;

// "1-5759e988-bd862e3fe1be46a994272793" <-> 16 bytes (X-Ray's epoch + random, concatenated).
std::optional<TraceId> ParseXrayTraceId(std::string_view text);
std::string FormatXrayTraceId(const TraceId& id);

// Accepts the 32-hex form or the X-Ray form.
std::optional<TraceId> ParseAnyTraceId(std::string_view text);

struct TraceIdHash {
  size_t operator()(const TraceId& id) const {
    uint64_t a, b;
    std::memcpy(&a, id.bytes.data(), 8);
    std::memcpy(&b, id.bytes.data() + 8, 8);
    return static_cast<size_t>(a * 0x9E3779B97F4A7C15ULL ^ b);
  }
};

}  // namespace ariadne::model
