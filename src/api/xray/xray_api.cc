#include "api/xray/xray_api.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "common/json_depth.h"
#include "common/json_dump.h"
#include "common/time_units.h"
#include "common/utf8.h"
#include "model/xray_attributes.h"
#include "pipeline/validate.h"
#include "query/xray_filter/filter.h"
#include "query/xray_filter/trace_view.h"
#include "query/xray/documents.h"
#include "receivers/xray/segment_decoder.h"

namespace ariadne::receivers::xray {

using json = nlohmann::json;
using query::xray_filter::Filter;
using query::xray_filter::SegmentInfo;
using query::xray_filter::TraceView;

namespace {

constexpr const char* kInvalidRequest = "InvalidRequestException";

// Thrown inside request handling only (the edge), turned into an X-Ray error response.
struct ApiError {
  int status;
  std::string code;
  std::string message;
};

[[noreturn]] void Invalid(const std::string& message) {
  throw ApiError{400, kInvalidRequest, message};
}

std::string RequestId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      id += '-';
    } else {
      id += kHex[rng() % 16];
    }
  }
  return id;
}

net::HttpResponse JsonResponse(const json& body) {
  net::HttpResponse response(200, "application/json", DumpJson(body));
  response.SetHeader("x-amzn-RequestId", RequestId());
  return response;
}

// ---- request field access; every error names the field ----

const json* Member(const json& j, const std::string& field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> OptString(const json& j, const std::string& field,
                                     const std::string& path = "") {
  const json* v = Member(j, field);
  if (!v) return std::nullopt;
  if (!v->is_string()) Invalid(path + field + " must be a string");
  return v->get<std::string>();
}

std::string ReqString(const json& j, const std::string& field, const std::string& path = "") {
  auto v = OptString(j, field, path);
  if (!v) Invalid(path + field + " is required");
  return *v;
}

std::optional<int64_t> OptInt(const json& j, const std::string& field,
                              const std::string& path = "") {
  const json* v = Member(j, field);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>()) {
    return static_cast<int64_t>(v->get<double>());
  }
  Invalid(path + field + " must be an integer");
}

int64_t ReqInt(const json& j, const std::string& field, const std::string& path = "") {
  auto v = OptInt(j, field, path);
  if (!v) Invalid(path + field + " is required");
  return *v;
}

std::optional<double> OptDouble(const json& j, const std::string& field,
                                const std::string& path = "") {
  const json* v = Member(j, field);
  if (!v) return std::nullopt;
  if (!v->is_number()) Invalid(path + field + " must be a number");
  return v->get<double>();
}

std::optional<bool> OptBool(const json& j, const std::string& field, const std::string& path = "") {
  const json* v = Member(j, field);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) Invalid(path + field + " must be true or false");
  return v->get<bool>();
}

// Epoch seconds from a number, a numeric string or an ISO-8601 string.
std::optional<double> OptTime(const json& j, const std::string& field,
                              const std::string& path = "") {
  const json* v = Member(j, field);
  if (!v) return std::nullopt;
  if (v->is_number()) return v->get<double>();
  if (v->is_string()) {
    std::string s = v->get<std::string>();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return d;
    std::tm tm{};
    const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest != nullptr) {
      double seconds = static_cast<double>(timegm(&tm));
      if (*rest == '.') seconds += std::strtod(rest, nullptr);
      return seconds;
    }
  }
  Invalid(path + field + " must be a timestamp (epoch seconds)");
}

double ReqTime(const json& j, const std::string& field) {
  auto v = OptTime(j, field);
  if (!v) Invalid(field + " is required");
  // Negative times mean 1970 (callers clamp them); beyond kMaxUnixSeconds nanoseconds overflow.
  if (!(*v <= static_cast<double>(kMaxUnixSeconds))) Invalid(field + " must be " + TimeRangeHint());
  return *v;
}

size_t ParseNextToken(const json& body) {
  auto token = OptString(body, "NextToken");
  if (!token || token->empty()) return 0;
  const std::string prefix = "ariadne-page-";
  if (token->rfind(prefix, 0) != 0)
    Invalid("NextToken '" + *token + "' is not a token this server issued");
  try {
    return static_cast<size_t>(std::stoull(token->substr(prefix.size())));
  } catch (...) {
    Invalid("NextToken '" + *token + "' is not a token this server issued");
  }
}

std::string MakeNextToken(size_t offset) { return "ariadne-page-" + std::to_string(offset); }

void ThrowStatus(const Status& status, const char* limit_code = "RuleLimitExceededException") {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition:
      throw ApiError{400, kInvalidRequest, std::string(status.message())};
    case StatusCode::kResourceExhausted:
      throw ApiError{400, limit_code, std::string(status.message())};
    default:
      throw ApiError{500, "InternalFailure", std::string(status.message())};
  }
}

// ---- shapes ----

json RuleRecord(const SamplingRule& r, const XrayConfigStore& config) {
  json rule = {{"RuleName", r.rule_name},
               {"RuleARN", config.RuleArn(r.rule_name)},
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
               {"Attributes", json::object()}};
  for (const auto& [k, v] : r.attributes) rule["Attributes"][k] = v;
  if (r.boost_max_rate) {
    rule["SamplingRateBoost"] = {{"MaxRate", *r.boost_max_rate},
                                 {"CooldownWindowMinutes", r.boost_cooldown_minutes.value_or(1)}};
  }
  return {{"SamplingRule", rule}, {"CreatedAt", r.created_at}, {"ModifiedAt", r.modified_at}};
}

json GroupJson(const XrayGroup& g, const XrayConfigStore& config) {
  json out = {{"GroupName", g.name},
              {"GroupARN", config.GroupArn(g)},
              {"InsightsConfiguration",
               {{"InsightsEnabled", g.insights_enabled},
                {"NotificationsEnabled", g.notifications_enabled}}}};
  if (!g.filter_expression.empty()) out["FilterExpression"] = g.filter_expression;
  return out;
}

