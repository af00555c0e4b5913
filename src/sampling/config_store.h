// XrayConfigStore: X-Ray groups and sampling rules, kept durably as one JSON document in a backend
// (config_backend.h): with the embedded engine a file in the data directory
// (<data-dir>/xray-config.json) rewritten atomically on every change (write to a temporary file,
// fsync, rename over the old one, fsync the directory), so a crash leaves either the old or the
// new configuration, never a torn one; with ClickHouse a row per version in the xray_config table
// that every node reads. With a shared backend the store reloads the newest version before it
// answers (at most once per `refresh_interval_s`, so another node's change is seen within that
// time) and always before an edit; an edit that raced another node's is refused with
// kFailedPrecondition
// ("retry"), never merged blindly.
//
// The Default rule always exists (reservoir 1/s, fixed rate 0.05, priority 10000); it can be
// updated (rate and reservoir) but not deleted. The Default group (no filter) is built in and
// listed first by Groups(); it cannot be created, changed or deleted. Names are unique; rule and
// group ARNs use `region` and `account_id`.
//
// Errors are Status values whose messages name the field; the API maps kInvalidArgument,
// kAlreadyExists and kNotFound to InvalidRequestException and kResourceExhausted to
// RuleLimitExceededException.
//
// Threads: every method is safe to call concurrently (one internal mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sampling/config_backend.h"
#include "sampling/sampling_targets.h"

namespace ariadne::sampling {

struct XrayGroup {
  std::string name;
  std::string id;  // the random part of the ARN
  std::string filter_expression;
  bool insights_enabled = false;
  bool notifications_enabled = false;
};

struct SamplingRuleUpdate {
  std::string rule_name;
  std::string rule_arn;
  std::optional<std::string> resource_arn, service_name, service_type, host, http_method, url_path;
  std::optional<int64_t> priority, reservoir_size;
  std::optional<double> fixed_rate;
  std::optional<std::map<std::string, std::string>> attributes;
};

// PutEncryptionConfig's settings. Ariadne keeps them (and answers them back) but stores segments
// the same way whatever they say: encryption at rest is the data directory's file system's job.
struct EncryptionSettings {
  std::string type = "NONE";  // NONE or KMS
  std::string key_id;         // KMS only
};

using Tags = std::map<std::string, std::string>;

struct XrayConfigOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  size_t max_rules = 25;  // user rules, as X-Ray's default quota
  size_t max_groups = 25;
  double refresh_interval_s = 1;  // shared backends only
};

class XrayConfigStore {
 public:
  // Loads `path` if it exists (a corrupt file is an error naming the file), else starts empty.
  // A shared backend that cannot be read at start (ClickHouse not up yet) is not an error: the
  // store serves the Default rule and group until a reload succeeds, and refuses edits until then.
  static Result<std::unique_ptr<XrayConfigStore>> Open(std::string path,
                                                       Clock clock = SystemClockSeconds,
                                                       XrayConfigOptions options = {});
  // The same over any backend (the ClickHouse table: store/clickhouse/xray_config_table.h).
  static Result<std::unique_ptr<XrayConfigStore>> Open(std::unique_ptr<XrayConfigBackend> backend,
                                                       Clock clock = SystemClockSeconds,
                                                       XrayConfigOptions options = {});

  // Sampling rules.
  Result<SamplingRule> CreateRule(SamplingRule rule);
  Result<SamplingRule> UpdateRule(const SamplingRuleUpdate& update);
  Result<SamplingRule> DeleteRule(const std::string& name, const std::string& arn);
  std::vector<SamplingRule> Rules() const;  // RuleOrder (priority, then name)
  std::string RuleArn(const std::string& name) const;

  // Groups.
  Result<XrayGroup> CreateGroup(XrayGroup group);
  Result<XrayGroup> GetGroup(const std::string& name, const std::string& arn) const;
  Result<XrayGroup> UpdateGroup(const std::string& name, const std::string& arn,
                                std::optional<std::string> filter_expression,
                                std::optional<bool> insights, std::optional<bool> notifications);
  Status DeleteGroup(const std::string& name, const std::string& arn);
  std::vector<XrayGroup> Groups() const;  // Default first, then by name
  std::string GroupArn(const XrayGroup& group) const;

  // Tags of a group or sampling rule, by ARN (kNotFound when no such resource). At most 50 per
  // resource; keys 1-128 characters, values at most 256, keys starting "aws:" are reserved.
  Result<Tags> ListTags(const std::string& arn) const;
  Status TagResource(const std::string& arn, const Tags& tags);
  Status UntagResource(const std::string& arn, const std::vector<std::string>& keys);

  // Account-wide settings: encryption (see EncryptionSettings) and the trace segment destination
  // ("XRay" or "CloudWatchLogs"; recorded and answered back only).
  EncryptionSettings Encryption() const;
  Status SetEncryption(const EncryptionSettings& settings);
  std::string Destination() const;
  Status SetDestination(const std::string& destination);

  const XrayConfigOptions& options() const { return options_; }

 private:
  XrayConfigStore(std::unique_ptr<XrayConfigBackend> backend, Clock clock,
                  XrayConfigOptions options);
  // Replaces the state with the backend's newest version.
  Status LoadLocked() const;
  // Shared backends: reload when the last load is older than the refresh interval (a failed
  // reload keeps the state it has: reads go on from the last version seen).
  void RefreshLocked() const;
  // Shared backends: reload now; an edit must start from the newest version.
  Status ReloadForEditLocked() const;
  // Stores the state as the next version; on failure the caller restores its old state.
  Status SaveLocked() const;
  bool ResourceExistsLocked(const std::string& arn) const;
  // Name from a name or an ARN; kInvalidArgument when neither is given.
  Result<std::string> ResolveGroupName(const std::string& name, const std::string& arn) const;

  const std::unique_ptr<XrayConfigBackend> backend_;
  const Clock clock_;
  const XrayConfigOptions options_;
  mutable std::mutex mu_;
  // The backend's document as of `version_` (mutable: reads refresh it from a shared backend).
  mutable uint64_t version_ = 0;
  mutable double loaded_at_ = -1;             // clock_() of the last load
  mutable std::vector<SamplingRule> rules_;   // includes Default
  mutable std::vector<XrayGroup> groups_;     // user groups only
  mutable std::map<std::string, Tags> tags_;  // by resource ARN
  mutable EncryptionSettings encryption_;
  mutable std::string destination_ = "XRay";
};

// Checks tags as X-Ray does (count, key and value lengths, the reserved "aws:" prefix).
Status ValidateTags(const Tags& tags, size_t existing = 0);

// Checks a group name (1-32 letters, digits, '-' or '_'; not "Default").
Status ValidateGroupName(const std::string& name);

}  // namespace ariadne::sampling
