#include "receivers/otlp/otlp_internal.h"

#include <charconv>
#include <cmath>

namespace ariadne::receivers::otlp::internal {
namespace {

bool AllZero(std::string_view bytes) {
  for (char c : bytes)
    if (c != 0) return false;
  return true;
}

constexpr char kBase64Digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool CheckSpanIds(std::string_view trace_id, std::string_view span_id,
                  std::string_view parent_span_id, std::string* reason) {
  if (trace_id.size() != model::TraceId::kSize) {
    *reason = "trace id must be 16 bytes, got " + std::to_string(trace_id.size());
    return false;
  }
  if (AllZero(trace_id)) {
    *reason = "trace id is all zeros";
    return false;
  }
  if (span_id.size() != model::SpanId::kSize) {
    *reason = "span id must be 8 bytes, got " + std::to_string(span_id.size());
    return false;
  }
  if (AllZero(span_id)) {
    *reason = "span id is all zeros";
    return false;
  }
  if (!parent_span_id.empty() && parent_span_id.size() != model::SpanId::kSize) {
    *reason =
        "parent span id must be empty or 8 bytes, got " + std::to_string(parent_span_id.size());
    return false;
  }
  return true;
}

void RejectionLog::Add(uint64_t span_ordinal, std::string_view reason) {
  ++count_;
  if (reasons_.size() < kMaxRejectionReasons) {
    std::string text = "span #" + std::to_string(span_ordinal) + ": ";
    text.append(reason);
    reasons_.push_back(std::move(text));
  }
}

std::string RejectionLog::Message() const {
  if (count_ == 0) return "";
  std::string out = std::to_string(count_) + (count_ == 1 ? " span" : " spans") + " rejected: ";
  for (size_t i = 0; i < reasons_.size(); ++i) {
    if (i > 0) out += "; ";
    out += reasons_[i];
  }
  if (count_ > reasons_.size()) {
    out += "; and " + std::to_string(count_ - reasons_.size()) + " more";
  }
  return out;
}

void AppendJsonInt(std::string& out, int64_t value) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, res.ptr);
}

void AppendJsonUint(std::string& out, uint64_t value) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, res.ptr);
}

void AppendJsonDouble(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "\"NaN\"";
  } else if (std::isinf(value)) {
    out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[40];
    auto res = std::to_chars(buf, buf + sizeof(buf), value);
    out.append(buf, res.ptr);
  }
}

void AppendJsonBytes(std::string& out, std::string_view bytes) {
  out.push_back('"');
  AppendBase64(out, bytes);
  out.push_back('"');
}

void AppendBase64(std::string& out, std::string_view bytes) {
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out.push_back(kBase64Digits[v >> 18]);
    out.push_back(kBase64Digits[(v >> 12) & 63]);
    out.push_back(kBase64Digits[(v >> 6) & 63]);
    out.push_back(kBase64Digits[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = at(i) << 16;
    out.push_back(kBase64Digits[v >> 18]);
    out.push_back(kBase64Digits[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8;
    out.push_back(kBase64Digits[v >> 18]);
    out.push_back(kBase64Digits[(v >> 12) & 63]);
    out.push_back(kBase64Digits[(v >> 6) & 63]);
    out.push_back('=');
  }
}

bool DecodeBase64(std::string_view text, std::string& out) {
  out.clear();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return false;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = Base64Value(c);
    if (v < 0) return false;
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

bool DecodeHex(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 2 != 0) return false;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<uint8_t>(c);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

}  // namespace ariadne::receivers::otlp::internal