json AnnotationValue(const model::Value& v) {
  switch (v.type) {
    case model::ValueType::kBool:
      return {{"BooleanValue", v.bool_value}};
    case model::ValueType::kInt:
      return {{"NumberValue", static_cast<double>(v.int_value)}};
    case model::ValueType::kDouble:
      return {{"NumberValue", v.double_value}};
    default:
      return {{"StringValue", std::string(v.str)}};
  }
}

json ServiceId(const SegmentInfo& seg) {
  json id = {{"Name", std::string(seg.name)}, {"Names", {std::string(seg.name)}}};
  if (!seg.type.empty()) id["Type"] = std::string(seg.type);
  if (!seg.account_id.empty()) id["AccountId"] = std::string(seg.account_id);
  return id;
}

json RootCauses(const TraceView& view, bool fault) {
  json causes = json::array();
  const auto& segs = view.segments();
  const model::SpanBatch& batch = view.batch();
  for (const SegmentInfo& seg : segs) {
    bool flagged = fault ? seg.fault : (seg.error || seg.throttle);
    if (!flagged) continue;
    bool child_flagged = false;
    for (int c : seg.child_segments) {
      child_flagged |= fault ? segs[c].fault : (segs[c].error || segs[c].throttle);
    }
    if (child_flagged) continue;
    json exceptions = json::array();
    std::vector<size_t> spans = seg.inferred ? std::vector<size_t>{seg.span} : seg.spans;
    for (size_t i : spans) {
      const model::Span& s = batch.spans[i];
      for (uint32_t e = s.events.begin; e < s.events.end(); ++e) {
        const model::Event& ev = batch.events[e];
        if (ev.name != model::xray::kExceptionEvent) continue;
        const model::Value* type = batch.FindAttribute(ev.attributes, model::xray::kExceptionType);
        const model::Value* msg =
            batch.FindAttribute(ev.attributes, model::xray::kExceptionMessage);
        exceptions.push_back({{"Name", type ? std::string(type->str) : ""},
                              {"Message", msg ? std::string(msg->str) : ""}});
      }
    }
    json service = ServiceId(seg);
    service["Inferred"] = seg.inferred;
    service["EntityPath"] = {
        {{"Name", std::string(seg.name)}, {"Exceptions", exceptions}, {"Remote", seg.inferred}}};
    causes.push_back({{"Services", {service}}, {"ClientImpacting", seg.parent_segment < 0}});
  }
  return causes;
}

json TraceSummary(const TraceView& view) {
  json s;
  const model::SpanBatch& batch = view.batch();
  const model::Span& first = batch.spans[view.spans().front()];
  s["Id"] = model::FormatXrayTraceId(first.trace_id);
  s["StartTime"] = view.start();
  s["Duration"] = view.duration();
  s["ResponseTime"] = view.response_time();
  const SegmentInfo* root = view.root() >= 0 ? &view.segments()[view.root()] : nullptr;
  bool throttle = false;
  for (const SegmentInfo& seg : view.segments()) throttle |= seg.throttle;
  s["HasFault"] = root && root->fault;
  s["HasError"] = root && root->error;
  s["HasThrottle"] = throttle;
  s["IsPartial"] = view.partial();
  json http = json::object();
  if (root) {
    if (!root->http.url.empty()) http["HttpURL"] = std::string(root->http.url);
    if (root->http.status) http["HttpStatus"] = root->http.status;
    if (!root->http.method.empty()) http["HttpMethod"] = std::string(root->http.method);
    if (!root->http.user_agent.empty()) http["UserAgent"] = std::string(root->http.user_agent);
    if (!root->http.client_ip.empty()) http["ClientIp"] = std::string(root->http.client_ip);
  }
  s["Http"] = http;
  json annotations = json::object();
  std::set<std::string> users;
  json user_list = json::array();
  std::set<std::string> arns, instances, zones;
  for (size_t i : view.spans()) {
    const model::Span& span = batch.spans[i];
    int seg = view.SegmentOfSpan(i);
    for (uint32_t k = span.attributes.begin; k < span.attributes.end(); ++k) {
      const model::KeyValue& kv = batch.attributes[k];
      if (kv.key.substr(0, model::xray::kAnnotationPrefix.size()) ==
          model::xray::kAnnotationPrefix) {
        json entry = {{"AnnotationValue", AnnotationValue(kv.value)},
                      {"ServiceIds", json::array()}};
        if (seg >= 0) entry["ServiceIds"].push_back(ServiceId(view.segments()[seg]));
        annotations[std::string(kv.key.substr(model::xray::kAnnotationPrefix.size()))].push_back(
            entry);
      } else if (kv.key == model::xray::kResourceArn &&
                 kv.value.type == model::ValueType::kString) {
        arns.insert(std::string(kv.value.str));
      }
    }
    std::string_view instance =
        query::xray_filter::ResourceStringAttr(batch, span, model::xray::kHostId);
    if (!instance.empty()) instances.insert(std::string(instance));
    std::string_view zone =
        query::xray_filter::ResourceStringAttr(batch, span, model::xray::kCloudAvailabilityZone);
    if (!zone.empty()) zones.insert(std::string(zone));
  }
  for (const SegmentInfo& seg : view.segments()) {
    if (seg.user.empty() || !users.insert(std::string(seg.user)).second) continue;
    user_list.push_back({{"UserName", std::string(seg.user)}, {"ServiceIds", {ServiceId(seg)}}});
  }
  s["Annotations"] = annotations;
  s["Users"] = user_list;
  json service_ids = json::array();
  std::set<std::pair<std::string, std::string>> seen;
  for (const SegmentInfo& seg : view.segments()) {
    if (seen.insert({std::string(seg.name), std::string(seg.type)}).second) {
      service_ids.push_back(ServiceId(seg));
    }
  }
  s["ServiceIds"] = service_ids;
  if (root) s["EntryPoint"] = ServiceId(*root);
  s["ResourceARNs"] = json::array();
  for (const auto& a : arns) s["ResourceARNs"].push_back({{"ARN", a}});
  s["InstanceIds"] = json::array();
  for (const auto& a : instances) s["InstanceIds"].push_back({{"Id", a}});
  s["AvailabilityZones"] = json::array();
  for (const auto& a : zones) s["AvailabilityZones"].push_back({{"Name", a}});
  s["FaultRootCauses"] = RootCauses(view, true);
  s["ErrorRootCauses"] = RootCauses(view, false);
  s["ResponseTimeRootCauses"] = json::array();
  s["Revision"] = 1;
  s["MatchedEventTime"] = view.start();
  return s;
}

