#include "pipeline/keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/json_dump.h"

namespace ariadne::pipeline {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xF]);
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(bytes)) != 1) {
    std::random_device device;  // /dev/urandom on Linux
    for (auto& b : buffer) b = static_cast<unsigned char>(device());
  }
  return Hex(buffer.data(), buffer.size());
}

// hex HMAC-SHA256(salt, key).
std::string KeyHash(std::string_view salt_hex, std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), salt_hex.data(), static_cast<int>(salt_hex.size()),
       reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest, &length);
  return Hex(digest, length);
}

// What `keys list` shows of a key: generated keys ("aik_" + 32 hex) show 12 characters (the role
// tag and 32 of their 128 random bits); other (older, hand-made) keys at most a third of theirs.
std::string KeyPrefix(std::string_view key) {
  size_t length = key.size() == 36 && key[3] == '_' ? 12 : std::min<size_t>(8, key.size() / 3);
  return std::string(key.substr(0, length));
}

bool IsHex(std::string_view s, size_t size) {
  if (s.size() != size) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string_view KeyRoleName(KeyRole role) {
  switch (role) {
    case KeyRole::kIngest:
      return "ingest";
    case KeyRole::kRead:
      return "read";
    case KeyRole::kAdmin:
      return "admin";
  }
  return "ingest";
}

std::optional<KeyRole> ParseKeyRole(std::string_view name) {
  if (name == "ingest") return KeyRole::kIngest;
  if (name == "read") return KeyRole::kRead;
  if (name == "admin") return KeyRole::kAdmin;
  return std::nullopt;
}

KeyRegistry::KeyRegistry() : salt_(RandomHex(32)) {}

Result<KeyRegistry> KeyRegistry::LoadFile(const std::string& path, bool* had_plain_text) {
  if (had_plain_text != nullptr) *had_plain_text = false;
  KeyRegistry registry;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return registry;
    return Status::Unavailable("cannot read keys file " + path + ": " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument("keys file " + path +
                                   " is not valid JSON; expected {\"keys\": [...]} (recreate it "
                                   "with `ariadne keys create`)");
  }
  if (doc.contains("salt")) {
    if (!doc["salt"].is_string() || doc["salt"].get<std::string>().size() < 32) {
      return Status::InvalidArgument("keys file " + path + ": \"salt\" must be a hex string");
    }
    registry.salt_ = doc["salt"].get<std::string>();
  }
  auto keys = doc.find("keys");
  if (keys == doc.end()) return registry;
  if (!keys->is_array()) {
    return Status::InvalidArgument("keys file " + path + ": \"keys\" must be an array");
  }
  size_t index = 0;
  for (const auto& item : *keys) {
    auto where = [&] { return "keys file " + path + ": entry " + std::to_string(index); };
    if (!item.is_object()) return Status::InvalidArgument(where() + " must be an object");
    KeyEntry entry;
    if (item.contains("key")) {
      // The old format: the key itself in plain text.
      if (!item["key"].is_string()) {
        return Status::InvalidArgument(where() + ": \"key\" must be a string");
      }
      entry.key = item["key"].get<std::string>();
      if (had_plain_text != nullptr) *had_plain_text = true;
    } else {
      if (!item.contains("hash") || !item["hash"].is_string() ||
          !IsHex(item["hash"].get<std::string>(), 64)) {
        return Status::InvalidArgument(where() + " needs \"hash\" (64 hex digits) or \"key\"");
      }
      entry.hash = item["hash"].get<std::string>();
      if (!doc.contains("salt") && !(item.contains("salt") && item["salt"].is_string())) {
        return Status::InvalidArgument(
            where() +
            " has a \"hash\" but the file has no \"salt\": the keys "
            "cannot be checked (recreate them with `ariadne keys create`)");
      }
      entry.salt = item.contains("salt") && item["salt"].is_string()
                       ? item["salt"].get<std::string>()
                       : registry.salt_;
      if (item.contains("prefix") && item["prefix"].is_string()) {
        entry.prefix = item["prefix"].get<std::string>();
      }
    }
    if (item.contains("environment")) {
      if (!item["environment"].is_string()) {
        return Status::InvalidArgument(where() + ": \"environment\" must be a string");
      }
      entry.environment = item["environment"].get<std::string>();
    }
    if (item.contains("role")) {
      std::optional<KeyRole> role =
          item["role"].is_string() ? ParseKeyRole(item["role"].get<std::string>()) : std::nullopt;
      if (!role) {
        return Status::InvalidArgument(where() + ": \"role\" must be ingest, read or admin");
      }
      entry.role = *role;
    }
    if (item.contains("created_unix") && item["created_unix"].is_number_integer()) {
      entry.created_unix = item["created_unix"].get<int64_t>();
    }
    Status status = registry.Add(std::move(entry));
    if (!status.ok()) return status.WithContext(where());
    ++index;
  }
  return registry;
}

Result<KeyRegistry> KeyRegistry::LoadFileMigrating(const std::string& path) {
  bool had_plain_text = false;
  ARIADNE_ASSIGN_OR_RETURN(KeyRegistry registry, LoadFile(path, &had_plain_text));
  if (had_plain_text) {
    Status saved = SaveFile(path, registry);
    if (!saved.ok()) {
      return Status::Unavailable("keys file " + path +
                                 " holds keys in plain text and could not be rewritten hashed (" +
                                 std::string(saved.message()) + "); make it writable and retry");
    }
  }
  return registry;
}

Status KeyRegistry::Add(KeyEntry entry) {
  if (!entry.key.empty()) {
    entry.salt = salt_;
    entry.hash = KeyHash(salt_, entry.key);
    if (entry.prefix.empty()) entry.prefix = KeyPrefix(entry.key);
    entry.key.clear();
  }
  if (entry.hash.empty() || entry.salt.empty()) return Status::InvalidArgument("empty key");
  if (entry.role == KeyRole::kIngest || !entry.environment.empty()) {
    ARIADNE_RETURN_IF_ERROR(ValidateEnvironmentName(entry.environment));
  }
  entry.id = entry.hash.substr(0, 10);
  std::string index_key = entry.salt + ":" + entry.hash;
  auto it = index_by_hash_.find(index_key);
  if (it != index_by_hash_.end()) {
    const KeyEntry& existing = entries_[it->second];
    if (existing.environment != entry.environment || existing.role != entry.role) {
      return Status::InvalidArgument("key " + entry.prefix + "… (id " + entry.id +
                                     ") is listed twice with different roles or environments ('" +
                                     existing.environment + "' and '" + entry.environment + "')");
    }
    return Status::Ok();
  }
  index_by_hash_.emplace(std::move(index_key), entries_.size());
  entries_.push_back(std::move(entry));
  return Status::Ok();
}

Status KeyRegistry::Merge(const KeyRegistry& other) {
  for (const KeyEntry& entry : other.entries_) ARIADNE_RETURN_IF_ERROR(Add(entry));
  return Status::Ok();
}

void KeyRegistry::Reindex() {
  index_by_hash_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) {
    index_by_hash_.emplace(entries_[i].salt + ":" + entries_[i].hash, i);
  }
}

