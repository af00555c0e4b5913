// X-Ray centralized sampling, server side: sampling rules (shape, validation, matching order) and
// the GetSamplingTargets computation (protocols.md §6.2).
//
// Reservoir split: a rule's ReservoirSize (traces per second across all clients) is divided among
// the clients that reported statistics for it within the last `active_window_s` seconds: every
// client gets floor(R / n) and the R mod n remaining units go to clients in turn, rotating every
// Interval, so the sum handed out never exceeds R and small reservoirs (R < n) are shared fairly
// over time. A quota is valid for `quota_ttl_s`; clients above their quota apply FixedRate, and a
// client whose quota lapsed borrows 1/s (client side). Statistics are summed per rule in
// Interval-long windows for GetSamplingStatisticSummaries.
//
// Threads: SamplingTargets is internally locked; all methods may be called concurrently. The clock
// is injected (epoch seconds) so tests are deterministic.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace ariadne::sampling {

using Clock = std::function<double()>;  // epoch seconds
double SystemClockSeconds();

struct SamplingRule {
  std::string rule_name;
  std::string resource_arn = "*";
  int64_t priority = 0;
  double fixed_rate = 0;
  int64_t reservoir_size = 0;
  std::string service_name = "*";
  std::string service_type = "*";
  std::string host = "*";
  std::string http_method = "*";
  std::string url_path = "*";
  int64_t version = 1;
  std::map<std::string, std::string> attributes;
  std::optional<double> boost_max_rate;
  std::optional<int64_t> boost_cooldown_minutes;
  double created_at = 0;
  double modified_at = 0;
};

inline constexpr const char* kDefaultRuleName = "Default";
SamplingRule DefaultRule();

// Checks a rule as X-Ray does; the message names the field ("Priority must be between 1 and
// 9999, got 10000"). The Default rule is exempt from the priority range.
Status ValidateRule(const SamplingRule& rule);

// Priority ascending, then RuleName ascending (the order clients apply rules in).
bool RuleOrder(const SamplingRule& a, const SamplingRule& b);

// X-Ray's glob: '*' any run (including empty), '?' exactly one character, case-insensitive.
bool GlobMatch(std::string_view pattern, std::string_view text);

struct StatisticsDocument {
  std::string rule_name;
  std::string client_id;
  double timestamp = 0;
  int64_t request_count = 0;
  int64_t sampled_count = 0;
  int64_t borrow_count = 0;
};

struct TargetDocument {
  std::string rule_name;
  double fixed_rate = 0;
  int64_t reservoir_quota = 0;
  double reservoir_quota_ttl = 0;  // epoch seconds
  int64_t interval = 10;
};

struct UnprocessedStatistics {
  std::string rule_name;
  std::string error_code;  // "400"
  std::string message;
};

struct TargetsReply {
  std::vector<TargetDocument> targets;
  std::vector<UnprocessedStatistics> unprocessed;
  double last_rule_modification = 0;
};

struct StatisticSummary {
  std::string rule_name;
  double timestamp = 0;  // window start
  int64_t request_count = 0;
  int64_t sampled_count = 0;  // SampledCount as reported (excluding borrows)
  int64_t borrow_count = 0;
};

struct SamplingOptions {
  int64_t interval_s = 10;
  double active_window_s = 30;  // a client counts as active this long after its last report
  double quota_ttl_s = 30;
  double max_timestamp_skew_s = 3600;  // statistics older/newer than this are rejected
  size_t windows_kept = 360;           // per rule (an hour of 10-s windows)
};

// Statistics shared by several nodes (the ClickHouse table xray_sampling_stats,
// store/clickhouse/xray_config_table.h), so a rule's reservoir is split among every client of the
// fleet, not of one node. Called without SamplingTargets' lock held.
class FleetStatistics {
 public:
  virtual ~FleetStatistics() = default;
  // Records this node's accepted `docs` (received at `now`) and returns, per rule of `docs`, the
  // ids of the clients that reported it to any node at or after `since`.
  virtual Result<std::map<std::string, std::vector<std::string>>> RecordAndListActive(
      const std::vector<StatisticsDocument>& docs, double now, double since) = 0;
};

class SamplingTargets {
 public:
  explicit SamplingTargets(Clock clock = SystemClockSeconds, SamplingOptions options = {});

  // Shares the reservoir split with other nodes through `fleet` (not owned; null = this node's
  // clients only). When the fleet cannot be reached the split falls back to this node's clients
  // (and fleet_errors() counts it). Set before the first Compute.
  void SetFleet(FleetStatistics* fleet) { fleet_ = fleet; }
  uint64_t fleet_errors() const { return fleet_errors_.load(); }

  // Records `docs` and computes one target per document whose rule exists in `rules`.
  TargetsReply Compute(const std::vector<StatisticsDocument>& docs,
                       const std::vector<SamplingRule>& rules);

  // Per rule, the most recent window with statistics, in rule-name order.
  std::vector<StatisticSummary> Summaries() const;
  // The latest reporting interval of one rule: the last report of every client that reported
  // within active_window_s of the rule's most recent report, summed (timestamp: the most recent
  // report). Each SDK's own 10-s interval, so neither the server's window boundaries nor clients
  // that have not reported yet in the current window skew it. nullopt when none ever reported.
  std::optional<StatisticSummary> Latest(const std::string& rule_name) const;
  // True once any rule has statistics (a cheap gate for the sample weights).
  bool HasStatistics() const;
  // Every kept window of one rule, oldest first.
  std::vector<StatisticSummary> History(const std::string& rule_name) const;

  // Active clients of a rule right now (for tests and the API).
  size_t ActiveClients(const std::string& rule_name) const;

 private:
  struct ClientState {
    double last_report = 0;
    StatisticSummary last;  // the counts of its last report
  };
  struct RuleState {
    std::map<std::string, ClientState> clients;
    std::deque<StatisticSummary> windows;
  };

  // The reason a document is refused, or nullopt.
  std::optional<UnprocessedStatistics> Refuse(const StatisticsDocument& doc,
                                              const std::vector<SamplingRule>& rules,
                                              double now) const;

  Clock clock_;
  SamplingOptions options_;
  FleetStatistics* fleet_ = nullptr;
  std::atomic<uint64_t> fleet_errors_{0};
  mutable std::mutex mu_;
  std::map<std::string, RuleState> rules_;
};

}  // namespace ariadne::sampling