// Service graph aggregation over many traces.
struct GraphStats {
  int64_t ok = 0, throttle = 0, error_other = 0, fault = 0, total = 0;
  double total_response_time = 0;
  double start = std::numeric_limits<double>::max(), end = 0;
  std::map<double, int64_t> histogram;

  void Add(const SegmentInfo& seg) {
    ++total;
    if (seg.fault) {
      ++fault;
    } else if (seg.throttle) {
      ++throttle;
    } else if (seg.error) {
      ++error_other;
    } else {
      ++ok;
    }
    double rt = std::max(0.0, seg.end - seg.start);
    total_response_time += rt;
    histogram[std::round(rt * 1000) / 1000] += 1;
    start = std::min(start, seg.start);
    end = std::max(end, seg.end);
  }
  json Summary() const {
    return {{"OkCount", ok},
            {"ErrorStatistics",
             {{"ThrottleCount", throttle},
              {"OtherCount", error_other},
              {"TotalCount", throttle + error_other}}},
            {"FaultStatistics", {{"OtherCount", fault}, {"TotalCount", fault}}},
            {"TotalCount", total},
            {"TotalResponseTime", total_response_time}};
  }
  json Histogram() const {
    json out = json::array();
    for (const auto& [value, count] : histogram)
      out.push_back({{"Value", value}, {"Count", count}});
    return out;
  }
};

class ServiceGraph {
 public:
  void Add(const TraceView& view) {
    std::vector<int> ref(view.nodes().size());
    for (size_t n = 0; n < view.nodes().size(); ++n) {
      const auto& node = view.nodes()[n];
      auto key = std::make_pair(node.name, node.type);
      auto [it, inserted] = index_.emplace(key, static_cast<int>(nodes_.size()));
      if (inserted) {
        Node added;
        added.name = node.name;
        added.type = node.type;
        added.inferred = node.inferred;
        nodes_.push_back(std::move(added));
      }
      ref[n] = it->second;
    }
    for (size_t k = 0; k < view.segments().size(); ++k) {
      const SegmentInfo& seg = view.segments()[k];
      Node& node = nodes_[ref[view.NodeOf(static_cast<int>(k))]];
      node.stats.Add(seg);
      if (seg.parent_segment < 0) node.root = true;
    }
    for (const auto& edge : view.edges()) {
      nodes_[ref[edge.from]].edges[ref[edge.to]].Add(view.segments()[edge.segment]);
    }
  }

  json Services() const {
    json out = json::array();
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = nodes_[i];
      json service = {{"ReferenceId", i},
                      {"Name", n.name},
                      {"Names", {n.name}},
                      {"Root", n.root},
                      {"Type", n.type.empty() ? (n.inferred ? "remote" : "service") : n.type},
                      {"State", n.inferred ? "unknown" : "active"},
                      {"StartTime", n.stats.start},
                      {"EndTime", n.stats.end},
                      {"Edges", json::array()},
                      {"SummaryStatistics", n.stats.Summary()},
                      {"DurationHistogram", n.stats.Histogram()},
                      {"ResponseTimeHistogram", n.stats.Histogram()}};
      for (const auto& [target, stats] : n.edges) {
        service["Edges"].push_back({{"ReferenceId", target},
                                    {"StartTime", stats.start},
                                    {"EndTime", stats.end},
                                    {"SummaryStatistics", stats.Summary()},
                                    {"ResponseTimeHistogram", stats.Histogram()},
                                    {"Aliases", json::array()}});
      }
      out.push_back(service);
    }
    return out;
  }

 private:
  struct Node {
    std::string name, type;
    bool inferred = false;
    bool root = false;
    GraphStats stats;
    std::map<int, GraphStats> edges;
  };
  std::map<std::pair<std::string, std::string>, int> index_;
  std::vector<Node> nodes_;
};

bool IsSamplerPath(const std::string& path) {
  return path == "/GetSamplingRules" || path == "/SamplingTargets";
}

