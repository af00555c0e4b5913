// X-Ray centralized ("remote") sampling, as the X-Ray SDKs do it (protocols.md §6.1):
//   - polls POST /GetSamplingRules on the daemon's TCP address at start and every 5 minutes
//     (failed polls are retried every targets interval so a late daemon is picked up quickly),
//   - polls POST /SamplingTargets every 10 s with per-rule statistics (requests, sampled,
//     borrowed) and applies the returned FixedRate / ReservoirQuota / ReservoirQuotaTTL /
//     Interval, refetching rules when LastRuleModification is newer than the last fetch,
//   - decides per request with the first matching rule (priority, then name): reservoir quota
//     while fresh, else borrow one per second until a quota arrives, else FixedRate,
//   - falls back to the local default (1 request/s reservoir + 5 %) when no rules were ever
//     fetched or the last successful fetch is more than an hour old.
// Matching uses the request's service name (attribute aws.xray.segment_name, else the configured
// name), service type, host (attribute http.host, including the port), method (http.method) and
// path (http.target without the query), with X-Ray globs (`*`, `?`, case-insensitive).
//
// Threads: ShouldSample from any thread (a short mutex); the poller runs on its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ariadne/sdk/sampler.h"
#include "ariadne/sdk/xray_exporter.h"

namespace ariadne::sdk {

// X-Ray's glob: `*` any run (also empty), `?` exactly one character, case-insensitive. A pattern
// of just `*` matches anything.
bool XRayWildcardMatch(std::string_view pattern, std::string_view text);

struct XRaySamplingRule {
  std::string name;
  int priority = 10000;
  double fixed_rate = 0.05;
  int64_t reservoir_size = 1;
  std::string service_name = "*";
  std::string service_type = "*";
  std::string host = "*";
  std::string http_method = "*";
  std::string url_path = "*";
};

struct XRaySamplerOptions {
  // Base URL of the daemon's TCP proxy, e.g. http://127.0.0.1:2000.
  std::string endpoint = "http://127.0.0.1:2000";
  // For an https:// endpoint (an X-Ray port of `ariadne serve` with TLS): PEM CA certificate(s);
  // empty = the system's trust store.
  std::string ca_file;
  // The segment name used when a request carries no aws.xray.segment_name.
  std::string service_name;
  std::string service_type;  // origin, e.g. AWS::EC2::Instance; empty without plugins
  // Epoch seconds; tests inject a fake clock.
  std::function<double()> now;
  // Uniform in [0, 1); tests inject a fixed sequence.
  std::function<double()> random;
  bool start_poller = true;
  std::chrono::milliseconds rules_interval{300000};
  std::chrono::milliseconds targets_interval{10000};

  // Endpoint from AWS_XRAY_DAEMON_ADDRESS (its TCP part).
  static XRaySamplerOptions FromEnvironment(std::string service_name);
};

class XRayRemoteSampler final : public Sampler {
 public:
  explicit XRayRemoteSampler(XRaySamplerOptions options);
  ~XRayRemoteSampler() override;

  SamplingResult ShouldSample(const SamplingParams& params) override;
  std::string Description() const override { return "XRayRemoteSampler"; }

  // Request-level decision, for callers that have the fields at hand.
  SamplingResult Decide(std::string_view service_name, std::string_view host,
                        std::string_view method, std::string_view path);

  // One poll of each endpoint (the poller thread calls these; tests may too). True on success.
  bool RefreshRules();
  bool RefreshTargets();

  // Apply a GetSamplingRules / SamplingTargets response body (JSON). False when malformed.
  bool ApplyRulesResponse(std::string_view body);
  bool ApplyTargetsResponse(std::string_view body);
  // The SamplingTargets request body for the statistics due now; resets their counters. Empty
  // optional when nothing is due.
  std::optional<std::string> TakeStatisticsRequest();

  // Introspection for tests and diagnostics.
  struct RuleSnapshot {
    XRaySamplingRule rule;
    int64_t request_count = 0;
    int64_t sampled_count = 0;
    int64_t borrow_count = 0;
    std::optional<int64_t> quota;
    double quota_ttl = 0;
  };
  std::vector<RuleSnapshot> Rules() const;
  bool UsingFallback() const;
  const std::string& client_id() const { return client_id_; }
  uint64_t rule_fetches() const { return rule_fetches_; }
  uint64_t target_fetches() const { return target_fetches_; }

 private:
  struct RuleState {
    XRaySamplingRule rule;
    // reservoir
    std::optional<int64_t> quota;
    double quota_ttl = 0;
    int64_t current_second = -1;
    int64_t taken_this_second = 0;
    int64_t borrowed_this_second = 0;
    // statistics since the last report
    int64_t request_count = 0;
    int64_t sampled_count = 0;
    int64_t borrow_count = 0;
    double interval = 10;
    double last_report = 0;
  };
  double Now() const;
  double Random();
  bool UsingFallbackLocked(double now) const;
  void PollLoop();

  XRaySamplerOptions options_;
  std::string client_id_;
  mutable std::mutex mu_;
  std::vector<RuleState> rules_;  // sorted by priority, name
  double last_rules_fetch_ = -1;  // epoch seconds of the last successful fetch
  // local fallback reservoir (1/s)
  int64_t fallback_second_ = -1;
  int64_t fallback_taken_ = 0;
  uint64_t rng_state_;
  std::atomic<uint64_t> rule_fetches_{0};
  std::atomic<uint64_t> target_fetches_{0};
  std::atomic<bool> refresh_rules_now_{false};

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stop_ = false;
  std::thread poller_;
};

}  // namespace ariadne::sdk
