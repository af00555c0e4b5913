// Byte-level encoding helpers for the embedded store's on-disk formats (WAL records, block files):
// little-endian fixed-width integers, LEB128 varints, zigzag, length-prefixed strings, and integer
// columns (frame of reference plus byte planes, block format version 3).
//
// ByteReader never reads past its buffer: every Get* returns false once the input is exhausted or
// malformed, and the reader stays failed, so a decoder can check once at the end of a section.
//
// Threads: plain values; no shared state.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ariadne::columnar {

inline void PutFixed32(std::string* out, uint32_t v) {
  char buf[4];
  std::memcpy(buf, &v, 4);  // the store only runs on little-endian hosts (x86-64, arm64)
  out->append(buf, 4);
}
inline void PutFixed64(std::string* out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out->append(buf, 8);
}
inline void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}
inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}
inline void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s.data(), s.size());
}
inline void PutDouble(std::string* out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  PutFixed64(out, bits);
}

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  bool ok() const { return ok_; }
  bool empty() const { return pos_ >= data_.size(); }
  size_t position() const { return pos_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }

  bool GetFixed32(uint32_t* v) {
    if (!Need(4)) return false;
    *v = DecodeFixed32(data_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool GetFixed64(uint64_t* v) {
    if (!Need(8)) return false;
    *v = DecodeFixed64(data_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool GetDouble(double* d) {
    uint64_t bits;
    if (!GetFixed64(&bits)) return false;
    std::memcpy(d, &bits, 8);
    return true;
  }
  bool GetVarint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (!Need(1)) return false;
      uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
      result |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return Fail();
  }
  bool GetVarint32(uint32_t* v) {
    uint64_t wide;
    if (!GetVarint(&wide) || wide > UINT32_MAX) return Fail();
    *v = static_cast<uint32_t>(wide);
    return true;
  }
  bool GetByte(uint8_t* v) {
    if (!Need(1)) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool GetBytes(size_t n, std::string_view* out) {
    if (!Need(n)) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool GetString(std::string_view* out) {
    uint64_t n;
    if (!GetVarint(&n)) return false;
    return GetBytes(n, out);
  }
  bool Fail() {
    ok_ = false;
    return false;
  }

 private:
  bool Need(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) return Fail();
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Integer column of `n` values (n is known to the reader): zigzag varint base (the smallest value,
// compared as int64), u8 width w (bits of largest − smallest), then each value minus the base:
// first ⌊w/8⌋ byte planes (byte 0 of every value, then byte 1 of every value, …), then the
// w mod 8 bits above them bit-packed, least significant bit first, when that is 1, 2 or 4 bits
// (8, 4 or 2 values a byte); 3, 5, 6 or 7 bits make one more byte plane instead. A column of equal
// values takes two bytes; like bytes of different rows sit together, which zstd compresses far
// better than interleaved varints (random low bytes apart from the skewed high ones). Planes and
// packed bits of a column of `width` bits: packed bits only when they fill whole bytes with whole
// values (1, 2 or 4 bits); 3, 5, 6 or 7 bits above the full planes take a plane of their own, which
// zstd's Huffman coding of bytes handles better than values split across bytes.
inline void IntColumnLayout(int width, int* full, int* rest) {
  *full = width / 8;
  *rest = width % 8;
  if (*rest != 0 && *rest != 1 && *rest != 2 && *rest != 4) {
    ++*full;
    *rest = 0;
  }
}

template <typename T>
void PutIntColumn(std::string* out, const T* values, size_t n) {
  static_assert(std::is_integral_v<T>);
  int64_t lo = 0, hi = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t v = static_cast<int64_t>(values[i]);
    if (i == 0 || v < lo) lo = v;
    if (i == 0 || v > hi) hi = v;
  }
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  const int width = range == 0 ? 0 : 64 - __builtin_clzll(range);
  PutVarint(out, ZigZag(lo));
  out->push_back(static_cast<char>(width));
  int full, rest;
  IntColumnLayout(width, &full, &rest);
  const size_t pos = out->size();
  out->resize(pos + static_cast<size_t>(full) * n + (static_cast<size_t>(rest) * n + 7) / 8, '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(out->data() + pos);
  const uint64_t base = static_cast<uint64_t>(lo);
  for (int b = 0; b < full; ++b)
    for (size_t i = 0; i < n; ++i)
      p[static_cast<size_t>(b) * n + i] = static_cast<uint8_t>(
          (static_cast<uint64_t>(static_cast<int64_t>(values[i])) - base) >> (8 * b));
  if (rest == 0) return;
  uint8_t* q = p + static_cast<size_t>(full) * n;
  size_t bit = 0;
  for (size_t i = 0; i < n; ++i, bit += rest) {
    const uint64_t d =
        ((static_cast<uint64_t>(static_cast<int64_t>(values[i])) - base) >> (8 * full)) &
        ((1u << rest) - 1);
    q[bit / 8] = static_cast<uint8_t>(q[bit / 8] | (d << (bit % 8)));
    if (bit % 8 + rest > 8) q[bit / 8 + 1] = static_cast<uint8_t>(d >> (8 - bit % 8));
  }
}
template <typename T>
void PutIntColumn(std::string* out, const std::vector<T>& values) {
  PutIntColumn(out, values.data(), values.size());
}

// Reads an integer column of `n` values into `out` (resized to n). Fails (and fails `in`) on
// truncated input or a value that does not fit T.
template <typename T>
bool GetIntColumn(ByteReader* in, size_t n, std::vector<T>* out) {
  static_assert(std::is_integral_v<T>);
  uint64_t z;
  uint8_t width;
  if (!in->GetVarint(&z) || !in->GetByte(&width) || width > 64) return in->Fail();
  int full, rest;
  IntColumnLayout(width, &full, &rest);
  if (n > in->remaining() * 8 + 8 && width > 0) return in->Fail();  // cannot be that long
  std::string_view bytes;
  if (!in->GetBytes(static_cast<size_t>(full) * n + (static_cast<size_t>(rest) * n + 7) / 8,
                    &bytes))
    return false;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes.data());
  std::vector<uint64_t> wide(n, 0);
  for (int b = 0; b < full; ++b)
    for (size_t i = 0; i < n; ++i)
      wide[i] |= static_cast<uint64_t>(p[static_cast<size_t>(b) * n + i]) << (8 * b);
  if (rest != 0) {
    const uint8_t* q = p + static_cast<size_t>(full) * n;
    size_t bit = 0;
    for (size_t i = 0; i < n; ++i, bit += rest) {
      uint64_t d = q[bit / 8] >> (bit % 8);
      if (bit % 8 + rest > 8) d |= static_cast<uint64_t>(q[bit / 8 + 1]) << (8 - bit % 8);
      wide[i] |= (d & ((1u << rest) - 1)) << (8 * full);
    }
  }
  const uint64_t base = static_cast<uint64_t>(UnZigZag(z));
  out->resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t v = base + wide[i];
    if constexpr (std::is_unsigned_v<T> && sizeof(T) < 8) {
      if (v > std::numeric_limits<T>::max()) return in->Fail();
    }
    (*out)[i] = static_cast<T>(v);
  }
  return true;
}

}  // namespace ariadne::columnar
