#include "sampling/sample_weights.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "model/xray_attributes.h"

namespace ariadne::sampling {
namespace {

namespace attr = model::xray;

std::string_view StringAttr(const model::SpanBatch& batch, model::Range range,
                            std::string_view key) {
  const model::Value* v = batch.FindAttribute(range, key);
  return v != nullptr && v->type == model::ValueType::kString ? v->str : std::string_view();
}

bool IsXraySpan(const model::SpanBatch& batch, const model::Span& span, bool* is_segment) {
  const model::Value* type = batch.FindAttribute(span.attributes, attr::kType);
  if (type == nullptr || type->type != model::ValueType::kString) return false;
  *is_segment = type->str == "segment";
  return true;
}

// "https://host:port/path?query" → host:port and /path.
void SplitUrl(std::string_view url, std::string_view* host, std::string_view* path) {
  size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  if (scheme == std::string_view::npos && !rest.empty() && rest.front() == '/') {
    *host = {};
  } else {
    size_t slash = rest.find('/');
    *host = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  *path = rest.substr(0, rest.find_first_of("?#"));
}

}  // namespace

const SamplingRule* MatchRule(const std::vector<SamplingRule>& ordered, const SampledRequest& req) {
  for (const SamplingRule& rule : ordered) {
    if (GlobMatch(rule.service_name, req.service_name) &&
        GlobMatch(rule.service_type, req.service_type) && GlobMatch(rule.host, req.host) &&
        GlobMatch(rule.http_method, req.http_method) && GlobMatch(rule.url_path, req.url_path)) {
      return &rule;
    }
  }
  return nullptr;
}

double WeightOf(const StatisticSummary& window) {
  const int64_t kept = window.sampled_count + window.borrow_count;
  if (kept <= 0 || window.request_count <= kept) return 1;
  return static_cast<double>(window.request_count) / static_cast<double>(kept);
}

std::string ThresholdTraceState(double weight) {
  // Rejection threshold over 56 bits: a span is kept with probability 1 − T / 2^56 = 1 / weight.
  constexpr double kTwo56 = 72057594037927936.0;
  double t = std::round((1.0 - 1.0 / weight) * kTwo56);
  uint64_t threshold = t >= kTwo56 ? (uint64_t{1} << 56) - 1 : static_cast<uint64_t>(t);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(14, '0');
  for (int i = 13; i >= 0; --i) {
    hex[static_cast<size_t>(i)] = kHex[threshold & 15];
    threshold >>= 4;
  }
  while (hex.size() > 1 && hex.back() == '0') hex.pop_back();
  return "ot=th:" + hex;
}

XraySampleWeights::XraySampleWeights(const SamplingTargets* targets, RuleSource rules,
                                     size_t traces_remembered)
    : targets_(targets), rules_(std::move(rules)), traces_remembered_(traces_remembered) {}

std::optional<double> XraySampleWeights::RememberedWeight(const model::TraceId& trace) {
  MutexLock lock(&mu_);
  auto it = weights_.find(trace);
  if (it == weights_.end()) return std::nullopt;
  return it->second;
}

void XraySampleWeights::Remember(const model::TraceId& trace, double weight) {
  MutexLock lock(&mu_);
  auto [it, inserted] = weights_.emplace(trace, weight);
  if (!inserted) return;
  order_.push_back(trace);
  while (order_.size() > traces_remembered_) {
    weights_.erase(order_.front());
    order_.pop_front();
  }
}

double XraySampleWeights::SegmentWeight(const model::SpanBatch& batch, const model::Span& span,
                                        std::vector<SamplingRule>* rules, bool* rules_loaded) {
  std::string_view named = StringAttr(batch, span.attributes, attr::kSamplingRuleName);
  if (!named.empty()) {
    if (auto window = targets_->Latest(std::string(named))) return WeightOf(*window);
  }
  if (!*rules_loaded) {
    *rules = rules_();
    *rules_loaded = true;
  }
  const model::Range resource = span.resource_index < batch.resources.size()
                                    ? batch.resources[span.resource_index].attributes
                                    : model::Range{};
  SampledRequest req;
  req.service_name = StringAttr(batch, resource, attr::kServiceName);
  req.service_type = StringAttr(batch, resource, attr::kOrigin);
  req.http_method = StringAttr(batch, span.attributes, attr::kHttpMethod);
  if (req.http_method.empty())
    req.http_method = StringAttr(batch, span.attributes, attr::kOldHttpMethod);
  std::string_view url = StringAttr(batch, span.attributes, attr::kHttpUrl);
  if (url.empty()) url = StringAttr(batch, span.attributes, attr::kOldHttpUrl);
  SplitUrl(url, &req.host, &req.url_path);
  const SamplingRule* rule = MatchRule(*rules, req);
  if (rule == nullptr) return 1;
  auto window = targets_->Latest(rule->rule_name);
  return window ? WeightOf(*window) : 1;
}

void XraySampleWeights::Apply(model::SpanBatch* batch) {
  if (!targets_->HasStatistics()) return;
  // Per trace in the batch: the weight, and whether a root segment decided it.
  struct Decision {
    double weight = 1;
    bool from_root = false;
    bool decided = false;
  };
  std::unordered_map<model::TraceId, Decision, model::TraceIdHash> traces;
  std::vector<SamplingRule> rules;
  bool rules_loaded = false;
  // Pass 1: root segments decide their trace; remembered traces next; any segment last.
  for (const model::Span& span : batch->spans) {
    bool is_segment = false;
    if (!IsXraySpan(*batch, span, &is_segment)) continue;
    Decision& d = traces[span.trace_id];
    if (!is_segment || d.from_root) continue;
    if (span.is_root()) {
      d.weight = SegmentWeight(*batch, span, &rules, &rules_loaded);
      d.from_root = d.decided = true;
      Remember(span.trace_id, d.weight);
    }
  }
  for (auto& [trace, d] : traces) {
    if (d.decided) continue;
    if (auto remembered = RememberedWeight(trace)) {
      d.weight = *remembered;
      d.decided = true;
    }
  }
  for (const model::Span& span : batch->spans) {
    bool is_segment = false;
    if (!IsXraySpan(*batch, span, &is_segment) || !is_segment) continue;
    Decision& d = traces[span.trace_id];
    if (d.decided) continue;
    d.weight = SegmentWeight(*batch, span, &rules, &rules_loaded);
    d.decided = true;
  }
  // Pass 2: write the weights.
  std::unordered_map<double, std::string_view> states;  // weight → trace state in the arena
  for (model::Span& span : batch->spans) {
    if (!span.trace_state.empty()) continue;
    auto it = traces.find(span.trace_id);
    if (it == traces.end() || !it->second.decided || it->second.weight <= 1) continue;
    bool is_segment = false;
    if (!IsXraySpan(*batch, span, &is_segment)) continue;
    auto state = states.find(it->second.weight);
    if (state == states.end()) {
      state =
          states
              .emplace(it->second.weight, batch->arena.Copy(ThresholdTraceState(it->second.weight)))
              .first;
    }
    span.trace_state = state->second;
  }
}

}  // namespace ariadne::sampling
