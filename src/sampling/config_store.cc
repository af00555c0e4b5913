#include "sampling/config_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/json_dump.h"
#include "query/xray_filter/filter.h"

namespace ariadne::sampling {
namespace {

using json = nlohmann::json;

json RuleToJson(const SamplingRule& r) {
  json j = {{"RuleName", r.rule_name},
            {"ResourceARN", r.resource_arn},
            {"Priority", r.priority},
            {"FixedRate", r.fixed_rate},
            {"ReservoirSize", r.reservoir_size},
            {"ServiceName", r.service_name},
            {"ServiceType", r.service_type},
            {"Host", r.host},
            {"HTTPMethod", r.http_method},
            {"URLPath", r.url_path},
            {"Version", r.version},
            {"Attributes", r.attributes},
            {"CreatedAt", r.created_at},
            {"ModifiedAt", r.modified_at}};
  if (r.boost_max_rate) j["BoostMaxRate"] = *r.boost_max_rate;
  if (r.boost_cooldown_minutes) j["BoostCooldownWindowMinutes"] = *r.boost_cooldown_minutes;
  return j;
}

SamplingRule RuleFromJson(const json& j) {
  SamplingRule r;
  r.rule_name = j.at("RuleName").get<std::string>();
  r.resource_arn = j.at("ResourceARN").get<std::string>();
  r.priority = j.at("Priority").get<int64_t>();
  r.fixed_rate = j.at("FixedRate").get<double>();
  r.reservoir_size = j.at("ReservoirSize").get<int64_t>();
  r.service_name = j.at("ServiceName").get<std::string>();
  r.service_type = j.at("ServiceType").get<std::string>();
  r.host = j.at("Host").get<std::string>();
  r.http_method = j.at("HTTPMethod").get<std::string>();
  r.url_path = j.at("URLPath").get<std::string>();
  r.version = j.at("Version").get<int64_t>();
  r.attributes = j.value("Attributes", std::map<std::string, std::string>{});
  r.created_at = j.value("CreatedAt", 0.0);
  r.modified_at = j.value("ModifiedAt", 0.0);
  if (j.contains("BoostMaxRate")) r.boost_max_rate = j["BoostMaxRate"].get<double>();
  if (j.contains("BoostCooldownWindowMinutes")) {
    r.boost_cooldown_minutes = j["BoostCooldownWindowMinutes"].get<int64_t>();
  }
  return r;
}

std::string RandomGroupId() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::random_device rd;
  std::string id;
  for (int i = 0; i < 52; ++i) id += kAlphabet[rd() % 32];
  return id;
}

// "arn:aws:xray:r:a:sampling-rule/NAME" → NAME; "arn:...:group/NAME/ID" → NAME.
std::string NameFromArn(const std::string& arn, std::string_view kind) {
  std::string marker = ":" + std::string(kind) + "/";
  size_t pos = arn.find(marker);
  if (pos == std::string::npos) return "";
  std::string rest = arn.substr(pos + marker.size());
  return rest.substr(0, rest.find('/'));
}

}  // namespace

Status ValidateGroupName(const std::string& name) {
  if (name.empty()) return Status::InvalidArgument("GroupName is required");
  if (name.size() > 32) {
    return Status::InvalidArgument("GroupName must be at most 32 characters, got " +
                                   std::to_string(name.size()));
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      return Status::InvalidArgument(
          "GroupName may contain only letters, digits, '-' and '_', got '" + name + "'");
    }
  }
  if (name == "Default") return Status::InvalidArgument("GroupName 'Default' is reserved");
  return Status::Ok();
}

Result<std::optional<StoredConfig>> FileConfigBackend::Load() {
  std::ifstream in(path_);
  if (!in) return std::optional<StoredConfig>();
  std::stringstream text;
  text << in.rdbuf();
  return std::optional<StoredConfig>(StoredConfig{text.str(), 1});
}

