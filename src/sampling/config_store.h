// XrayConfigStore: X-Ray groups and sampling rules, kept durably in one JSON file in the data
// directory (<data-dir>/xray-config.json) and rewritten atomically on every change (write to a
// temporary file, fsync, rename over the old one, fsync the directory), so a crash leaves either
// the old or the new configuration, never a torn one.
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

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
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

struct XrayConfigOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  size_t max_rules = 25;  // user rules, as X-Ray's default quota
  size_t max_groups = 25;
};

class XrayConfigStore {
 public:
  // Loads `path` if it exists (a corrupt file is an error naming the file), else starts empty.
  static Result<std::unique_ptr<XrayConfigStore>> Open(std::string path,
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

  const XrayConfigOptions& options() const { return options_; }

 private:
  XrayConfigStore(std::string path, Clock clock, XrayConfigOptions options);
  Status Load();
  Status SaveLocked() const;
  // Name from a name or an ARN; kInvalidArgument when neither is given.
  Result<std::string> ResolveGroupName(const std::string& name, const std::string& arn) const;

  const std::string path_;
  const Clock clock_;
  const XrayConfigOptions options_;
  mutable std::mutex mu_;
  std::vector<SamplingRule> rules_;  // includes Default
  std::vector<XrayGroup> groups_;    // user groups only
};

// Checks a group name (1-32 letters, digits, '-' or '_'; not "Default").
Status ValidateGroupName(const std::string& name);

}  // namespace ariadne::sampling
