#include "common/json_writer.h"

#include <cmath>
#include <cstdio>

namespace ariadne {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void JsonWriter::Double(double value) {
  Separate();
  if (!std::isfinite(value)) {
    out_->append("null");
    return;
  }
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", value);
  // Prefer the shortest form that reads back to the same double.
  for (int precision = 6; precision < 17; ++precision) {
    char shorter[32];
    int m = std::snprintf(shorter, sizeof(shorter), "%.*g", precision, value);
    if (std::strtod(shorter, nullptr) == value) {
      out_->append(shorter, static_cast<size_t>(m));
      return;
    }
  }
  out_->append(buf, static_cast<size_t>(n));
}

void JsonWriter::AppendString(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      size_t run = i;
      while (run < s.size()) {
        const unsigned char d = static_cast<unsigned char>(s[run]);
        if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
        ++run;
      }
      out_->append(s.data() + i, run - i);
      i = run;
      continue;
    }
    switch (c) {
      case '"':
        out_->append("\\\"");
        ++i;
        continue;
      case '\\':
        out_->append("\\\\");
        ++i;
        continue;
      case '\n':
        out_->append("\\n");
        ++i;
        continue;
      case '\r':
        out_->append("\\r");
        ++i;
        continue;
      case '\t':
        out_->append("\\t");
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out_->append("\\u00");
      out_->push_back(kHex[c >> 4]);
      out_->push_back(kHex[c & 0xF]);
      ++i;
      continue;
    }
    const size_t n = Utf8Length(s, i);
    if (n == 0) {
      out_->append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not valid UTF-8
      ++i;
    } else {
      out_->append(s.data() + i, n);
      i += n;
    }
  }
  out_->push_back('"');
}

}  // namespace ariadne