Status FileConfigBackend::Save(const std::string& document, uint64_t /*version*/) {
  return WriteFileAtomically(path_, document);
}

XrayConfigStore::XrayConfigStore(std::unique_ptr<XrayConfigBackend> backend, Clock clock,
                                 XrayConfigOptions options)
    : backend_(std::move(backend)), clock_(std::move(clock)), options_(std::move(options)) {}

Result<std::unique_ptr<XrayConfigStore>> XrayConfigStore::Open(std::string path, Clock clock,
                                                               XrayConfigOptions options) {
  return Open(std::make_unique<FileConfigBackend>(std::move(path)), std::move(clock),
              std::move(options));
}

Result<std::unique_ptr<XrayConfigStore>> XrayConfigStore::Open(
    std::unique_ptr<XrayConfigBackend> backend, Clock clock, XrayConfigOptions options) {
  std::unique_ptr<XrayConfigStore> store(
      new XrayConfigStore(std::move(backend), std::move(clock), std::move(options)));
  std::lock_guard<std::mutex> lock(store->mu_);
  Status loaded = store->LoadLocked();
  if (!loaded.ok()) {
    // A shared backend that is not reachable yet (ClickHouse down or its schema not created yet at
    // start): serve the built-in Default rule and group, reload on the next read; edits wait for
    // the backend (they must start from its newest version).
    if (!store->backend_->shared()) return loaded;
    store->rules_ = {DefaultRule()};
    store->loaded_at_ = -1;
  }
  return store;
}

void XrayConfigStore::RefreshLocked() const {
  if (!backend_->shared() || clock_() - loaded_at_ < options_.refresh_interval_s) return;
  // On failure try again one refresh interval later, not on every read.
  if (!LoadLocked().ok()) loaded_at_ = clock_();
}

Status XrayConfigStore::ReloadForEditLocked() const {
  if (!backend_->shared()) return Status::Ok();
  return LoadLocked();
}

Status XrayConfigStore::LoadLocked() const {
  ARIADNE_ASSIGN_OR_RETURN(std::optional<StoredConfig> stored, backend_->Load());
  if (stored && stored->version == version_ && version_ != 0 && backend_->shared()) {
    loaded_at_ = clock_();
    return Status::Ok();  // unchanged
  }
  // Parse into fresh state first: a bad document leaves the current state as it was.
  std::vector<SamplingRule> rules;
  std::vector<XrayGroup> groups;
  std::map<std::string, Tags> tags;
  EncryptionSettings encryption;
  std::string destination = "XRay";
  if (stored) {
    try {
      json j = json::parse(stored->document);
      for (const json& r : j.value("rules", json::array())) rules.push_back(RuleFromJson(r));
      for (const json& g : j.value("groups", json::array())) {
        XrayGroup group;
        group.name = g.at("GroupName").get<std::string>();
        group.id = g.at("Id").get<std::string>();
        group.filter_expression = g.value("FilterExpression", "");
        group.insights_enabled = g.value("InsightsEnabled", false);
        group.notifications_enabled = g.value("NotificationsEnabled", false);
        groups.push_back(std::move(group));
      }
      if (j.contains("tags")) {
        for (const auto& [arn, kv] : j["tags"].items()) {
          for (const auto& [k, v] : kv.items()) tags[arn][k] = v.get<std::string>();
        }
      }
      if (j.contains("encryption")) {
        encryption.type = j["encryption"].value("Type", "NONE");
        encryption.key_id = j["encryption"].value("KeyId", "");
      }
      destination = j.value("destination", "XRay");
    } catch (const std::exception& e) {
      return Status::DataLoss("the X-Ray configuration in " + backend_->where() + " is corrupt (" +
                              e.what() +
                              "); fix or remove it (groups and sampling rules live there)");
    }
  }
  bool has_default = std::any_of(rules.begin(), rules.end(), [](const SamplingRule& r) {
    return r.rule_name == kDefaultRuleName;
  });
  if (!has_default) rules.push_back(DefaultRule());
  rules_ = std::move(rules);
  groups_ = std::move(groups);
  tags_ = std::move(tags);
  encryption_ = std::move(encryption);
  destination_ = std::move(destination);
  version_ = stored ? stored->version : 0;
  loaded_at_ = clock_();
  return Status::Ok();
}

