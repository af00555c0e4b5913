#include "cli/doctor/doctor_util.h"

#include <cctype>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace ariadne::cli::doctor {

using Json = nlohmann::json;

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kOk:
      return "ok";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kFail:
      return "fail";
  }
  return "info";
}

std::string_view LevelMark(Level level) {
  switch (level) {
    case Level::kOk:
      return "\u2713";  // ✓
    case Level::kInfo:
      return "\u00b7";  // ·
    case Level::kWarn:
      return "!";
    case Level::kFail:
      return "\u2717";  // ✗
  }
  return " ";
}

std::optional<std::string> GetEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A key shown in output: enough to recognise it, not enough to use it.
std::string Mask(std::string_view secret) {
  if (secret.empty()) return "(empty)";
  if (secret.size() <= 8) return std::string(secret.substr(0, 2)) + "\u2026";
  return std::string(secret.substr(0, 6)) + "\u2026 (" + std::to_string(secret.size()) +
         " characters)";
}

std::string RandomHex(std::mt19937_64& rng, size_t bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  while (out.size() < bytes * 2) {
    uint64_t word = rng();
    for (int i = 0; i < 16 && out.size() < bytes * 2; ++i) {
      out += kDigits[word & 0xf];
      word >>= 4;
    }
  }
  if (out.find_first_not_of('0') == std::string::npos) out.back() = '1';  // all-zero is invalid
  return out;
}

std::string HexToBytes(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

std::string Value(const char* name) {
  auto v = GetEnv(name);
  return v ? Trim(*v) : std::string();
}

bool IsSet(const char* name) { return !Value(name).empty(); }

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string ReplacePort(const std::string& url, int port) {
  size_t host_start = url.find("://");
  host_start = host_start == std::string::npos ? 0 : host_start + 3;
  size_t path = url.find('/', host_start);
  std::string authority =
      url.substr(host_start, path == std::string::npos ? path : path - host_start);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos) authority = authority.substr(0, colon);
  return url.substr(0, host_start) + authority + ":" + std::to_string(port) +
         (path == std::string::npos ? "" : url.substr(path));
}

// Header lists and keys with their values masked.
std::string MaskHeaders(const std::string& value) {
  if (value.find('=') == std::string::npos) return Mask(value);
  std::string out;
  for (const std::string& member : Split(value, ',')) {
    if (!out.empty()) out += ",";
    size_t eq = member.find('=');
    if (eq == std::string::npos) {
      out += member;
      continue;
    }
    const std::string key = Lower(Trim(member.substr(0, eq)));
    const std::string v = Trim(member.substr(eq + 1));
    out += member.substr(0, eq + 1);
    out += (key == "x-honeycomb-team" || key == "authorization") ? (v.empty() ? "" : Mask(v)) : v;
  }
  return out;
}

// The "error" of a JSON error body, else the body.
std::string ErrorText(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    return j["error"].get<std::string>();
  }
  return body.substr(0, 300);
}
}  // namespace ariadne::cli::doctor
