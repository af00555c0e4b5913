// XrayConfigBackend: where XrayConfigStore keeps its document (groups, sampling rules, tags,
// account settings as one JSON text). The store validates and edits; a backend only loads and
// saves whole versions, so every engine applies the same rules.
//
//   FileConfigBackend          <data-dir>/xray-config.json, rewritten atomically (the embedded
//                              engine; one node).
//   ClickHouse (store/clickhouse/xray_config_table.h)  a row per version in the xray_config table,
//                              shared by every `ariadne serve --store clickhouse://…` node.
//
// Versions: Load returns the newest version (0 = nothing stored yet). Save(text, v) stores version
// v, which must be one more than the version the caller loaded; a shared backend answers
// kFailedPrecondition when another node stored v first (the caller reloads and retries or reports
// it), so concurrent edits never silently overwrite each other.
//
// Threads: XrayConfigStore calls a backend under its own mutex, one call at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

namespace ariadne::sampling {

struct StoredConfig {
  std::string document;  // JSON text
  uint64_t version = 0;
};

class XrayConfigBackend {
 public:
  virtual ~XrayConfigBackend() = default;
  // The newest stored version; nullopt when nothing was ever stored.
  virtual Result<std::optional<StoredConfig>> Load() = 0;
  virtual Status Save(const std::string& document, uint64_t version) = 0;
  // True when other processes may change the configuration (the store then reloads before it
  // answers, at most every refresh interval, and always before an edit).
  virtual bool shared() const = 0;
  // For messages: "/data/xray-config.json", "ClickHouse table ariadne.xray_config".
  virtual std::string where() const = 0;
};

// The JSON file (one node).
class FileConfigBackend final : public XrayConfigBackend {
 public:
  explicit FileConfigBackend(std::string path) : path_(std::move(path)) {}
  Result<std::optional<StoredConfig>> Load() override;
  Status Save(const std::string& document, uint64_t version) override;
  bool shared() const override { return false; }
  std::string where() const override { return path_; }

 private:
  std::string path_;
};

}  // namespace ariadne::sampling