Status XrayConfigStore::SaveLocked() const {
  json j;
  j["version"] = 1;
  j["rules"] = json::array();
  for (const SamplingRule& r : rules_) j["rules"].push_back(RuleToJson(r));
  j["groups"] = json::array();
  for (const XrayGroup& g : groups_) {
    j["groups"].push_back({{"GroupName", g.name},
                           {"Id", g.id},
                           {"FilterExpression", g.filter_expression},
                           {"InsightsEnabled", g.insights_enabled},
                           {"NotificationsEnabled", g.notifications_enabled}});
  }
  j["tags"] = json::object();
  for (const auto& [arn, tags] : tags_) {
    for (const auto& [k, v] : tags) j["tags"][arn][k] = v;
  }
  j["encryption"] = {{"Type", encryption_.type}, {"KeyId", encryption_.key_id}};
  j["destination"] = destination_;
  Status saved = backend_->Save(DumpJson(j, 2) + "\n", version_ + 1);
  if (saved.ok()) {
    ++version_;
  } else {
    loaded_at_ = -1;  // reload before the next answer
  }
  return saved;
}

std::string XrayConfigStore::RuleArn(const std::string& name) const {
  return "arn:aws:xray:" + options_.region + ":" + options_.account_id + ":sampling-rule/" + name;
}

std::string XrayConfigStore::GroupArn(const XrayGroup& group) const {
  if (group.name == "Default") {
    return "arn:aws:xray:" + options_.region + ":" + options_.account_id + ":group/Default";
  }
  return "arn:aws:xray:" + options_.region + ":" + options_.account_id + ":group/" + group.name +
         "/" + group.id;
}

Result<SamplingRule> XrayConfigStore::CreateRule(SamplingRule rule) {
  if (rule.rule_name == kDefaultRuleName) {
    return Status::AlreadyExists(
        "RuleName 'Default' is reserved: the Default rule always exists; "
        "change it with UpdateSamplingRule");
  }
  ARIADNE_RETURN_IF_ERROR(ValidateRule(rule));
  std::lock_guard<std::mutex> lock(mu_);
  ARIADNE_RETURN_IF_ERROR(ReloadForEditLocked());
  for (const SamplingRule& r : rules_) {
    if (r.rule_name == rule.rule_name) {
      return Status::AlreadyExists("a sampling rule named '" + rule.rule_name + "' already exists");
    }
  }
  if (rules_.size() - 1 >= options_.max_rules) {
    return Status::ResourceExhausted("at most " + std::to_string(options_.max_rules) +
                                     " sampling rules can exist besides Default");
  }
  rule.created_at = rule.modified_at = std::floor(clock_());
  rules_.push_back(rule);
  Status saved = SaveLocked();
  if (!saved.ok()) {
    rules_.pop_back();
    return saved;
  }
  return rule;
}