Result<KeyEntry> KeyRegistry::Revoke(std::string_view id_or_prefix) {
  std::string wanted(TrimSpaces(id_or_prefix));
  // As `keys list` shows it ("aik_3f2a9b1c..."): the dots are not part of the prefix.
  while (!wanted.empty() && wanted.back() == '.') wanted.pop_back();
  if (wanted.empty()) return Status::InvalidArgument("name the key to revoke by its id or prefix");
  std::vector<size_t> matches;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const KeyEntry& e = entries_[i];
    if (e.id == wanted || (!e.prefix.empty() && e.prefix == wanted) ||
        KeyHash(e.salt, wanted) == e.hash) {
      matches.push_back(i);
    }
  }
  if (matches.empty()) {
    return Status::NotFound("no key has the id or prefix '" + wanted +
                            "' (see `ariadne keys list`)");
  }
  if (matches.size() > 1) {
    return Status::InvalidArgument("'" + wanted + "' matches " + std::to_string(matches.size()) +
                                   " keys; revoke by id (see `ariadne keys list`)");
  }
  KeyEntry removed = entries_[matches.front()];
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(matches.front()));
  Reindex();
  return removed;
}

Result<Principal> KeyRegistry::Lookup(std::string_view key) const {
  key = TrimSpaces(key);
  if (!key.empty()) {
    std::set<std::string_view> salts;
    for (const KeyEntry& entry : entries_) salts.insert(entry.salt);
    for (std::string_view salt : salts) {
      std::string index_key = std::string(salt) + ":" + KeyHash(salt, key);
      auto it = index_by_hash_.find(index_key);
      if (it == index_by_hash_.end()) continue;
      const KeyEntry& entry = entries_[it->second];
      return Principal{entry.role, entry.environment, entry.id};
    }
  }
  return Status::Unauthenticated(
      "unknown API key - check your credentials (list keys with `ariadne keys list`)");
}

