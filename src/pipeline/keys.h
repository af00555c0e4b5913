// KeyRegistry: ingest keys and the environment each one names.
//
// Keys live in a JSON file, by default `<data-dir>/keys.json`:
//   {"keys": [{"key": "aik_3f…", "environment": "prod", "created_unix": 1764000000}]}
// `ariadne keys create --env NAME` appends a fresh random key (CreateKey). A client sends its key
// as `x-honeycomb-team: KEY` (what Honeycomb's SDKs and OTEL_EXPORTER_OTLP_HEADERS do) or as
// `Authorization: Bearer KEY`.
//
// With no key configured the server is open: every request goes to environment `default` (the
// server prints a warning at start). With keys configured a missing key or an unknown key is
// kUnauthenticated (HTTP 401), with Honeycomb's wording.
//
// Threads: a loaded registry is immutable; Authenticate may be called concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace ariadne::pipeline {

inline constexpr std::string_view kDefaultEnvironment = "default";

struct KeyEntry {
  std::string key;
  std::string environment;
  int64_t created_unix = 0;
};

class KeyRegistry {
 public:
  KeyRegistry() = default;

  // Reads `path`. A missing file is an empty registry; a malformed one is kInvalidArgument with
  // the file name in the message.
  static Result<KeyRegistry> LoadFile(const std::string& path);

  // Adds the keys of `other` (later files may add keys; a duplicate key must agree on the
  // environment, else kInvalidArgument).
  Status Merge(const KeyRegistry& other);
  Status Add(KeyEntry entry);

  bool empty() const { return entries_.empty(); }
  const std::vector<KeyEntry>& entries() const { return entries_; }

  // Resolves a request's credentials to an environment. `honeycomb_team` is the value of the
  // x-honeycomb-team header, `authorization` of the Authorization header (either may be absent).
  Result<std::string> Authenticate(std::optional<std::string_view> honeycomb_team,
                                   std::optional<std::string_view> authorization) const;

 private:
  std::vector<KeyEntry> entries_;
  std::unordered_map<std::string, std::string> environment_by_key_;
};

// A new random ingest key: "aik_" followed by 32 lowercase hex digits (128 bits from the OS).
std::string GenerateKey();

// Environment names: 1–64 characters from [A-Za-z0-9._-].
Status ValidateEnvironmentName(std::string_view name);

// Appends a new key for `environment` to the file at `path` (created with mode 0600 if missing;
// replaced atomically) and returns the key.
Result<std::string> CreateKey(const std::string& path, const std::string& environment);

// Writes `registry` to `path` atomically (temp file + rename).
Status SaveFile(const std::string& path, const KeyRegistry& registry);

}  // namespace ariadne::pipeline
