#include "sampling/sampling_targets.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>

namespace ariadne::sampling {

double SystemClockSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

SamplingRule DefaultRule() {
  SamplingRule rule;
  rule.rule_name = kDefaultRuleName;
  rule.priority = 10000;
  rule.fixed_rate = 0.05;
  rule.reservoir_size = 1;
  rule.created_at = 0;
  rule.modified_at = 0;
  return rule;
}

namespace {

Status FieldTooLong(const char* field, size_t max, size_t got) {
  return Status::InvalidArgument(std::string(field) + " must be at most " + std::to_string(max) +
                                 " characters, got " + std::to_string(got));
}

}  // namespace

Status ValidateRule(const SamplingRule& rule) {
  if (rule.rule_name.empty()) return Status::InvalidArgument("RuleName is required");
  if (rule.rule_name.size() > 32) return FieldTooLong("RuleName", 32, rule.rule_name.size());
  for (char c : rule.rule_name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      return Status::InvalidArgument(
          "RuleName may contain only letters, digits, '-' and '_', got '" + rule.rule_name + "'");
    }
  }
  const bool is_default = rule.rule_name == kDefaultRuleName;
  if (!is_default && (rule.priority < 1 || rule.priority > 9999)) {
    return Status::InvalidArgument("Priority must be between 1 and 9999, got " +
                                   std::to_string(rule.priority));
  }
  if (!(rule.fixed_rate >= 0 && rule.fixed_rate <= 1)) {
    return Status::InvalidArgument("FixedRate must be between 0 and 1, got " +
                                   std::to_string(rule.fixed_rate));
  }
  if (rule.reservoir_size < 0) {
    return Status::InvalidArgument("ReservoirSize must be 0 or more, got " +
                                   std::to_string(rule.reservoir_size));
  }
  if (rule.resource_arn.empty()) return Status::InvalidArgument("ResourceARN is required");
  if (rule.resource_arn.size() > 500)
    return FieldTooLong("ResourceARN", 500, rule.resource_arn.size());
  struct Limit {
    const char* field;
    const std::string* value;
    size_t max;
  };
  const Limit limits[] = {{"ServiceName", &rule.service_name, 64},
                          {"ServiceType", &rule.service_type, 64},
                          {"Host", &rule.host, 64},
                          {"HTTPMethod", &rule.http_method, 10},
                          {"URLPath", &rule.url_path, 128}};
  for (const Limit& l : limits) {
    if (l.value->empty()) return Status::InvalidArgument(std::string(l.field) + " is required");
    if (l.value->size() > l.max) return FieldTooLong(l.field, l.max, l.value->size());
  }
  if (rule.version != 1) {
    return Status::InvalidArgument("Version must be 1, got " + std::to_string(rule.version));
  }
  if (rule.attributes.size() > 5) {
    return Status::InvalidArgument("Attributes may hold at most 5 entries");
  }
  for (const auto& [k, v] : rule.attributes) {
    if (k.empty() || k.size() > 32 || v.empty() || v.size() > 32) {
      return Status::InvalidArgument("Attributes keys and values must be 1-32 characters");
    }
  }
  if (rule.boost_max_rate && !(*rule.boost_max_rate >= 0 && *rule.boost_max_rate <= 1)) {
    return Status::InvalidArgument("SamplingRateBoost.MaxRate must be between 0 and 1");
  }
  if (rule.boost_cooldown_minutes && *rule.boost_cooldown_minutes < 0) {
    return Status::InvalidArgument("SamplingRateBoost.CooldownWindowMinutes must be 0 or more");
  }
  return Status::Ok();
}

