// Hex encoding helpers shared by the SDK's sources (not installed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ariadne::sdk::internal {

inline void EncodeHex(const uint8_t* bytes, size_t n, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xF];
  }
}

inline int HexValue(char c, bool allow_upper) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (allow_upper && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes hex.size()/2 bytes; false on an odd length or a non-hex character.
inline bool DecodeHex(std::string_view hex, uint8_t* out, bool allow_upper) {
  if (hex.size() % 2 != 0) return false;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i], allow_upper);
    int lo = HexValue(hex[i + 1], allow_upper);
    if (hi < 0 || lo < 0) return false;
    out[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace ariadne::sdk::internal
