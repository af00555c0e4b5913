// Small helpers shared by the parts of `ariadne doctor` (src/cli/doctor/): findings and their
// levels, environment reads, string and URL helpers, key masking. No I/O besides getenv.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ariadne::cli::doctor {

enum class Level { kOk, kInfo, kWarn, kFail };

std::string_view LevelName(Level level);  // "ok", "info", "warn", "fail"
std::string_view LevelMark(Level level);  // ✓ · ! ✗

// One line of the report.
struct Finding {
  std::string id;  // stable, for --json consumers and tests: "otlp.endpoint.double_path"
  Level level;
  std::string title;
  std::string detail;
  std::string fix;
};

// One environment variable as read, with what it means for an app.
struct EnvEntry {
  std::string name;
  std::optional<std::string> value;
  std::string meaning;
  bool secret = false;
};

std::optional<std::string> GetEnv(const char* name);
// The variable trimmed; "" when unset.
std::string Value(const char* name);
bool IsSet(const char* name);

std::string Trim(std::string_view s);
std::string Lower(std::string s);
bool EndsWith(std::string_view s, std::string_view suffix);
std::vector<std::string> Split(const std::string& s, char sep);
// `url` with its port replaced (or added).
std::string ReplacePort(const std::string& url, int port);

// A key shown in output: enough to recognise it, not enough to use it.
std::string Mask(std::string_view secret);
// Header lists and keys with their values masked.
std::string MaskHeaders(const std::string& value);
// The "error" of a JSON error body, else the start of the body.
std::string ErrorText(const std::string& body);

// `bytes` random bytes as lowercase hex, never all zero.
std::string RandomHex(std::mt19937_64& rng, size_t bytes);
std::string HexToBytes(std::string_view hex);

}  // namespace ariadne::cli::doctor