std::string IsoTime(double epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

net::HttpResponse XrayError(int status, const std::string& code, const std::string& message) {
  json body = {{"__type", code}, {"message", message}};
  net::HttpResponse response(status, "application/json", DumpJson(body));
  response.SetHeader("x-amzn-ErrorType", code);
  response.SetHeader("x-amzn-RequestId", RequestId());
  return response;
}

struct XrayApiHandler::Impl {
  XrayApiHandler& h;

  query::xray_filter::GroupResolver Groups() {
    XrayConfigStore* config = h.config_;
    return [config](std::string_view key, bool is_arn) -> std::optional<std::string> {
      auto group =
          is_arn ? config->GetGroup("", std::string(key)) : config->GetGroup(std::string(key), "");
      if (!group.ok()) return std::nullopt;
      return group->filter_expression;
    };
  }

  Filter ParseFilter(const std::string& text, const char* field) {
    auto filter = Filter::Parse(text);
    if (!filter.ok()) Invalid(std::string(field) + ": " + std::string(filter.status().message()));
    return std::move(filter).value();
  }

  // Logs (and returns) a hint when a filter names services that never sent data.
  std::string UnknownServiceHint(const XrayGroup& group) {
    if (group.filter_expression.empty()) return "";
    auto filter = Filter::Parse(group.filter_expression);
    if (!filter.ok()) return "";
    auto services = h.store_->ListServices(h.options_.read_environment);
    if (!services.ok()) return "";
    std::string hint;
    for (const std::string& name : filter->ReferencedServices()) {
      bool known = std::any_of(services->begin(), services->end(),
                               [&](const store::ServiceSummary& s) { return s.name == name; });
      if (known) continue;
      if (!hint.empty()) hint += "; ";
      hint += "group '" + group.name + "' filter names service \"" + name +
              "\", which has not sent any data";
    }
    if (!hint.empty()) std::fprintf(stderr, "ariadne xray: %s\n", hint.c_str());
    return hint;
  }

  json CreateGroup(const json& body) {
    XrayGroup group;
    group.name = ReqString(body, "GroupName");
    group.filter_expression = OptString(body, "FilterExpression").value_or("");
    if (const json* insights = Member(body, "InsightsConfiguration")) {
      group.insights_enabled =
          OptBool(*insights, "InsightsEnabled", "InsightsConfiguration.").value_or(false);
      group.notifications_enabled =
          OptBool(*insights, "NotificationsEnabled", "InsightsConfiguration.").value_or(false);
    }
    ParseFilter(group.filter_expression, "FilterExpression");
    auto created = h.config_->CreateGroup(group);
    if (!created.ok()) ThrowStatus(created.status(), "TooManyTagsException");
    last_hint = UnknownServiceHint(*created);
    return {{"Group", GroupJson(*created, *h.config_)}};
  }

  json GetGroup(const json& body) {
    auto group = h.config_->GetGroup(OptString(body, "GroupName").value_or(""),
                                     OptString(body, "GroupARN").value_or(""));
    if (!group.ok()) ThrowStatus(group.status());
    return {{"Group", GroupJson(*group, *h.config_)}};
  }

  json GetGroups(const json& body) {
    size_t offset = ParseNextToken(body);
    json groups = json::array();
    auto all = h.config_->Groups();
    for (size_t i = offset; i < all.size(); ++i) groups.push_back(GroupJson(all[i], *h.config_));
    return {{"Groups", groups}};
  }

  json UpdateGroup(const json& body) {
    std::optional<std::string> filter = OptString(body, "FilterExpression");
    if (filter) ParseFilter(*filter, "FilterExpression");
    std::optional<bool> insights, notifications;
    if (const json* cfg = Member(body, "InsightsConfiguration")) {
      insights = OptBool(*cfg, "InsightsEnabled", "InsightsConfiguration.");
      notifications = OptBool(*cfg, "NotificationsEnabled", "InsightsConfiguration.");
    }
    auto group = h.config_->UpdateGroup(OptString(body, "GroupName").value_or(""),
                                        OptString(body, "GroupARN").value_or(""), filter, insights,
                                        notifications);
    if (!group.ok()) ThrowStatus(group.status());
    last_hint = UnknownServiceHint(*group);
    return {{"Group", GroupJson(*group, *h.config_)}};
  }

  json DeleteGroup(const json& body) {
    Status status = h.config_->DeleteGroup(OptString(body, "GroupName").value_or(""),
                                           OptString(body, "GroupARN").value_or(""));
    if (!status.ok()) ThrowStatus(status);
    return json::object();
  }

  json GetSamplingRules(const json& body) {
    ParseNextToken(body);
    json records = json::array();
    for (const SamplingRule& r : h.config_->Rules()) records.push_back(RuleRecord(r, *h.config_));
    return {{"SamplingRuleRecords", records}};
  }

  json CreateSamplingRule(const json& body) {
    const json* rule_json = Member(body, "SamplingRule");
    if (!rule_json || !rule_json->is_object()) Invalid("SamplingRule is required");
    const json& j = *rule_json;
    const std::string p = "SamplingRule.";
    SamplingRule rule;
    rule.rule_name = OptString(j, "RuleName", p).value_or("");
    if (rule.rule_name.empty()) Invalid("SamplingRule.RuleName is required");
    rule.resource_arn = ReqString(j, "ResourceARN", p);
    rule.priority = ReqInt(j, "Priority", p);
    auto rate = OptDouble(j, "FixedRate", p);
    if (!rate) Invalid("SamplingRule.FixedRate is required");
    rule.fixed_rate = *rate;
    rule.reservoir_size = ReqInt(j, "ReservoirSize", p);
    rule.service_name = ReqString(j, "ServiceName", p);
    rule.service_type = ReqString(j, "ServiceType", p);
    rule.host = ReqString(j, "Host", p);
    rule.http_method = ReqString(j, "HTTPMethod", p);
    rule.url_path = ReqString(j, "URLPath", p);
    rule.version = ReqInt(j, "Version", p);
    if (const json* attributes = Member(j, "Attributes")) {
      if (!attributes->is_object()) Invalid("SamplingRule.Attributes must be an object");
      for (const auto& [k, v] : attributes->items()) {
        if (!v.is_string()) Invalid("SamplingRule.Attributes values must be strings");
        rule.attributes[k] = v.get<std::string>();
      }
    }
    if (const json* boost = Member(j, "SamplingRateBoost")) {
      rule.boost_max_rate = OptDouble(*boost, "MaxRate", p + "SamplingRateBoost.");
      rule.boost_cooldown_minutes =
          OptInt(*boost, "CooldownWindowMinutes", p + "SamplingRateBoost.");
      if (!rule.boost_max_rate) Invalid("SamplingRule.SamplingRateBoost.MaxRate is required");
    }
    Status valid = ValidateRule(rule);
    if (!valid.ok()) Invalid("SamplingRule." + std::string(valid.message()));
    auto created = h.config_->CreateRule(rule);
    if (!created.ok()) ThrowStatus(created.status());
    return {{"SamplingRuleRecord", RuleRecord(*created, *h.config_)}};
  }

  json UpdateSamplingRule(const json& body) {
    const json* update_json = Member(body, "SamplingRuleUpdate");
    if (!update_json || !update_json->is_object()) Invalid("SamplingRuleUpdate is required");
    const json& j = *update_json;
    const std::string p = "SamplingRuleUpdate.";
    SamplingRuleUpdate update;
    update.rule_name = OptString(j, "RuleName", p).value_or("");
    update.rule_arn = OptString(j, "RuleARN", p).value_or("");
    update.resource_arn = OptString(j, "ResourceARN", p);
    update.service_name = OptString(j, "ServiceName", p);
    update.service_type = OptString(j, "ServiceType", p);
    update.host = OptString(j, "Host", p);
    update.http_method = OptString(j, "HTTPMethod", p);
    update.url_path = OptString(j, "URLPath", p);
    update.priority = OptInt(j, "Priority", p);
    update.reservoir_size = OptInt(j, "ReservoirSize", p);
    update.fixed_rate = OptDouble(j, "FixedRate", p);
    if (const json* attributes = Member(j, "Attributes")) {
      std::map<std::string, std::string> attrs;
      if (!attributes->is_object()) Invalid("SamplingRuleUpdate.Attributes must be an object");
      for (const auto& [k, v] : attributes->items()) {
        if (!v.is_string()) Invalid("SamplingRuleUpdate.Attributes values must be strings");
        attrs[k] = v.get<std::string>();
      }
      update.attributes = attrs;
    }
    auto updated = h.config_->UpdateRule(update);
    if (!updated.ok()) {
      if (updated.status().IsInvalidArgument())
        Invalid("SamplingRuleUpdate." + std::string(updated.status().message()));
      ThrowStatus(updated.status());
    }
    return {{"SamplingRuleRecord", RuleRecord(*updated, *h.config_)}};
  }

  json DeleteSamplingRule(const json& body) {
    auto deleted = h.config_->DeleteRule(OptString(body, "RuleName").value_or(""),
                                         OptString(body, "RuleARN").value_or(""));
    if (!deleted.ok()) ThrowStatus(deleted.status());
    return {{"SamplingRuleRecord", RuleRecord(*deleted, *h.config_)}};
  }

  json GetSamplingTargets(const json& body, bool ttl_as_iso) {
    const json* docs = Member(body, "SamplingStatisticsDocuments");
    if (!docs) Invalid("SamplingStatisticsDocuments is required");
    if (!docs->is_array()) Invalid("SamplingStatisticsDocuments must be a list");
    if (docs->size() > 25) Invalid("SamplingStatisticsDocuments may hold at most 25 documents");
    std::vector<StatisticsDocument> stats;
    for (size_t i = 0; i < docs->size(); ++i) {
      const json& d = (*docs)[i];
      const std::string p = "SamplingStatisticsDocuments[" + std::to_string(i) + "].";
      if (!d.is_object()) Invalid(p.substr(0, p.size() - 1) + " must be an object");
      StatisticsDocument doc;
      doc.rule_name = ReqString(d, "RuleName", p);
      doc.client_id = ReqString(d, "ClientID", p);
      if (doc.client_id.size() != 24) Invalid(p + "ClientID must be 24 characters");
      auto ts = OptTime(d, "Timestamp", p);
      if (!ts) Invalid(p + "Timestamp is required");
      doc.timestamp = *ts;
      doc.request_count = ReqInt(d, "RequestCount", p);
      doc.sampled_count = ReqInt(d, "SampledCount", p);
      doc.borrow_count = OptInt(d, "BorrowCount", p).value_or(0);
      stats.push_back(doc);
    }
    TargetsReply reply = h.sampling_->Compute(stats, h.config_->Rules());
    json targets = json::array();
    for (const TargetDocument& t : reply.targets) {
      json target = {{"RuleName", t.rule_name},
                     {"FixedRate", t.fixed_rate},
                     {"ReservoirQuota", t.reservoir_quota},
                     {"Interval", t.interval}};
      // The Node SDK reads this through `new Date(x)`, which takes numbers as milliseconds; it is
      // the one poller that sends no User-Agent, and gets the ISO-8601 form every parser accepts.
      if (ttl_as_iso) {
        target["ReservoirQuotaTTL"] = IsoTime(t.reservoir_quota_ttl);
      } else {
        target["ReservoirQuotaTTL"] = t.reservoir_quota_ttl;
      }
      targets.push_back(target);
    }
    json unprocessed = json::array();
    for (const auto& u : reply.unprocessed) {
      unprocessed.push_back(
          {{"RuleName", u.rule_name}, {"ErrorCode", u.error_code}, {"Message", u.message}});
    }
    return {{"SamplingTargetDocuments", targets},
            {"LastRuleModification", reply.last_rule_modification},
            {"UnprocessedStatistics", unprocessed},
            {"UnprocessedBoostStatistics", json::array()}};
  }

  json GetSamplingStatisticSummaries(const json& body) {
    ParseNextToken(body);
    json out = json::array();
    for (const StatisticSummary& s : h.sampling_->Summaries()) {
      out.push_back({{"RuleName", s.rule_name},
                     {"Timestamp", s.timestamp},
                     {"RequestCount", s.request_count},
                     {"BorrowCount", s.borrow_count},
                     {"SampledCount", s.sampled_count}});
    }
    return {{"SamplingStatisticSummaries", out}};
  }

  json GetTraceSummaries(const json& body) {
    double start = ReqTime(body, "StartTime");
    double end = ReqTime(body, "EndTime");
    if (end < start) Invalid("EndTime must not be before StartTime");
    if (auto type = OptString(body, "TimeRangeType")) {
      if (*type != "TraceId" && *type != "Event" && *type != "Service") {
        Invalid("TimeRangeType must be TraceId, Event or Service");
      }
    }
    Filter filter =
        ParseFilter(OptString(body, "FilterExpression").value_or(""), "FilterExpression");
    size_t offset = ParseNextToken(body);
    auto groups = Groups();
    json summaries = json::array();
    size_t matched = 0, processed = 0;
    bool more = false;
    const size_t page = h.options_.trace_summaries_page;
    auto to_nanos = [](double s) { return s <= 0 ? 0ull : static_cast<uint64_t>(s * 1e9); };
    Status status =
        h.store_->ForEachTrace(to_nanos(start), to_nanos(end) + 1, h.options_.read_environment,
                               [&](const store::TraceResult& trace) {
                                 if (cancel && cancel->cancelled()) return false;
                                 ++processed;
                                 if (trace.spans.spans.empty()) return true;
                                 TraceView view = TraceView::Build(trace.spans);
                                 if (!filter.Matches(view, &groups)) return true;
                                 if (matched++ < offset) return true;
                                 if (summaries.size() == page) {
                                   more = true;
                                   return false;
                                 }
                                 summaries.push_back(TraceSummary(view));
                                 return true;
                               });
    if (!status.ok()) ThrowStatus(status);
    json out = {{"TraceSummaries", summaries},
                {"ApproximateTime", std::floor(h.options_.clock())},
                {"TracesProcessedCount", processed}};
    if (more) out["NextToken"] = MakeNextToken(offset + page);
    return out;
  }

  std::vector<std::string> TraceIds(const json& body) {
    const json* ids = Member(body, "TraceIds");
    if (!ids) Invalid("TraceIds is required");
    if (!ids->is_array()) Invalid("TraceIds must be a list");
    if (ids->size() > h.options_.max_batch_get_ids) {
      Invalid("TraceIds may hold at most " + std::to_string(h.options_.max_batch_get_ids) + " ids");
    }
    std::vector<std::string> out;
    for (const json& id : *ids) {
      if (!id.is_string()) Invalid("TraceIds must be strings");
      out.push_back(id.get<std::string>());
    }
    return out;
  }

  json BatchGetTraces(const json& body) {
    ParseNextToken(body);
    json traces = json::array(), unprocessed = json::array();
    for (const std::string& text : TraceIds(body)) {
      auto id = model::ParseAnyTraceId(text);
      if (!id) {
        unprocessed.push_back(text);
        continue;
      }
      auto trace = h.store_->GetTrace(*id, h.options_.read_environment);
      if (!trace.ok() || trace->spans.spans.empty()) {
        if (!trace.ok() && !trace.status().IsNotFound()) ThrowStatus(trace.status());
        unprocessed.push_back(text);
        continue;
      }
      TraceView view = TraceView::Build(trace->spans);
      json segments = json::array();
      for (const SegmentDocument& doc : EncodeSegmentDocuments(view)) {
        segments.push_back({{"Id", doc.id}, {"Document", doc.document}});
      }
      traces.push_back({{"Id", model::FormatXrayTraceId(*id)},
                        {"Duration", view.duration()},
                        {"LimitExceeded", false},
                        {"Segments", segments}});
    }
    return {{"Traces", traces}, {"UnprocessedTraceIds", unprocessed}};
  }

  json GetServiceGraph(const json& body) {
    double start = ReqTime(body, "StartTime");
    double end = ReqTime(body, "EndTime");
    if (end < start) Invalid("EndTime must not be before StartTime");
    ParseNextToken(body);
    std::string filter_text;
    auto group_name = OptString(body, "GroupName");
    auto group_arn = OptString(body, "GroupARN");
    if (group_name || group_arn) {
      auto group = h.config_->GetGroup(group_name.value_or(""), group_arn.value_or(""));
      if (!group.ok()) ThrowStatus(group.status());
      filter_text = group->filter_expression;
    }
    Filter filter = ParseFilter(filter_text, "FilterExpression");
    auto groups = Groups();
    ServiceGraph graph;
    Status status =
        h.store_->ForEachTrace(static_cast<uint64_t>(std::max(0.0, start) * 1e9),
                               static_cast<uint64_t>(std::max(0.0, end) * 1e9) + 1,
                               h.options_.read_environment, [&](const store::TraceResult& trace) {
                                 if (trace.spans.spans.empty()) return true;
                                 TraceView view = TraceView::Build(trace.spans);
                                 if (filter.Matches(view, &groups)) graph.Add(view);
                                 return true;
                               });
    if (!status.ok()) ThrowStatus(status);
    return {{"StartTime", start},
            {"EndTime", end},
            {"Services", graph.Services()},
            {"ContainsOldGroupVersions", false}};
  }

  json GetTraceGraph(const json& body) {
    ParseNextToken(body);
    ServiceGraph graph;
    for (const std::string& text : TraceIds(body)) {
      auto id = model::ParseAnyTraceId(text);
      if (!id) continue;
      auto trace = h.store_->GetTrace(*id, h.options_.read_environment);
      if (!trace.ok() || trace->spans.spans.empty()) continue;
      graph.Add(TraceView::Build(trace->spans));
    }
    return {{"Services", graph.Services()}};
  }

  // PutTraceSegments: answers through `respond` once the store acknowledged.
  void PutTraceSegments(const json& body, net::Responder respond) {
    const json* docs = Member(body, "TraceSegmentDocuments");
    if (!docs) Invalid("TraceSegmentDocuments is required");
    if (!docs->is_array()) Invalid("TraceSegmentDocuments must be a list of strings");
    model::SpanBatch merged;
    json unprocessed = json::array();
    const double now = h.options_.clock();
    for (const json& doc : *docs) {
      if (!doc.is_string()) Invalid("TraceSegmentDocuments must be a list of strings");
      const std::string& text = doc.get_ref<const std::string&>();
      model::SpanBatch batch;
      DecodeError error;
      auto decoded =
          DecodeSegmentDocument(text, &batch, DecodeLimits{}, &error, &invalid_utf8_replaced);
      if (!decoded.ok()) {
        unprocessed.push_back(
            {{"Id", error.id}, {"ErrorCode", error.error_code}, {"Message", error.message}});
        continue;
      }
      const std::string first_id = batch.spans.empty() ? "" : batch.spans.front().span_id.ToHex();
      pipeline::ValidationReport report = pipeline::ValidateBatch(
          batch, pipeline::ValidationOptions{}, static_cast<uint64_t>(now * 1e9));
      if (report.rejected > 0) {
        unprocessed.push_back(
            {{"Id", first_id}, {"ErrorCode", "InvalidSegment"}, {"Message", report.message}});
        continue;
      }
      AppendBatch(batch, &merged);
    }
    if (h.pipeline_) h.pipeline_->metrics().AddInvalidUtf8(invalid_utf8_replaced);
    if (merged.spans.empty()) {
      respond(JsonResponse({{"UnprocessedTraceSegments", unprocessed}}));
      return;
    }
    h.pipeline_->Submit(
        h.options_.environment, std::move(merged), 0, "",
        [respond = std::move(respond), unprocessed](pipeline::SubmitResult result) {
          if (result.status.ok()) {
            respond(JsonResponse({{"UnprocessedTraceSegments", unprocessed}}));
          } else if (pipeline::IsRetryable(result.status)) {
            respond(XrayError(429, "ThrottledException",
                              "the span store cannot take more data right now, "
                              "retry later: " +
                                  std::string(result.status.message())));
          } else {
            respond(XrayError(500, "InternalFailure",
                              "storing segments failed: " + std::string(result.status.message())));
          }
        });
  }

  // Runs one operation other than PutTraceSegments and answers it (errors included).
  net::HttpResponse Operate(const std::string& path, const json& body, bool ttl_as_iso) {
    Impl& impl = *this;
    try {
      json result;
      if (path == "/TelemetryRecords") {
        result = json::object();
      } else if (path == "/GetSamplingRules") {
        result = impl.GetSamplingRules(body);
      } else if (path == "/SamplingTargets") {
        result = impl.GetSamplingTargets(body, ttl_as_iso);
      } else if (path == "/SamplingStatisticSummaries") {
        result = impl.GetSamplingStatisticSummaries(body);
      } else if (path == "/CreateSamplingRule") {
        result = impl.CreateSamplingRule(body);
      } else if (path == "/UpdateSamplingRule") {
        result = impl.UpdateSamplingRule(body);
      } else if (path == "/DeleteSamplingRule") {
        result = impl.DeleteSamplingRule(body);
      } else if (path == "/CreateGroup") {
        result = impl.CreateGroup(body);
      } else if (path == "/GetGroup") {
        result = impl.GetGroup(body);
      } else if (path == "/Groups") {
        result = impl.GetGroups(body);
      } else if (path == "/UpdateGroup") {
        result = impl.UpdateGroup(body);
      } else if (path == "/DeleteGroup") {
        result = impl.DeleteGroup(body);
      } else if (path == "/TraceSummaries") {
        result = impl.GetTraceSummaries(body);
      } else if (path == "/Traces") {
        result = impl.BatchGetTraces(body);
      } else if (path == "/ServiceGraph") {
        result = impl.GetServiceGraph(body);
      } else if (path == "/TraceGraph") {
        result = impl.GetTraceGraph(body);
      } else {
        throw ApiError{404, "UnknownOperationException",
                       "no X-Ray operation at POST " + path +
                           " (this server implements the X-Ray "
                           "groups, sampling, trace segment and trace read operations)"};
      }
      net::HttpResponse response = JsonResponse(result);
      if (!impl.last_hint.empty()) response.SetHeader("x-ariadne-hint", impl.last_hint);
      return response;
    } catch (const ApiError& e) {
      return XrayError(e.status, e.code, e.message);
    } catch (const std::exception& e) {
      return XrayError(500, "InternalFailure", std::string("unexpected error: ") + e.what());
    }
  }

  std::string last_hint;
  // Set when the client went away: trace scans stop early (their answer is not read).
  CancelFlagPtr cancel;
  // U+FFFD substitutions made in this request's segment documents (PutTraceSegments).
  uint64_t invalid_utf8_replaced = 0;
};

XrayApiHandler::XrayApiHandler(pipeline::Pipeline* pipeline, store::SpanStore* store,
                               XrayConfigStore* config, SamplingTargets* sampling,
                               XrayApiOptions options)
    : pipeline_(pipeline),
      store_(store),
      config_(config),
      sampling_(sampling),
      options_(std::move(options)),
      reads_(std::make_unique<net::HandlerPool>(std::max<size_t>(1, options_.read_threads),
                                                std::max<size_t>(1, options_.read_queue))) {}

net::HttpHandler XrayApiHandler::AsHandler() {
  return [this](net::HttpRequest&& request, net::Responder respond) {
    Handle(std::move(request), std::move(respond));
  };
}

namespace {

// Reads that scan traces: they run on the read pool, never on the I/O thread, so sampling calls
// and PutTraceSegments are not held up behind them.
bool IsReadOperation(const std::string& path) {
  return path == "/TraceSummaries" || path == "/Traces" || path == "/ServiceGraph" ||
         path == "/TraceGraph";
}

}  // namespace

void XrayApiHandler::Handle(net::HttpRequest&& request, net::Responder respond) {
  pipeline::IngestMetrics* metrics = pipeline_ ? &pipeline_->metrics() : nullptr;
  auto send = [metrics, respond](net::HttpResponse response) {
    if (metrics) metrics->RecordRequest("xray_api", response.status);
    respond(std::move(response));
  };
  Impl impl{*this, {}, {}, 0};
  try {
    const std::string& path = request.path;
    if (request.method != "POST") {
      throw ApiError{404, "UnknownOperationException",
                     "no X-Ray operation at " + request.method + " " + path +
                         " (X-Ray operations are POST requests, e.g. POST /GetSamplingRules)"};
    }
    // Authentication.
    if (options_.credentials && !IsSamplerPath(path)) {
      SigV4Check check = VerifySigV4(request, *options_.credentials, options_.clock());
      if (!check.ok) throw ApiError{403, check.error_type, check.message};
    }
    json body = json::object();
    if (!request.body->empty()) {
      std::string_view text = *request.body;
      std::string repaired;
      if (path == "/TraceSegments" && !utf8::IsValid(text)) {
        // Segment documents are ingest: invalid UTF-8 is repaired, not refused (otlp_codec.h).
        impl.invalid_utf8_replaced = utf8::AppendRepaired(text, &repaired);
        text = repaired;
      }
      if (JsonNestingDepth(text) > kMaxRequestJsonNesting) {
        Invalid("the request body nests arrays/objects deeper than " +
                std::to_string(kMaxRequestJsonNesting) + " levels");
      }
      body = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (body.is_discarded() || !body.is_object()) {
        Invalid("the request body must be a JSON object");
      }
    }
    if (path == "/TraceSegments") {
      impl.PutTraceSegments(body, send);
      return;
    }
    const bool ttl_as_iso = !request.Header("user-agent").has_value();
    if (IsReadOperation(path)) {
      reads_->Run(
          request.cancel, send,
          [this, path, body = std::move(body), ttl_as_iso, cancel = request.cancel] {
            Impl read{*this, {}, cancel};
            return read.Operate(path, body, ttl_as_iso);
          },
          [] {
            return XrayError(429, "ThrottledException",
                             "too many X-Ray reads are running; retry with backoff");
          });
      return;
    }
    send(impl.Operate(path, body, ttl_as_iso));
  } catch (const ApiError& e) {
    send(XrayError(e.status, e.code, e.message));
  } catch (const std::exception& e) {
    send(XrayError(500, "InternalFailure", std::string("unexpected error: ") + e.what()));
  }
}

void XrayApiHandler::HandleQuery(net::HttpRequest&& request, net::Responder respond) {
  if (request.method != "GET") {
    json error = {{"error", "use GET for " + request.path}, {"status", 405}};
    respond(net::HttpResponse(405, "application/json", DumpJson(error)));
    return;
  }
  CancelFlagPtr cancel = request.cancel;
  reads_->Run(
      std::move(cancel), std::move(respond),
      [this, request = std::move(request)] { return QueryView(request); },
      [] {
        json error = {{"error", "too many X-Ray reads are running; retry shortly"},
                      {"status", 503}};
        net::HttpResponse busy(503, "application/json", DumpJson(error));
        busy.SetHeader("Retry-After", "1");
        return busy;
      });
}

net::HttpResponse XrayApiHandler::QueryView(const net::HttpRequest& request) {
  net::HttpResponse out;
  auto reply = [&out](int status, const json& body) {
    out = net::HttpResponse(status, "application/json", DumpJson(body));
  };
  auto fail = [&reply](int status, const std::string& message) {
    reply(status, {{"error", message}, {"status", status}});
  };
  Impl impl{*this, {}, request.cancel};
  try {
    if (request.path == "/api/v1/xray/groups") {
      json groups = json::array();
      for (const XrayGroup& g : config_->Groups()) {
        json entry = GroupJson(g, *config_);
        json unknown = json::array();
        auto filter = Filter::Parse(g.filter_expression);
        auto services = store_->ListServices(options_.read_environment);
        if (filter.ok() && services.ok()) {
          for (const std::string& name : filter->ReferencedServices()) {
            bool known =
                std::any_of(services->begin(), services->end(),
                            [&](const store::ServiceSummary& s) { return s.name == name; });
            if (!known) unknown.push_back(name);
          }
        }
        entry["UnknownServices"] = unknown;
        entry["MatchesNoKnownService"] = !unknown.empty();
        groups.push_back(entry);
      }
      reply(200, {{"groups", groups}});
      return out;
    }
    if (request.path == "/api/v1/xray/sampling") {
      json rules = json::array();
      for (const SamplingRule& r : config_->Rules()) {
        json entry = RuleRecord(r, *config_);
        entry["ActiveClients"] = sampling_->ActiveClients(r.rule_name);
        json windows = json::array();
        for (const StatisticSummary& w : sampling_->History(r.rule_name)) {
          windows.push_back({{"Timestamp", w.timestamp},
                             {"RequestCount", w.request_count},
                             {"SampledCount", w.sampled_count},
                             {"BorrowCount", w.borrow_count}});
        }
        entry["Statistics"] = windows;
        rules.push_back(entry);
      }
      reply(200, {{"rules", rules}});
      return out;
    }
    if (request.path == "/api/v1/xray/trace-summaries") {
      const double now = options_.clock();
      auto number = [&](const char* name, double fallback) {
        auto text = request.QueryParam(name);
        if (!text) return fallback;
        char* end = nullptr;
        std::string copy(*text);
        double value = std::strtod(copy.c_str(), &end);
        if (copy.empty() || end != copy.c_str() + copy.size()) {
          throw ApiError{400, "", std::string(name) + " must be a number, got '" + copy + "'"};
        }
        return value;
      };
      json body = {{"StartTime", number("start", now - 3600)},
                   {"EndTime", number("end", now + 60)},
                   {"FilterExpression", std::string(request.QueryParam("filter").value_or(""))}};
      const size_t limit = static_cast<size_t>(number("limit", 100));
      json result = impl.GetTraceSummaries(body);
      json& summaries = result["TraceSummaries"];
      if (summaries.size() > limit) summaries.erase(summaries.begin() + limit, summaries.end());
      reply(200, result);
      return out;
    }
    fail(404, "no such endpoint: " + request.path +
                  " (X-Ray views: /api/v1/xray/groups, /api/v1/xray/sampling, "
                  "/api/v1/xray/trace-summaries)");
  } catch (const ApiError& e) {
    fail(e.status, e.message);
  } catch (const std::exception& e) {
    fail(500, std::string("unexpected error: ") + e.what());
  }
  return out;
}

}  // namespace ariadne::receivers::xray
