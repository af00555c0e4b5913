#include "pipeline/keys.h"

#include "common/file_util.h"
#include "common/json_dump.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

namespace ariadne::pipeline {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<KeyRegistry> KeyRegistry::LoadFile(const std::string& path) {
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
                                   " is not valid JSON; expected {\"keys\": [{\"key\": ..., "
                                   "\"environment\": ...}]}");
  }
  auto keys = doc.find("keys");
  if (keys == doc.end()) return registry;
  if (!keys->is_array()) {
    return Status::InvalidArgument("keys file " + path + ": \"keys\" must be an array");
  }
  size_t index = 0;
  for (const auto& item : *keys) {
    if (!item.is_object() || !item.contains("key") || !item["key"].is_string() ||
        !item.contains("environment") || !item["environment"].is_string()) {
      return Status::InvalidArgument("keys file " + path + ": entry " + std::to_string(index) +
                                     " needs string fields \"key\" and \"environment\"");
    }
    KeyEntry entry;
    entry.key = item["key"].get<std::string>();
    entry.environment = item["environment"].get<std::string>();
    if (item.contains("created_unix") && item["created_unix"].is_number_integer()) {
      entry.created_unix = item["created_unix"].get<int64_t>();
    }
    Status status = registry.Add(std::move(entry));
    if (!status.ok()) return status.WithContext("keys file " + path);
    ++index;
  }
  return registry;
}

Status KeyRegistry::Add(KeyEntry entry) {
  if (entry.key.empty()) return Status::InvalidArgument("empty key");
  ARIADNE_RETURN_IF_ERROR(ValidateEnvironmentName(entry.environment));
  auto it = environment_by_key_.find(entry.key);
  if (it != environment_by_key_.end()) {
    if (it->second != entry.environment) {
      return Status::InvalidArgument("key " + entry.key.substr(0, 8) +
                                     "… is listed for two environments ('" + it->second +
                                     "' and '" + entry.environment + "')");
    }
    return Status::Ok();
  }
  environment_by_key_.emplace(entry.key, entry.environment);
  entries_.push_back(std::move(entry));
  return Status::Ok();
}

Status KeyRegistry::Merge(const KeyRegistry& other) {
  for (const KeyEntry& entry : other.entries_) ARIADNE_RETURN_IF_ERROR(Add(entry));
  return Status::Ok();
}

Result<std::string> KeyRegistry::Authenticate(std::optional<std::string_view> honeycomb_team,
                                              std::optional<std::string_view> authorization) const {
  if (entries_.empty()) return std::string(kDefaultEnvironment);
  std::string_view key;
  if (honeycomb_team) key = TrimSpaces(*honeycomb_team);
  if (key.empty() && authorization) {
    std::string_view auth = TrimSpaces(*authorization);
    constexpr std::string_view kBearer = "bearer ";
    if (auth.size() > kBearer.size()) {
      bool is_bearer = true;
      for (size_t i = 0; i < kBearer.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(auth[i])) != kBearer[i]) is_bearer = false;
      }
      if (is_bearer) key = TrimSpaces(auth.substr(kBearer.size()));
    }
  }
  if (key.empty()) {
    return Status::Unauthenticated(
        "missing 'x-honeycomb-team' header: send your ingest key, e.g. "
        "OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=KEY (list keys with `ariadne keys list`)");
  }
  auto it = environment_by_key_.find(std::string(key));
  if (it == environment_by_key_.end()) {
    return Status::Unauthenticated(
        "unknown API key - check your credentials (list keys with `ariadne keys list`)");
  }
  return it->second;
}

std::string GenerateKey() {
  std::random_device device;  // /dev/urandom on Linux
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string key = "aik_";
  for (int i = 0; i < 4; ++i) {
    uint32_t word = device();
    for (int nibble = 0; nibble < 8; ++nibble) {
      key.push_back(kDigits[(word >> (28 - 4 * nibble)) & 0xF]);
    }
  }
  return key;
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
  doc["keys"] = nlohmann::json::array();
  for (const KeyEntry& entry : registry.entries()) {
    doc["keys"].push_back({{"key", entry.key},
                           {"environment", entry.environment},
                           {"created_unix", entry.created_unix}});
  }
  std::string text = DumpJson(doc, 2) + "\n";
  std::error_code ec;
  std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  // Keys are secrets: owner-only permissions.
  return WriteFileAtomically(path, text, 0600);
}

Result<std::string> CreateKey(const std::string& path, const std::string& environment) {
  ARIADNE_RETURN_IF_ERROR(ValidateEnvironmentName(environment));
  ARIADNE_ASSIGN_OR_RETURN(KeyRegistry registry, KeyRegistry::LoadFile(path));
  KeyEntry entry;
  entry.key = GenerateKey();
  entry.environment = environment;
  entry.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  std::string key = entry.key;
  ARIADNE_RETURN_IF_ERROR(registry.Add(std::move(entry)));
  ARIADNE_RETURN_IF_ERROR(SaveFile(path, registry));
  return key;
}

}  // namespace ariadne::pipeline