Result<SamplingRule> XrayConfigStore::UpdateRule(const SamplingRuleUpdate& update) {
  std::string name = update.rule_name;
  if (name.empty() && !update.rule_arn.empty())
    name = NameFromArn(update.rule_arn, "sampling-rule");
  if (name.empty()) return Status::InvalidArgument("RuleName or RuleARN is required");
  std::lock_guard<std::mutex> lock(mu_);
  ARIADNE_RETURN_IF_ERROR(ReloadForEditLocked());
  auto it = std::find_if(rules_.begin(), rules_.end(),
                         [&](const SamplingRule& r) { return r.rule_name == name; });
  if (it == rules_.end()) {
    return Status::NotFound("no sampling rule named '" + name + "'");
  }
  SamplingRule rule = *it;
  const bool is_default = rule.rule_name == kDefaultRuleName;
  if (is_default && (update.resource_arn || update.service_name || update.service_type ||
                     update.host || update.http_method || update.url_path || update.priority ||
                     (update.attributes && !update.attributes->empty()))) {
    return Status::InvalidArgument(
        "the Default rule's FixedRate and ReservoirSize can be changed, nothing else");
  }
  if (update.resource_arn) rule.resource_arn = *update.resource_arn;
  if (update.service_name) rule.service_name = *update.service_name;
  if (update.service_type) rule.service_type = *update.service_type;
  if (update.host) rule.host = *update.host;
  if (update.http_method) rule.http_method = *update.http_method;
  if (update.url_path) rule.url_path = *update.url_path;
  if (update.priority) rule.priority = *update.priority;
  if (update.reservoir_size) rule.reservoir_size = *update.reservoir_size;
  if (update.fixed_rate) rule.fixed_rate = *update.fixed_rate;
  if (update.attributes) rule.attributes = *update.attributes;
  ARIADNE_RETURN_IF_ERROR(ValidateRule(rule));
  rule.modified_at = std::max(std::floor(clock_()), rule.modified_at + 1);
  SamplingRule old = *it;
  *it = rule;
  Status saved = SaveLocked();
  if (!saved.ok()) {
    *it = old;
    return saved;
  }
  return rule;
}

Result<SamplingRule> XrayConfigStore::DeleteRule(const std::string& name_in,
                                                 const std::string& arn) {
  std::string name = name_in;
  if (name.empty() && !arn.empty()) name = NameFromArn(arn, "sampling-rule");
  if (name.empty()) return Status::InvalidArgument("RuleName or RuleARN is required");
  if (name == kDefaultRuleName) {
    return Status::InvalidArgument("the Default sampling rule cannot be deleted");
  }
  std::lock_guard<std::mutex> lock(mu_);
  ARIADNE_RETURN_IF_ERROR(ReloadForEditLocked());
  auto it = std::find_if(rules_.begin(), rules_.end(),
                         [&](const SamplingRule& r) { return r.rule_name == name; });
  if (it == rules_.end()) return Status::NotFound("no sampling rule named '" + name + "'");
  SamplingRule removed = *it;
  rules_.erase(it);
  auto tags = tags_.extract(RuleArn(name));
  Status saved = SaveLocked();
  if (!saved.ok()) {
    rules_.push_back(removed);
    if (!tags.empty()) tags_.insert(std::move(tags));
    return saved;
  }
  return removed;
}

std::vector<SamplingRule> XrayConfigStore::Rules() const {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  std::vector<SamplingRule> out = rules_;
  std::sort(out.begin(), out.end(), RuleOrder);
  return out;
}

Result<std::string> XrayConfigStore::ResolveGroupName(const std::string& name,
                                                      const std::string& arn) const {
  if (!name.empty()) return name;
  if (!arn.empty()) {
    std::string from_arn = NameFromArn(arn, "group");
    if (!from_arn.empty()) return from_arn;
    return Status::InvalidArgument("GroupARN '" + arn + "' is not a group ARN");
  }
  return Status::InvalidArgument("GroupName or GroupARN is required");
}

