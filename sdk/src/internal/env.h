// Environment and small string helpers shared by the SDK's sources (not installed).
#pragma once

#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>

namespace ariadne::sdk::internal {

// The variable's value, or empty when unset.
inline std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

inline char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// Parses a non-negative integer; `fallback` when empty or malformed.
inline long long ParseInt(std::string_view s, long long fallback) {
  s = Trim(s);
  if (s.empty()) return fallback;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return fallback;
    v = v * 10 + (c - '0');
    if (v > (1LL << 50)) return fallback;
  }
  return v;
}

inline long long EnvInt(const char* name, long long fallback) {
  return ParseInt(GetEnv(name), fallback);
}

}  // namespace ariadne::sdk::internal
