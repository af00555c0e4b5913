#include "api/xray/shapes.h"

#include <cstdint>
#include <ctime>
#include <random>
#include <set>
#include <utility>

#include "common/json_dump.h"
#include "model/xray_attributes.h"

namespace ariadne::api::xray {

using json = nlohmann::json;
using query::xray_filter::SegmentInfo;
using query::xray_filter::TraceView;
using sampling::SamplingRule;
using sampling::XrayConfigStore;
using sampling::XrayGroup;

namespace {

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

}  // namespace

net::HttpResponse JsonResponse(const json& body) {
  net::HttpResponse response(200, "application/json", DumpJson(body));
  response.SetHeader("x-amzn-RequestId", RequestId());
  return response;
}

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

json TraceSummaryJson(const TraceView& view) {
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

json ServicesJson(const query::xray::XrayServiceGraph& graph) {
  auto summary = [](const query::xray::XrayGraphStats& s) {
    return json{{"OkCount", s.ok},
                {"ErrorStatistics",
                 {{"ThrottleCount", s.throttle},
                  {"OtherCount", s.error_other},
                  {"TotalCount", s.throttle + s.error_other}}},
                {"FaultStatistics", {{"OtherCount", s.fault}, {"TotalCount", s.fault}}},
                {"TotalCount", s.total},
                {"TotalResponseTime", s.total_response_time}};
  };
  auto histogram = [](const query::xray::XrayGraphStats& s) {
    json out = json::array();
    for (const auto& [value, count] : s.histogram)
      out.push_back({{"Value", value}, {"Count", count}});
    return out;
  };
  json out = json::array();
  const auto& nodes = graph.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const query::xray::XrayGraphNode& n = nodes[i];
    json service = {{"ReferenceId", i},
                    {"Name", n.name},
                    {"Names", {n.name}},
                    {"Root", n.root},
                    {"Type", n.type.empty() ? (n.inferred ? "remote" : "service") : n.type},
                    {"State", n.inferred ? "unknown" : "active"},
                    {"StartTime", n.stats.start},
                    {"EndTime", n.stats.end},
                    {"Edges", json::array()},
                    {"SummaryStatistics", summary(n.stats)},
                    {"DurationHistogram", histogram(n.stats)},
                    {"ResponseTimeHistogram", histogram(n.stats)}};
    for (const auto& [target, stats] : n.edges) {
      service["Edges"].push_back({{"ReferenceId", target},
                                  {"StartTime", stats.start},
                                  {"EndTime", stats.end},
                                  {"SummaryStatistics", summary(stats)},
                                  {"ResponseTimeHistogram", histogram(stats)},
                                  {"Aliases", json::array()}});
    }
    out.push_back(service);
  }
  return out;
}

std::string IsoTime(double epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

net::HttpResponse XrayError(int status, const std::string& code, const std::string& message) {
  json body = {{"__type", code}, {"message", message}};
  net::HttpResponse response(status, "application/json", DumpJson(body));
  response.SetHeader("x-amzn-ErrorType", code);
  response.SetHeader("x-amzn-RequestId", RequestId());
  return response;
}

}  // namespace ariadne::api::xray
