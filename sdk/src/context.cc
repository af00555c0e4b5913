#include "ariadne/sdk/context.h"

#include <cstring>

#include "internal/hex.h"

namespace ariadne::sdk {

void TraceId::ToHex(char out[32]) const { internal::EncodeHex(bytes.data(), 16, out); }

std::string TraceId::ToHex() const {
  std::string s(32, '0');
  ToHex(s.data());
  return s;
}

std::string TraceId::ToXRay() const {
  char hex[32];
  ToHex(hex);
  std::string s = "1-";
  s.append(hex, 8);
  s.push_back('-');
  s.append(hex + 8, 24);
  return s;
}

std::optional<TraceId> TraceId::FromHex(std::string_view hex, bool allow_upper) {
  if (hex.size() != 32) return std::nullopt;
  TraceId id;
  if (!internal::DecodeHex(hex, id.bytes.data(), allow_upper)) return std::nullopt;
  return id;
}

std::optional<TraceId> TraceId::FromXRay(std::string_view text) {
  // 1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy
  if (text.size() != 35 || text[0] != '1' || text[1] != '-' || text[10] != '-') {
    return std::nullopt;
  }
  TraceId id;
  if (!internal::DecodeHex(text.substr(2, 8), id.bytes.data(), true)) return std::nullopt;
  if (!internal::DecodeHex(text.substr(11, 24), id.bytes.data() + 4, true)) return std::nullopt;
  return id;
}

void SpanId::ToHex(char out[16]) const { internal::EncodeHex(bytes.data(), 8, out); }

std::string SpanId::ToHex() const {
  std::string s(16, '0');
  ToHex(s.data());
  return s;
}

std::optional<SpanId> SpanId::FromHex(std::string_view hex, bool allow_upper) {
  if (hex.size() != 16) return std::nullopt;
  SpanId id;
  if (!internal::DecodeHex(hex, id.bytes.data(), allow_upper)) return std::nullopt;
  return id;
}

TraceState::TraceState(std::string header) {
  if (!header.empty()) header_ = std::make_shared<const std::string>(std::move(header));
}

std::string_view TraceState::Get(std::string_view key) const {
  std::string_view rest = header();
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view member = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!member.empty() && (member.front() == ' ' || member.front() == '\t')) {
      member.remove_prefix(1);
    }
    size_t eq = member.find('=');
    if (eq != std::string_view::npos && member.substr(0, eq) == key) {
      std::string_view value = member.substr(eq + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      return value;
    }
  }
  return {};
}

}  // namespace ariadne::sdk
