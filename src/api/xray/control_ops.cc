#include "api/xray/control_ops.h"

#include <cstdio>
#include <map>
#include <vector>

#include "api/xray/account_ops.h"
#include "api/xray/operations.h"
#include "api/xray/request_fields.h"
#include "api/xray/shapes.h"

namespace ariadne::api::xray {

using query::xray_filter::Filter;
using sampling::SamplingRule;
using sampling::SamplingRuleUpdate;
using sampling::StatisticsDocument;
using sampling::StatisticSummary;
using sampling::TargetDocument;
using sampling::TargetsReply;
using sampling::XrayGroup;

Filter ParseFilterOrThrow(const std::string& text, const char* field) {
  auto filter = Filter::Parse(text);
  if (!filter.ok()) Invalid(std::string(field) + ": " + std::string(filter.status().message()));
  return std::move(filter).value();
}

bool XrayControlOps::Handles(const std::string& path) {
  return IsXrayOperationOf(path, XrayFamily::kControl);
}

nlohmann::json XrayControlOps::Run(const std::string& path, const json& body, bool ttl_as_iso) {
  if (path == "/GetSamplingRules") return GetSamplingRules(body);
  if (path == "/SamplingTargets") return GetSamplingTargets(body, ttl_as_iso);
  if (path == "/SamplingStatisticSummaries") return GetSamplingStatisticSummaries(body);
  if (path == "/CreateSamplingRule") return CreateSamplingRule(body);
  if (path == "/UpdateSamplingRule") return UpdateSamplingRule(body);
  if (path == "/DeleteSamplingRule") return DeleteSamplingRule(body);
  if (path == "/CreateGroup") return CreateGroup(body);
  if (path == "/GetGroup") return GetGroup(body);
  if (path == "/Groups") return GetGroups(body);
  if (path == "/UpdateGroup") return UpdateGroup(body);
  if (path == "/DeleteGroup") return DeleteGroup(body);
  throw ApiError{404, "UnknownOperationException", "no X-Ray operation at POST " + path};
}

std::string XrayControlOps::UnknownServiceHint(const XrayGroup& group) const {
  if (group.filter_expression.empty() || reader_ == nullptr) return "";
  auto filter = Filter::Parse(group.filter_expression);
  if (!filter.ok()) return "";
  auto unknown = reader_->UnknownServices(*filter);
  if (!unknown.ok()) return "";
  std::string hint;
  for (const std::string& name : *unknown) {
    if (!hint.empty()) hint += "; ";
    hint += "group '" + group.name + "' filter names service \"" + name +
            "\", which has not sent any data";
  }
  if (!hint.empty()) std::fprintf(stderr, "ariadne xray: %s\n", hint.c_str());
  return hint;
}

json XrayControlOps::CreateGroup(const json& body) {
  XrayGroup group;
  group.name = ReqString(body, "GroupName");
  group.filter_expression = OptString(body, "FilterExpression").value_or("");
  if (const json* insights = Member(body, "InsightsConfiguration")) {
    group.insights_enabled =
        OptBool(*insights, "InsightsEnabled", "InsightsConfiguration.").value_or(false);
    group.notifications_enabled =
        OptBool(*insights, "NotificationsEnabled", "InsightsConfiguration.").value_or(false);
  }
  ParseFilterOrThrow(group.filter_expression, "FilterExpression");
  const sampling::Tags tags = ParseTagList(body);
  auto created = config_->CreateGroup(group);
  if (!created.ok()) ThrowStatus(created.status(), "TooManyTagsException");
  if (!tags.empty()) {
    Status tagged = config_->TagResource(config_->GroupArn(*created), tags);
    if (!tagged.ok()) ThrowStatus(tagged);
  }
  hint_ = UnknownServiceHint(*created);
  return {{"Group", GroupJson(*created, *config_)}};
}

json XrayControlOps::GetGroup(const json& body) {
  auto group = config_->GetGroup(OptString(body, "GroupName").value_or(""),
                                 OptString(body, "GroupARN").value_or(""));
  if (!group.ok()) ThrowStatus(group.status());
  return {{"Group", GroupJson(*group, *config_)}};
}

json XrayControlOps::GetGroups(const json& body) {
  size_t offset = ParseOffsetToken(body);
  json groups = json::array();
  auto all = config_->Groups();
  for (size_t i = offset; i < all.size(); ++i) groups.push_back(GroupJson(all[i], *config_));
  return {{"Groups", groups}};
}

json XrayControlOps::UpdateGroup(const json& body) {
  std::optional<std::string> filter = OptString(body, "FilterExpression");
  if (filter) ParseFilterOrThrow(*filter, "FilterExpression");
  std::optional<bool> insights, notifications;
  if (const json* cfg = Member(body, "InsightsConfiguration")) {
    insights = OptBool(*cfg, "InsightsEnabled", "InsightsConfiguration.");
    notifications = OptBool(*cfg, "NotificationsEnabled", "InsightsConfiguration.");
  }
  auto group = config_->UpdateGroup(OptString(body, "GroupName").value_or(""),
                                    OptString(body, "GroupARN").value_or(""), filter, insights,
                                    notifications);
  if (!group.ok()) ThrowStatus(group.status());
  hint_ = UnknownServiceHint(*group);
  return {{"Group", GroupJson(*group, *config_)}};
}

json XrayControlOps::DeleteGroup(const json& body) {
  Status status = config_->DeleteGroup(OptString(body, "GroupName").value_or(""),
                                       OptString(body, "GroupARN").value_or(""));
  if (!status.ok()) ThrowStatus(status);
  return json::object();
}

json XrayControlOps::GetSamplingRules(const json& body) {
  ParseOffsetToken(body);
  json records = json::array();
  for (const SamplingRule& r : config_->Rules()) records.push_back(RuleRecord(r, *config_));
  return {{"SamplingRuleRecords", records}};
}

json XrayControlOps::CreateSamplingRule(const json& body) {
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
    rule.boost_cooldown_minutes = OptInt(*boost, "CooldownWindowMinutes", p + "SamplingRateBoost.");
    if (!rule.boost_max_rate) Invalid("SamplingRule.SamplingRateBoost.MaxRate is required");
  }
  Status valid = ValidateRule(rule);
  if (!valid.ok()) Invalid("SamplingRule." + std::string(valid.message()));
  const sampling::Tags tags = ParseTagList(body);
  auto created = config_->CreateRule(rule);
  if (!created.ok()) ThrowStatus(created.status());
  if (!tags.empty()) {
    Status tagged = config_->TagResource(config_->RuleArn(created->rule_name), tags);
    if (!tagged.ok()) ThrowStatus(tagged);
  }
  return {{"SamplingRuleRecord", RuleRecord(*created, *config_)}};
}

