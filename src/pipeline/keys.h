// KeyRegistry: the server's API keys, each with a role and an optional environment.
//
// Roles:
//   ingest  sends spans (OTLP/HTTP) into its environment (required for ingest keys)
//   read    reads traces, services, queries, … through the API, the CLI and the UI; with an
//           environment only that environment, without one every environment
//   admin   everything read does, plus changes: X-Ray groups and sampling rules from the UI/API
// A client sends its key as `x-honeycomb-team: KEY` (ingest only, what Honeycomb's SDKs and
// OTEL_EXPORTER_OTLP_HEADERS do) or as `Authorization: Bearer KEY`.
//
// Keys live in a JSON file, by default `<data-dir>/keys.json` (mode 0600), never in plain text:
//   {"format": 2, "salt": "<64 hex>",
//    "keys": [{"id": "…", "prefix": "aik_3f2a9b1c", "hash": "<64 hex>", "role": "ingest",
//              "environment": "prod", "created_unix": 1764000000}]}
// `hash` is HMAC-SHA256(salt, key) with the file's random 256-bit salt; `prefix` is the first
// characters of the key, shown by `keys list` so people can tell keys apart; `id` is the first 10
// hex digits of the hash. An older file holding `"key": "<plain text>"` entries is converted on
// load (LoadFileMigrating rewrites it). A key is shown only once, when it is created.
//
// With no key configured the server is open: every request goes to environment `default` (the
// server prints a warning at start). With keys configured a missing or unknown key is
// kUnauthenticated (HTTP 401), with Honeycomb's wording.
//
// Threads: a loaded registry is immutable; Authenticate and Lookup may be called concurrently.
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

enum class KeyRole { kIngest, kRead, kAdmin };
std::string_view KeyRoleName(KeyRole role);
std::optional<KeyRole> ParseKeyRole(std::string_view name);

struct KeyEntry {
  std::string key;  // plain text: only set when adding a new key (hashed by Add, never stored)
  std::string environment;  // "" = every environment (read and admin keys only)
  int64_t created_unix = 0;
  KeyRole role = KeyRole::kIngest;
  // Filled by Add / LoadFile:
  std::string id;      // first 10 hex digits of the hash
  std::string prefix;  // first characters of the key, for people
  std::string hash;    // hex HMAC-SHA256(salt, key)
  std::string salt;    // hex salt of the file the entry came from
};

// Who a key belongs to.
struct Principal {
  KeyRole role = KeyRole::kAdmin;
  std::string environment;  // "" = every environment
  std::string id;           // the key's id ("" when the server is open)
  bool CanRead() const { return role == KeyRole::kRead || role == KeyRole::kAdmin; }
  bool CanAdmin() const { return role == KeyRole::kAdmin; }
  // True when the principal may see or change `environment`.
  bool Covers(std::string_view env) const { return environment.empty() || environment == env; }
};

class KeyRegistry {
 public:
  KeyRegistry();  // empty, with a fresh random salt

  // Reads `path`. A missing file is an empty registry; a malformed one is kInvalidArgument with
  // the file name in the message. Plain-text entries of the old format are hashed in memory and
  // `*had_plain_text` (when given) is set.
  static Result<KeyRegistry> LoadFile(const std::string& path, bool* had_plain_text = nullptr);
  // LoadFile, and when the file held plain-text keys, rewrites it hashed (mode 0600).
  static Result<KeyRegistry> LoadFileMigrating(const std::string& path);

  // Adds the keys of `other` (a key already present with the same salt must agree on role and
  // environment, else kInvalidArgument).
  Status Merge(const KeyRegistry& other);
  // Adds `entry`: with `key` set it is hashed with this registry's salt; otherwise `hash` and
  // `salt` must be set.
  Status Add(KeyEntry entry);
  // Removes the keys whose id or prefix is `id_or_prefix` (or whose key it is). kNotFound when
  // none matches, kInvalidArgument when it matches more than one.
  Result<KeyEntry> Revoke(std::string_view id_or_prefix);

  bool empty() const { return entries_.empty(); }
  const std::vector<KeyEntry>& entries() const { return entries_; }
  const std::string& salt() const { return salt_; }

  // The principal a key belongs to; kUnauthenticated for an unknown key.
  Result<Principal> Lookup(std::string_view key) const;

  // Resolves an ingest request's credentials to an environment. `honeycomb_team` is the value of
  // the x-honeycomb-team header, `authorization` of the Authorization header (either may be
  // absent). A read or admin key is kUnauthenticated here (ingest needs an ingest key).
  Result<std::string> Authenticate(std::optional<std::string_view> honeycomb_team,
                                   std::optional<std::string_view> authorization) const;

 private:
  void Reindex();

  std::string salt_;  // hex
  std::vector<KeyEntry> entries_;
  std::unordered_map<std::string, size_t> index_by_hash_;  // salt + ":" + hash → entry
};

// The token of `Authorization: Bearer TOKEN` (case-insensitive scheme), or "".
std::string_view BearerToken(std::optional<std::string_view> authorization);

// A new random key: "aik_" (ingest), "ark_" (read) or "aak_" (admin) followed by 32 lowercase hex
// digits (128 bits from the OS).
std::string GenerateKey(KeyRole role = KeyRole::kIngest);

// Environment names: 1–64 characters from [A-Za-z0-9._-].
Status ValidateEnvironmentName(std::string_view name);

// Appends a new key to the file at `path` (created with mode 0600 if missing; replaced
// atomically) and returns the key. Ingest keys need an environment; read and admin keys may
// leave it empty (every environment).
Result<std::string> CreateKey(const std::string& path, KeyRole role,
                              const std::string& environment);
Result<std::string> CreateKey(const std::string& path, const std::string& environment);

// Removes a key from the file (see KeyRegistry::Revoke) and returns what was removed.
Result<KeyEntry> RevokeKey(const std::string& path, std::string_view id_or_prefix);

// Writes `registry` to `path` atomically (temp file + rename), mode 0600, hashes only.
Status SaveFile(const std::string& path, const KeyRegistry& registry);

}  // namespace ariadne::pipeline