std::string_view BearerToken(std::optional<std::string_view> authorization) {
  if (!authorization) return {};
  std::string_view auth = TrimSpaces(*authorization);
  constexpr std::string_view kBearer = "bearer ";
  if (auth.size() <= kBearer.size()) return {};
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(auth[i])) != kBearer[i]) return {};
  }
  return TrimSpaces(auth.substr(kBearer.size()));
}

Result<std::string> KeyRegistry::Authenticate(std::optional<std::string_view> honeycomb_team,
                                              std::optional<std::string_view> authorization) const {
  if (entries_.empty()) return std::string(kDefaultEnvironment);
  std::string_view key;
  if (honeycomb_team) key = TrimSpaces(*honeycomb_team);
  if (key.empty()) key = BearerToken(authorization);
  if (key.empty()) {
    return Status::Unauthenticated(
        "missing 'x-honeycomb-team' header: send your ingest key, e.g. "
        "OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=KEY (list keys with `ariadne keys list`)");
  }
  ARIADNE_ASSIGN_OR_RETURN(Principal principal, Lookup(key));
  if (principal.role != KeyRole::kIngest) {
    return Status::Unauthenticated("key " + principal.id + " is a " +
                                   std::string(KeyRoleName(principal.role)) +
                                   " key; sending spans needs an ingest key "
                                   "(`ariadne keys create --role ingest --env NAME`)");
  }
  return principal.environment;
}

std::string GenerateKey(KeyRole role) {
  std::string key = role == KeyRole::kRead ? "ark_" : role == KeyRole::kAdmin ? "aak_" : "aik_";
  return key + RandomHex(16);
}

Status ValidateEnvironmentName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("environment name must have 1 to 64 characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) {
      return Status::InvalidArgument("environment name '" + std::string(name) +
                                     "' may only use letters, digits, '.', '_' and '-'");
    }
  }
  return Status::Ok();
}

Status SaveFile(const std::string& path, const KeyRegistry& registry) {
  nlohmann::json doc;
  doc["format"] = 2;
  doc["salt"] = registry.salt();
  doc["keys"] = nlohmann::json::array();
  for (const KeyEntry& entry : registry.entries()) {
    nlohmann::json item = {{"id", entry.id},
                           {"prefix", entry.prefix},
                           {"hash", entry.hash},
                           {"role", KeyRoleName(entry.role)},
                           {"environment", entry.environment},
                           {"created_unix", entry.created_unix}};
    if (entry.salt != registry.salt()) item["salt"] = entry.salt;
    doc["keys"].push_back(std::move(item));
  }
  std::string text = DumpJson(doc, 2) + "\n";
  std::error_code ec;
  std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  // Even hashed, keys are owner-only.
  return WriteFileAtomically(path, text, 0600);
}

Result<std::string> CreateKey(const std::string& path, KeyRole role,
                              const std::string& environment) {
  if (role == KeyRole::kIngest || !environment.empty()) {
    ARIADNE_RETURN_IF_ERROR(ValidateEnvironmentName(environment));
  }
  ARIADNE_ASSIGN_OR_RETURN(KeyRegistry registry, KeyRegistry::LoadFile(path));
  KeyEntry entry;
  entry.key = GenerateKey(role);
  entry.role = role;
  entry.environment = environment;
  entry.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  std::string key = entry.key;
  ARIADNE_RETURN_IF_ERROR(registry.Add(std::move(entry)));
  ARIADNE_RETURN_IF_ERROR(SaveFile(path, registry));
  return key;
}

Result<std::string> CreateKey(const std::string& path, const std::string& environment) {
  return CreateKey(path, KeyRole::kIngest, environment);
}

Result<KeyEntry> RevokeKey(const std::string& path, std::string_view id_or_prefix) {
  ARIADNE_ASSIGN_OR_RETURN(KeyRegistry registry, KeyRegistry::LoadFile(path));
  ARIADNE_ASSIGN_OR_RETURN(KeyEntry removed, registry.Revoke(id_or_prefix));
  ARIADNE_RETURN_IF_ERROR(SaveFile(path, registry));
  return removed;
}

}  // namespace ariadne::pipeline
