#include "ariadne/sdk/xray_sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include <nlohmann/json.hpp>

#include "internal/env.h"
#include "internal/hex.h"
#include "internal/http_client.h"

namespace ariadne::sdk {

bool XRayWildcardMatch(std::string_view pattern, std::string_view text) {
  if (pattern == "*") return true;
  // Iterative glob with backtracking to the last `*`.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || internal::AsciiLower(pattern[p]) == internal::AsciiLower(text[t]))) {
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

namespace {

// An empty request value counts as a match (protocols.md §6.1).
bool FieldMatches(const std::string& pattern, std::string_view value) {
  return value.empty() || XRayWildcardMatch(pattern, value);
}

std::string_view Attr(const SamplingParams& p, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    for (const KeyValueArg& kv : p.attributes) {
      if (kv.key == k && kv.value.is_string()) return kv.value.string_value();
    }
  }
  return {};
}

void CopyRuleName(const std::string& name, SamplingResult& r) {
  const size_t n = std::min(name.size(), sizeof(r.rule_name) - 1);
  std::memcpy(r.rule_name, name.data(), n);
  r.rule_name[n] = '\0';
}

constexpr double kRulesCacheTtl = 3600;  // seconds

}  // namespace

XRaySamplerOptions XRaySamplerOptions::FromEnvironment(std::string service_name) {
  XRaySamplerOptions o;
  XRayDaemonAddress a = XRayDaemonAddressFromEnvironment();
  o.endpoint = "http://" + a.tcp_host + ":" + std::to_string(a.tcp_port);
  o.service_name = std::move(service_name);
  return o;
}

XRayRemoteSampler::XRayRemoteSampler(XRaySamplerOptions options) : options_(std::move(options)) {
  std::random_device rd;
  rng_state_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  uint8_t id[12];
  for (uint8_t& b : id) b = static_cast<uint8_t>(rd());
  client_id_.resize(24);
  internal::EncodeHex(id, 12, client_id_.data());
  if (options_.start_poller) poller_ = std::thread([this] { PollLoop(); });
}

XRayRemoteSampler::~XRayRemoteSampler() {
  {
    std::lock_guard lock(poll_mu_);
    stop_ = true;
  }
  poll_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

double XRayRemoteSampler::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double XRayRemoteSampler::Random() {
  if (options_.random) return options_.random();
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

bool XRayRemoteSampler::UsingFallbackLocked(double now) const {
  return rules_.empty() || last_rules_fetch_ < 0 || now - last_rules_fetch_ > kRulesCacheTtl;
}

bool XRayRemoteSampler::UsingFallback() const {
  std::lock_guard lock(mu_);
  return UsingFallbackLocked(Now());
}

SamplingResult XRayRemoteSampler::ShouldSample(const SamplingParams& params) {
  std::string_view service = Attr(params, {"aws.xray.segment_name"});
  std::string_view host = Attr(params, {"http.host", "server.address", "net.host.name"});
  std::string_view method = Attr(params, {"http.method", "http.request.method"});
  std::string_view path = Attr(params, {"http.target", "url.path"});
  path = path.substr(0, path.find('?'));
  return Decide(service.empty() ? std::string_view(options_.service_name) : service, host, method,
                path);
}

SamplingResult XRayRemoteSampler::Decide(std::string_view service_name, std::string_view host,
                                         std::string_view method, std::string_view path) {
  SamplingResult result;
  const double now = Now();
  const int64_t second = static_cast<int64_t>(std::floor(now));
  std::lock_guard lock(mu_);
  auto local_default = [&] {
    // Local default: 1 request per second, then 5 %.
    if (second != fallback_second_) {
      fallback_second_ = second;
      fallback_taken_ = 0;
    }
    if (fallback_taken_ < 1) {
      ++fallback_taken_;
      result.decision = SamplingDecision::kRecordAndSample;
    } else if (Random() < 0.05) {
      result.decision = SamplingDecision::kRecordAndSample;
    }
    return result;
  };
  if (UsingFallbackLocked(now)) return local_default();
  for (RuleState& r : rules_) {
    const XRaySamplingRule& rule = r.rule;
    if (!FieldMatches(rule.service_name, service_name) ||
        !FieldMatches(rule.service_type, options_.service_type) || !FieldMatches(rule.host, host) ||
        !FieldMatches(rule.http_method, method) || !FieldMatches(rule.url_path, path)) {
      continue;
    }
    ++r.request_count;
    if (second != r.current_second) {
      r.current_second = second;
      r.taken_this_second = 0;
      r.borrowed_this_second = 0;
    }
    bool sample = false;
    if (r.quota && now <= r.quota_ttl) {
      if (r.taken_this_second < *r.quota) {
        ++r.taken_this_second;
        ++r.sampled_count;
        sample = true;
      }
    } else if (rule.reservoir_size > 0) {
      if (r.borrowed_this_second < 1) {
        ++r.borrowed_this_second;
        ++r.borrow_count;
        sample = true;
      }
    }
    if (!sample && Random() < rule.fixed_rate) {
      ++r.sampled_count;
      sample = true;
    }
    if (sample) {
      result.decision = SamplingDecision::kRecordAndSample;
      CopyRuleName(rule.name, result);
    }
    return result;
  }
  return local_default();  // no rule matched (the server sent no Default rule)
}

bool XRayRemoteSampler::ApplyRulesResponse(std::string_view body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return false;
  auto records = doc.find("SamplingRuleRecords");
  if (records == doc.end() || !records->is_array()) return false;
  std::vector<XRaySamplingRule> parsed;
  for (const auto& record : *records) {
    if (!record.is_object() || !record.contains("SamplingRule")) continue;
    const auto& r = record["SamplingRule"];
    if (!r.is_object()) continue;
    try {
      // Only rules the SDKs can evaluate: Version 1, ResourceARN "*", no Attributes.
      if (r.value("Version", 0) != 1) continue;
      if (r.value("ResourceARN", std::string()) != "*") continue;
      if (r.contains("Attributes") && r["Attributes"].is_object() && !r["Attributes"].empty()) {
        continue;
      }
      if (!r.contains("RuleName") || !r["RuleName"].is_string()) continue;
      if (!r.contains("FixedRate") || !r["FixedRate"].is_number()) continue;
      if (!r.contains("ServiceType")) continue;
      XRaySamplingRule rule;
      rule.name = r["RuleName"].get<std::string>();
      rule.priority = r.value("Priority", 10000);
      rule.fixed_rate = r["FixedRate"].get<double>();
      rule.reservoir_size = r.value("ReservoirSize", int64_t{0});
      rule.service_name = r.value("ServiceName", std::string("*"));
      rule.service_type = r.value("ServiceType", std::string("*"));
      rule.host = r.value("Host", std::string("*"));
      rule.http_method = r.value("HTTPMethod", std::string("*"));
      rule.url_path = r.value("URLPath", std::string("*"));
      parsed.push_back(std::move(rule));
    } catch (const nlohmann::json::exception&) {
      continue;  // a field of the wrong type: skip the rule, as the SDKs do
    }
  }
  std::sort(parsed.begin(), parsed.end(), [](const auto& a, const auto& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.name < b.name;
  });
  const double now = Now();
  std::lock_guard lock(mu_);
  std::vector<RuleState> next;
  for (auto& rule : parsed) {
    RuleState state;
    // Keep the reservoir and statistics of a rule we already knew.
    for (RuleState& old : rules_) {
      if (old.rule.name == rule.name) state = old;
    }
    state.rule = std::move(rule);
    next.push_back(std::move(state));
  }
  rules_ = std::move(next);
  last_rules_fetch_ = now;
  return true;
}

std::optional<std::string> XRayRemoteSampler::TakeStatisticsRequest() {
  const double now = Now();
  nlohmann::json docs = nlohmann::json::array();
  {
    std::lock_guard lock(mu_);
    if (UsingFallbackLocked(now)) return std::nullopt;
    for (RuleState& r : rules_) {
      if (r.request_count == 0) continue;
      if (now < r.last_report + r.interval) continue;
      docs.push_back({{"RuleName", r.rule.name},
                      {"ClientID", client_id_},
                      {"Timestamp", static_cast<int64_t>(now)},
                      {"RequestCount", r.request_count},
                      {"SampledCount", r.sampled_count},
                      {"BorrowCount", r.borrow_count}});
      r.request_count = r.sampled_count = r.borrow_count = 0;
      r.last_report = now;
    }
  }
  if (docs.empty()) return std::nullopt;
  nlohmann::json body = {{"SamplingStatisticsDocuments", docs}};
  return body.dump();
}

bool XRayRemoteSampler::ApplyTargetsResponse(std::string_view body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return false;
  std::lock_guard lock(mu_);
  if (auto targets = doc.find("SamplingTargetDocuments");
      targets != doc.end() && targets->is_array()) {
    for (const auto& t : *targets) {
      if (!t.is_object() || !t.contains("RuleName") || !t["RuleName"].is_string()) continue;
      const std::string name = t["RuleName"].get<std::string>();
      for (RuleState& r : rules_) {
        if (r.rule.name != name) continue;
        if (t.contains("FixedRate") && t["FixedRate"].is_number()) {
          r.rule.fixed_rate = t["FixedRate"].get<double>();
        }
        if (t.contains("ReservoirQuota") && t["ReservoirQuota"].is_number()) {
          r.quota = t["ReservoirQuota"].get<int64_t>();
        }
        if (t.contains("ReservoirQuotaTTL") && t["ReservoirQuotaTTL"].is_number()) {
          r.quota_ttl = t["ReservoirQuotaTTL"].get<double>();
        }
        if (t.contains("Interval") && t["Interval"].is_number()) {
          r.interval = t["Interval"].get<double>();
        }
      }
    }
  }
  if (auto lrm = doc.find("LastRuleModification"); lrm != doc.end() && lrm->is_number()) {
    if (lrm->get<double>() > last_rules_fetch_) refresh_rules_now_ = true;
  }
  return true;
}

std::vector<XRayRemoteSampler::RuleSnapshot> XRayRemoteSampler::Rules() const {
  std::lock_guard lock(mu_);
  std::vector<RuleSnapshot> out;
  for (const RuleState& r : rules_) {
    out.push_back({r.rule, r.request_count, r.sampled_count, r.borrow_count, r.quota, r.quota_ttl});
  }
  return out;
}

bool XRayRemoteSampler::RefreshRules() {
  internal::HttpClient client;
  client.set_ca_file(options_.ca_file);
  internal::HttpResponse r =
      client.Post(options_.endpoint + "/GetSamplingRules", {{"Content-Type", "application/json"}},
                  "{}", std::chrono::seconds(5));
  if (r.status != 200) return false;
  const bool ok = ApplyRulesResponse(r.body);
  if (ok) {
    ++rule_fetches_;
    refresh_rules_now_ = false;
  }
  return ok;
}

bool XRayRemoteSampler::RefreshTargets() {
  std::optional<std::string> body = TakeStatisticsRequest();
  if (!body) return true;  // nothing due
  internal::HttpClient client;
  client.set_ca_file(options_.ca_file);
  internal::HttpResponse r =
      client.Post(options_.endpoint + "/SamplingTargets", {{"Content-Type", "application/json"}},
                  *body, std::chrono::seconds(5));
  if (r.status != 200) return false;
  const bool ok = ApplyTargetsResponse(r.body);
  if (ok) ++target_fetches_;
  return ok;
}

void XRayRemoteSampler::PollLoop() {
  using Clock = std::chrono::steady_clock;
  std::mt19937 jitter_rng(std::random_device{}());
  auto next_rules = Clock::now();
  auto next_targets = Clock::now() + options_.targets_interval;
  for (;;) {
    {
      std::unique_lock lock(poll_mu_);
      const auto wake = std::min(next_rules, next_targets);
      if (poll_cv_.wait_until(lock, wake, [&] { return stop_; })) return;
    }
    const auto now = Clock::now();
    if (now >= next_rules || refresh_rules_now_) {
      const bool ok = RefreshRules();
      std::uniform_int_distribution<int> jitter(0, 5000);
      next_rules =
          ok ? now + options_.rules_interval + std::chrono::milliseconds(jitter(jitter_rng))
             : now + options_.targets_interval;
    }
    if (now >= next_targets) {
      RefreshTargets();
      std::uniform_int_distribution<int> jitter(0, 100);
      next_targets =
          now + options_.targets_interval + std::chrono::milliseconds(jitter(jitter_rng));
      if (refresh_rules_now_) next_rules = now;
    }
  }
}

}  // namespace ariadne::sdk