bool RuleOrder(const SamplingRule& a, const SamplingRule& b) {
  if (a.priority != b.priority) return a.priority < b.priority;
  return a.rule_name < b.rule_name;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single-star backtracking.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  auto eq = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || eq(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

SamplingTargets::SamplingTargets(Clock clock, SamplingOptions options)
    : clock_(std::move(clock)), options_(options) {}

TargetsReply SamplingTargets::Compute(const std::vector<StatisticsDocument>& docs,
                                      const std::vector<SamplingRule>& rules) {
  TargetsReply reply;
  for (const SamplingRule& r : rules) {
    reply.last_rule_modification = std::max(reply.last_rule_modification, r.modified_at);
  }
  const double now = clock_();
  const int64_t interval = options_.interval_s;
  const int64_t window_index = static_cast<int64_t>(std::floor(now / interval));
  // Other nodes' clients of these rules (outside the lock: it is a round trip).
  std::map<std::string, std::vector<std::string>> fleet_clients;
  if (fleet_ != nullptr) {
    std::vector<StatisticsDocument> valid;
    for (const StatisticsDocument& doc : docs)
      if (!Refuse(doc, rules, now)) valid.push_back(doc);
    if (!valid.empty()) {
      auto listed = fleet_->RecordAndListActive(valid, now, now - options_.active_window_s);
      if (listed.ok()) {
        fleet_clients = std::move(listed).value();
      } else {
        fleet_errors_.fetch_add(1);
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);

  // Record every document first so a batch from several clients counts them all as active.
  std::vector<const StatisticsDocument*> accepted;
  std::vector<const SamplingRule*> accepted_rules;
  for (const StatisticsDocument& doc : docs) {
    if (auto refused = Refuse(doc, rules, now)) {
      reply.unprocessed.push_back(*refused);
      continue;
    }
    auto rule = std::find_if(rules.begin(), rules.end(),
                             [&](const SamplingRule& r) { return r.rule_name == doc.rule_name; });
    RuleState& state = rules_[doc.rule_name];
    ClientState& client = state.clients[doc.client_id];
    client.last_report = now;
    client.last = StatisticSummary{doc.rule_name, now, doc.request_count, doc.sampled_count,
                                   doc.borrow_count};
    const double window_start = static_cast<double>(window_index * interval);
    if (state.windows.empty() || state.windows.back().timestamp != window_start) {
      state.windows.push_back(StatisticSummary{doc.rule_name, window_start, 0, 0, 0});
      while (state.windows.size() > options_.windows_kept) state.windows.pop_front();
    }
    StatisticSummary& w = state.windows.back();
    w.request_count += doc.request_count;
    w.sampled_count += doc.sampled_count;
    w.borrow_count += doc.borrow_count;
    accepted.push_back(&doc);
    accepted_rules.push_back(&*rule);
  }

  for (size_t k = 0; k < accepted.size(); ++k) {
    const StatisticsDocument& doc = *accepted[k];
    const SamplingRule& rule = *accepted_rules[k];
    RuleState& state = rules_[doc.rule_name];
    // Active clients, sorted by id (std::map order); drop the departed ones.
    std::vector<std::string> active;
    for (auto it = state.clients.begin(); it != state.clients.end();) {
      if (now - it->second.last_report > options_.active_window_s) {
        it = state.clients.erase(it);
      } else {
        active.push_back(it->first);
        ++it;
      }
    }
    // With a fleet: every client that reported the rule to any node, in the same (sorted) order
    // on every node, so the nodes hand out disjoint shares of one reservoir.
    if (auto fleet = fleet_clients.find(doc.rule_name); fleet != fleet_clients.end()) {
      active.insert(active.end(), fleet->second.begin(), fleet->second.end());
      std::sort(active.begin(), active.end());
      active.erase(std::unique(active.begin(), active.end()), active.end());
    }
    const int64_t n = std::max<int64_t>(1, static_cast<int64_t>(active.size()));
    const int64_t position =
        std::find(active.begin(), active.end(), doc.client_id) - active.begin();
    const int64_t base = rule.reservoir_size / n;
    const int64_t remainder = rule.reservoir_size % n;
    // Rotate which clients get the extra units every window.
    const int64_t slot = ((position - window_index) % n + n) % n;
    TargetDocument target;
    target.rule_name = rule.rule_name;
    target.fixed_rate = rule.fixed_rate;
    target.reservoir_quota = base + (slot < remainder ? 1 : 0);
    target.reservoir_quota_ttl = std::floor(now + options_.quota_ttl_s);
    target.interval = interval;
    reply.targets.push_back(target);
  }
  return reply;
}

std::optional<UnprocessedStatistics> SamplingTargets::Refuse(const StatisticsDocument& doc,
                                                             const std::vector<SamplingRule>& rules,
                                                             double now) const {
  auto rule = std::find_if(rules.begin(), rules.end(),
                           [&](const SamplingRule& r) { return r.rule_name == doc.rule_name; });
  if (rule == rules.end()) {
    return UnprocessedStatistics{doc.rule_name, "400",
                                 "no sampling rule named '" + doc.rule_name + "'"};
  }
  if (std::fabs(doc.timestamp - now) > options_.max_timestamp_skew_s) {
    return UnprocessedStatistics{doc.rule_name, "400",
                                 "Timestamp " +
                                     std::to_string(static_cast<int64_t>(doc.timestamp)) +
                                     " is more than an hour away from the server's clock"};
  }
  if (doc.request_count < 0 || doc.sampled_count < 0 || doc.borrow_count < 0) {
    return UnprocessedStatistics{doc.rule_name, "400", "counts must be 0 or more"};
  }
  return std::nullopt;
}

std::vector<StatisticSummary> SamplingTargets::Summaries() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StatisticSummary> out;
  for (const auto& [name, state] : rules_) {
    if (!state.windows.empty()) out.push_back(state.windows.back());
  }
  return out;
}

std::optional<StatisticSummary> SamplingTargets::Latest(const std::string& rule_name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rules_.find(rule_name);
  if (it == rules_.end() || it->second.clients.empty()) return std::nullopt;
  double newest = 0;
  for (const auto& [id, c] : it->second.clients) newest = std::max(newest, c.last_report);
  StatisticSummary sum{rule_name, newest, 0, 0, 0};
  for (const auto& [id, c] : it->second.clients) {
    if (newest - c.last_report > options_.active_window_s) continue;
    sum.request_count += c.last.request_count;
    sum.sampled_count += c.last.sampled_count;
    sum.borrow_count += c.last.borrow_count;
  }
  return sum;
}

bool SamplingTargets::HasStatistics() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !rules_.empty();
}

std::vector<StatisticSummary> SamplingTargets::History(const std::string& rule_name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rules_.find(rule_name);
  if (it == rules_.end()) return {};
  return {it->second.windows.begin(), it->second.windows.end()};
}

size_t SamplingTargets::ActiveClients(const std::string& rule_name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rules_.find(rule_name);
  if (it == rules_.end()) return 0;
  const double now = clock_();
  size_t n = 0;
  for (const auto& [id, c] : it->second.clients) {
    if (now - c.last_report <= options_.active_window_s) ++n;
  }
  return n;
}

}  // namespace ariadne::sampling