Result<XrayGroup> XrayConfigStore::CreateGroup(XrayGroup group) {
  ARIADNE_RETURN_IF_ERROR(ValidateGroupName(group.name));
  if (!group.filter_expression.empty()) {
    auto parsed = query::xray_filter::Filter::Parse(group.filter_expression);
    if (!parsed.ok()) {
      return Status::InvalidArgument("FilterExpression: " + std::string(parsed.status().message()));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  ARIADNE_RETURN_IF_ERROR(ReloadForEditLocked());
  for (const XrayGroup& g : groups_) {
    if (g.name == group.name) {
      return Status::AlreadyExists("a group named '" + group.name + "' already exists");
    }
  }
  if (groups_.size() >= options_.max_groups) {
    return Status::ResourceExhausted("at most " + std::to_string(options_.max_groups) +
                                     " groups can exist");
  }
  group.id = RandomGroupId();
  if (!group.insights_enabled) group.notifications_enabled = false;
  groups_.push_back(group);
  Status saved = SaveLocked();
  if (!saved.ok()) {
    groups_.pop_back();
    return saved;
  }
  return group;
}

Result<XrayGroup> XrayConfigStore::GetGroup(const std::string& name_in,
                                            const std::string& arn) const {
  ARIADNE_ASSIGN_OR_RETURN(std::string name, ResolveGroupName(name_in, arn));
  if (name == "Default") return XrayGroup{"Default", "", "", false, false};
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  for (const XrayGroup& g : groups_) {
    if (g.name == name) return g;
  }
  return Status::NotFound("Group not found: no group named '" + name + "'");
}

Result<XrayGroup> XrayConfigStore::UpdateGroup(const std::string& name_in, const std::string& arn,
                                               std::optional<std::string> filter_expression,
                                               std::optional<bool> insights,
                                               std::optional<bool> notifications) {
  ARIADNE_ASSIGN_OR_RETURN(std::string name, ResolveGroupName(name_in, arn));
  if (name == "Default") return Status::InvalidArgument("the Default group cannot be changed");
  if (filter_expression && !filter_expression->empty()) {
    auto parsed = query::xray_filter::Filter::Parse(*filter_expression);
    if (!parsed.ok()) {
      return Status::InvalidArgument("FilterExpression: " + std::string(parsed.status().message()));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  ARIADNE_RETURN_IF_ERROR(ReloadForEditLocked());
  for (XrayGroup& g : groups_) {
    if (g.name != name) continue;
    XrayGroup old = g;
    if (filter_expression) g.filter_expression = *filter_expression;
    if (insights) g.insights_enabled = *insights;
    if (notifications) g.notifications_enabled = *notifications;
    if (!g.insights_enabled) g.notifications_enabled = false;
    Status saved = SaveLocked();
    if (!saved.ok()) {
      g = old;
      return saved;
    }
    return g;
  }
  return Status::NotFound("Group not found: no group named '" + name + "'");
}

Status XrayConfigStore::DeleteGroup(const std::string& name_in, const std::string& arn) {
  ARIADNE_ASSIGN_OR_RETURN(std::string name, ResolveGroupName(name_in, arn));
  if (name == "Default") return Status::InvalidArgument("the Default group cannot be deleted");
  std::lock_guard<std::mutex> lock(mu_);
  ARIADNE_RETURN_IF_ERROR(ReloadForEditLocked());
  auto it = std::find_if(groups_.begin(), groups_.end(),
                         [&](const XrayGroup& g) { return g.name == name; });
  if (it == groups_.end())
    return Status::NotFound("Group not found: no group named '" + name + "'");
  XrayGroup removed = *it;
  const std::string arn_of_removed = GroupArn(removed);
  groups_.erase(it);
  auto tags = tags_.extract(arn_of_removed);
  Status saved = SaveLocked();
  if (!saved.ok()) {
    groups_.push_back(removed);
    if (!tags.empty()) tags_.insert(std::move(tags));
    return saved;
  }
  return Status::Ok();
}

std::vector<XrayGroup> XrayConfigStore::Groups() const {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  std::vector<XrayGroup> out;
  out.push_back(XrayGroup{"Default", "", "", false, false});
  std::vector<XrayGroup> sorted = groups_;
  std::sort(sorted.begin(), sorted.end(),
            [](const XrayGroup& a, const XrayGroup& b) { return a.name < b.name; });
  out.insert(out.end(), sorted.begin(), sorted.end());
  return out;
}

Status ValidateTags(const Tags& tags, size_t existing) {
  if (tags.size() + existing > 50) {
    return Status::InvalidArgument("a resource may carry at most 50 tags");
  }
  for (const auto& [key, value] : tags) {
    if (key.empty() || key.size() > 128) {
      return Status::InvalidArgument("tag key '" + key + "' must be 1-128 characters");
    }
    if (value.size() > 256) {
      return Status::InvalidArgument("the value of tag '" + key +
                                     "' is longer than 256 characters");
    }
    if (key.rfind("aws:", 0) == 0) {
      return Status::InvalidArgument("tag key '" + key + "': the aws: prefix is reserved");
    }
  }
  return Status::Ok();
}

bool XrayConfigStore::ResourceExistsLocked(const std::string& arn) const {
  for (const SamplingRule& r : rules_) {
    if (RuleArn(r.rule_name) == arn) return true;
  }
  for (const XrayGroup& g : groups_) {
    if (GroupArn(g) == arn) return true;
  }
  return false;
}

Result<Tags> XrayConfigStore::ListTags(const std::string& arn) const {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  if (!ResourceExistsLocked(arn)) {
    return Status::NotFound("no group or sampling rule has the ARN '" + arn + "'");
  }
  auto it = tags_.find(arn);
  return it == tags_.end() ? Tags{} : it->second;
}

Status XrayConfigStore::TagResource(const std::string& arn, const Tags& tags) {
  std::lock_guard<std::mutex> lock(mu_);
  ARIADNE_RETURN_IF_ERROR(ReloadForEditLocked());
  if (!ResourceExistsLocked(arn)) {
    return Status::NotFound("no group or sampling rule has the ARN '" + arn + "'");
  }
  Tags merged = tags_.count(arn) ? tags_[arn] : Tags{};
  for (const auto& [k, v] : tags) merged[k] = v;
  ARIADNE_RETURN_IF_ERROR(ValidateTags(merged));
  Tags old = tags_[arn];
  tags_[arn] = merged;
  Status saved = SaveLocked();
  if (!saved.ok()) tags_[arn] = old;
  return saved;
}

Status XrayConfigStore::UntagResource(const std::string& arn,
                                      const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  ARIADNE_RETURN_IF_ERROR(ReloadForEditLocked());
  if (!ResourceExistsLocked(arn)) {
    return Status::NotFound("no group or sampling rule has the ARN '" + arn + "'");
  }
  Tags old = tags_[arn];
  for (const std::string& key : keys) tags_[arn].erase(key);
  Status saved = SaveLocked();
  if (!saved.ok()) tags_[arn] = old;
  return saved;
}

EncryptionSettings XrayConfigStore::Encryption() const {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  return encryption_;
}

Status XrayConfigStore::SetEncryption(const EncryptionSettings& settings) {
  if (settings.type != "NONE" && settings.type != "KMS") {
    return Status::InvalidArgument("Type must be NONE or KMS, got '" + settings.type + "'");
  }
  if (settings.type == "KMS" && settings.key_id.empty()) {
    return Status::InvalidArgument("KeyId is required when Type is KMS");
  }
  std::lock_guard<std::mutex> lock(mu_);
  ARIADNE_RETURN_IF_ERROR(ReloadForEditLocked());
  EncryptionSettings old = encryption_;
  encryption_ = settings;
  if (settings.type == "NONE") encryption_.key_id.clear();
  Status saved = SaveLocked();
  if (!saved.ok()) encryption_ = old;
  return saved;
}

std::string XrayConfigStore::Destination() const {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  return destination_;
}

Status XrayConfigStore::SetDestination(const std::string& destination) {
  if (destination != "XRay" && destination != "CloudWatchLogs") {
    return Status::InvalidArgument("Destination must be XRay or CloudWatchLogs, got '" +
                                   destination + "'");
  }
  std::lock_guard<std::mutex> lock(mu_);
  ARIADNE_RETURN_IF_ERROR(ReloadForEditLocked());
  std::string old = destination_;
  destination_ = destination;
  Status saved = SaveLocked();
  if (!saved.ok()) destination_ = old;
  return saved;
}

}  // namespace ariadne::sampling
