#include "cli/store_config.h"

#include <sys/statvfs.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace ariadne::cli {
namespace {

// Splits "12.5GiB" into 12.5 and "GiB".
bool SplitNumber(const std::string& text, double* number, std::string* unit) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return false;
  try {
    *number = std::stod(text.substr(0, i));
  } catch (...) {
    return false;
  }
  *unit = text.substr(i);
  return *number >= 0;
}

std::string Describe(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f GiB", static_cast<double>(bytes) / (1ULL << 30));
  return text;
}

std::string DescribeDuration(uint64_t nanos) {
  const uint64_t seconds = nanos / 1'000'000'000ULL;
  if (seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds) + "s";
}

uint64_t DirectoryBytes(const std::string& dir) {
  std::error_code ec;
  uint64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

Result<uint64_t> AutoMaxDisk(const std::string& data_dir) {
  struct statvfs fs;
  if (::statvfs(data_dir.c_str(), &fs) != 0)
    return Status::InvalidArgument("cannot tell the free space of " + data_dir +
                                   "; give --max-disk SIZE (e.g. 50GiB)");
  const uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  return free_bytes / 2 + DirectoryBytes(data_dir + "/blocks");
}

}  // namespace

Result<uint64_t> ParseDurationNanos(const std::string& text) {
  if (text == "0" || text == "off") return uint64_t{0};
  double n = 0;
  std::string unit;
  if (!SplitNumber(text, &n, &unit))
    return Status::InvalidArgument("\"" + text + "\" is not a duration; write e.g. 7d, 12h, 30m");
  double seconds = 0;
  if (unit == "s")
    seconds = n;
  else if (unit == "m")
    seconds = n * 60;
  else if (unit == "h")
    seconds = n * 3600;
  else if (unit == "d")
    seconds = n * 86400;
  else if (unit == "w")
    seconds = n * 7 * 86400;
  else
    return Status::InvalidArgument("\"" + text +
                                   "\": the unit must be s, m, h, d or w (e.g. 7d, 12h)");
  if (seconds < 1)
    return Status::InvalidArgument("\"" + text + "\": a retention shorter than 1s keeps nothing");
  return static_cast<uint64_t>(seconds * 1e9);
}

Result<uint64_t> ParseByteSize(const std::string& text) {
  if (text == "0" || text == "off") return uint64_t{0};
  double n = 0;
  std::string unit;
  if (!SplitNumber(text, &n, &unit))
    return Status::InvalidArgument("\"" + text + "\" is not a size; write e.g. 50GiB, 500MiB");
  static const std::pair<const char*, double> kUnits[] = {{"B", 1},
                                                          {"KiB", 1024.0},
                                                          {"MiB", 1048576.0},
                                                          {"GiB", 1073741824.0},
                                                          {"TiB", 1099511627776.0},
                                                          {"KB", 1e3},
                                                          {"MB", 1e6},
                                                          {"GB", 1e9},
                                                          {"TB", 1e12}};
  for (const auto& [name, factor] : kUnits)
    if (unit == name) return static_cast<uint64_t>(n * factor);
  return Status::InvalidArgument("\"" + text +
                                 "\": the unit must be B, KiB, MiB, GiB or TiB (e.g. 50GiB)");
}

Result<store::embedded::RetentionConfig> BuildRetentionConfig(const StoreRetentionFlags& flags,
                                                              const std::string& data_dir,
                                                              std::string* summary) {
  store::embedded::RetentionConfig config;
  std::string retention = flags.retention;
  std::string max_disk = flags.max_disk;
  if (!flags.config_file.empty()) {
    std::ifstream in(flags.config_file);
    if (!in) return Status::InvalidArgument("cannot read --store-config " + flags.config_file);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object())
      return Status::InvalidArgument("--store-config " + flags.config_file +
                                     " is not a JSON object; see docs/operations.md");
    auto field = [&](const nlohmann::json& object, const char* key,
                     const std::string& where) -> Result<std::string> {
      if (!object.contains(key)) return std::string();
      if (!object[key].is_string())
        return Status::InvalidArgument("--store-config: " + where + "." + key +
                                       " must be a string such as \"7d\" or \"50GiB\"");
      return object[key].get<std::string>();
    };
    ARIADNE_ASSIGN_OR_RETURN(std::string file_retention, field(json, "retention", ""));
    ARIADNE_ASSIGN_OR_RETURN(std::string file_max_disk, field(json, "max_disk", ""));
    if (retention.empty()) retention = file_retention;
    if (max_disk.empty()) max_disk = file_max_disk;
    if (json.contains("environments")) {
      if (!json["environments"].is_object())
        return Status::InvalidArgument("--store-config: \"environments\" must be an object");
      for (const auto& [env, settings] : json["environments"].items()) {
        if (!settings.is_object())
          return Status::InvalidArgument("--store-config: environments." + env +
                                         " must be an object");
        store::embedded::RetentionPolicy policy;
        ARIADNE_ASSIGN_OR_RETURN(std::string r,
                                 field(settings, "retention", "environments." + env));
        ARIADNE_ASSIGN_OR_RETURN(std::string d, field(settings, "max_disk", "environments." + env));
        if (!r.empty()) {
          Result<uint64_t> v = ParseDurationNanos(r);
          if (!v.ok()) return v.status().WithContext("--store-config environments." + env);
          policy.retention_nanos = *v;
        }
        if (!d.empty()) {
          Result<uint64_t> v = ParseByteSize(d);
          if (!v.ok()) return v.status().WithContext("--store-config environments." + env);
          policy.max_disk_bytes = *v;
        }
        config.environments[env] = policy;
      }
    }
  }
  if (!retention.empty()) {
    Result<uint64_t> v = ParseDurationNanos(retention);
    if (!v.ok()) return v.status().WithContext("--retention");
    config.global.retention_nanos = *v;
  }
  std::string max_disk_note;
  if (max_disk.empty() || max_disk == "auto") {
    ARIADNE_ASSIGN_OR_RETURN(config.global.max_disk_bytes, AutoMaxDisk(data_dir));
    max_disk_note =
        " (default: half the free space of the data directory's filesystem at start; "
        "set --max-disk)";
  } else {
    Result<uint64_t> v = ParseByteSize(max_disk);
    if (!v.ok()) return v.status().WithContext("--max-disk");
    config.global.max_disk_bytes = *v;
  }
  *summary =
      "retention " +
      (config.global.retention_nanos ? DescribeDuration(config.global.retention_nanos)
                                     : std::string("off (spans are kept until max-disk)")) +
      ", max-disk " +
      (config.global.max_disk_bytes ? Describe(config.global.max_disk_bytes) : std::string("off")) +
      " of block files" + max_disk_note;
  for (const auto& [env, policy] : config.environments)
    *summary += "; environment \"" + env + "\": retention " +
                (policy.retention_nanos ? DescribeDuration(policy.retention_nanos)
                                        : std::string("(global)")) +
                ", max-disk " +
                (policy.max_disk_bytes ? Describe(policy.max_disk_bytes) : std::string("(none)"));
  return config;
}

}  // namespace ariadne::cli
