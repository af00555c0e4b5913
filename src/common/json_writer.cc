#include "common/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/utf8.h"

namespace ariadne {

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

void JsonWriter::Float(double value) {
  Separate();
  if (!std::isfinite(value)) {
    out_->append("null");
    return;
  }
  char buf[64];
  char* p = buf;
  if (std::signbit(value)) {
    *p++ = '-';
    value = -value;
  }
  if (value == 0) {
    std::memcpy(p, "0.0", 3);
    out_->append(buf, static_cast<size_t>(p + 3 - buf));
    return;
  }
  // The shortest round-trip digits d[0..k) and the decimal exponent: value = 0.d × 10^n.
  char sci[40];
  const std::to_chars_result r =
      std::to_chars(sci, sci + sizeof(sci), value, std::chars_format::scientific);
  const char* const sci_end = r.ptr;
  const char* e =
      static_cast<const char*>(std::memchr(sci, 'e', static_cast<size_t>(sci_end - sci)));
  char digits[24];
  int k = 0;
  for (const char* q = sci; q < e; ++q)
    if (*q != '.') digits[k++] = *q;
  int exponent = 0;
  std::from_chars(e + (e[1] == '+' ? 2 : 1), sci_end, exponent);
  const int n = exponent + 1;
  constexpr int kMinExp = -4, kMaxExp = 15;  // as nlohmann's to_chars
  if (k <= n && n <= kMaxExp) {              // digits[000].0
    std::memcpy(p, digits, static_cast<size_t>(k));
    std::memset(p + k, '0', static_cast<size_t>(n - k));
    p += n;
    *p++ = '.';
    *p++ = '0';
  } else if (0 < n && n <= kMaxExp) {  // dig.its
    std::memcpy(p, digits, static_cast<size_t>(n));
    p += n;
    *p++ = '.';
    std::memcpy(p, digits + n, static_cast<size_t>(k - n));
    p += k - n;
  } else if (kMinExp < n && n <= 0) {  // 0.[000]digits
    *p++ = '0';
    *p++ = '.';
    std::memset(p, '0', static_cast<size_t>(-n));
    p += -n;
    std::memcpy(p, digits, static_cast<size_t>(k));
    p += k;
  } else {  // d[.igits]e±XX
    *p++ = digits[0];
    if (k > 1) {
      *p++ = '.';
      std::memcpy(p, digits + 1, static_cast<size_t>(k - 1));
      p += k - 1;
    }
    int x = n - 1;
    *p++ = 'e';
    *p++ = x < 0 ? '-' : '+';
    if (x < 0) x = -x;
    if (x >= 100) *p++ = static_cast<char>('0' + x / 100);
    *p++ = static_cast<char>('0' + x / 10 % 10);
    *p++ = static_cast<char>('0' + x % 10);
  }
  out_->append(buf, static_cast<size_t>(p - buf));
}

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    // Copy runs of plain printable ASCII in one go.
    size_t run = i;
    while (run < text.size()) {
      auto c = static_cast<uint8_t>(text[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    out.append(text.data() + i, run - i);
    i = run;
    if (i == text.size()) break;
    auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x80) {
      utf8::Step step = utf8::DecodeStep(text, i);
      if (step.valid) {
        out.append(text.data() + i, step.length);
      } else {
        out += "\\ufffd";
      }
      i += step.length;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
    ++i;
  }
  out.push_back('"');
}

void JsonWriter::Raw(std::string_view json) {
  Separate();
  if (utf8::IsValid(json)) {
    out_->append(json);
  } else {
    utf8::AppendRepaired(json, out_);
  }
}

void JsonWriter::AppendString(std::string_view s) { AppendJsonString(*out_, s); }

}  // namespace ariadne