json XrayControlOps::UpdateSamplingRule(const json& body) {
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
  auto updated = config_->UpdateRule(update);
  if (!updated.ok()) {
    if (updated.status().IsInvalidArgument())
      Invalid("SamplingRuleUpdate." + std::string(updated.status().message()));
    ThrowStatus(updated.status());
  }
  return {{"SamplingRuleRecord", RuleRecord(*updated, *config_)}};
}

json XrayControlOps::DeleteSamplingRule(const json& body) {
  auto deleted = config_->DeleteRule(OptString(body, "RuleName").value_or(""),
                                     OptString(body, "RuleARN").value_or(""));
  if (!deleted.ok()) ThrowStatus(deleted.status());
  return {{"SamplingRuleRecord", RuleRecord(*deleted, *config_)}};
}

json XrayControlOps::GetSamplingTargets(const json& body, bool ttl_as_iso) {
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
  TargetsReply reply = targets_->Compute(stats, config_->Rules());
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

json XrayControlOps::GetSamplingStatisticSummaries(const json& body) {
  ParseOffsetToken(body);
  json out = json::array();
  for (const StatisticSummary& s : targets_->Summaries()) {
    out.push_back({{"RuleName", s.rule_name},
                   {"Timestamp", s.timestamp},
                   {"RequestCount", s.request_count},
                   {"BorrowCount", s.borrow_count},
                   {"SampledCount", s.sampled_count}});
  }
  return {{"SamplingStatisticSummaries", out}};
}

}  // namespace ariadne::api::xray
