#include "api/xray/account_ops.h"

#include <vector>

#include "api/xray/operations.h"
#include "api/xray/request_fields.h"

namespace ariadne::api::xray {

namespace {

// Tag operations on an unknown ARN: X-Ray's ResourceNotFoundException (404).
void ThrowTagStatus(const Status& status) {
  if (status.IsNotFound())
    throw ApiError{404, "ResourceNotFoundException", std::string(status.message())};
  ThrowStatus(status, "TooManyTagsException");
}

}  // namespace

sampling::Tags ParseTagList(const json& body) {
  sampling::Tags tags;
  const json* list = Member(body, "Tags");
  if (!list) return tags;
  if (!list->is_array()) Invalid("Tags must be a list of {\"Key\": ..., \"Value\": ...}");
  for (size_t i = 0; i < list->size(); ++i) {
    const json& tag = (*list)[i];
    const std::string path = "Tags[" + std::to_string(i) + "].";
    if (!tag.is_object()) Invalid(path.substr(0, path.size() - 1) + " must be an object");
    tags[ReqString(tag, "Key", path)] = ReqString(tag, "Value", path);
  }
  if (tags.size() > 50) throw ApiError{400, "TooManyTagsException", "at most 50 tags per resource"};
  Status valid = sampling::ValidateTags(tags);
  if (!valid.ok()) Invalid("Tags: " + std::string(valid.message()));
  return tags;
}

bool XrayAccountOps::Handles(const std::string& path) {
  return IsXrayOperationOf(path, XrayFamily::kAccount);
}

nlohmann::json XrayAccountOps::Run(const std::string& path, const json& body) {
  if (path == "/TagResource") {
    const std::string arn = ReqString(body, "ResourceARN");
    if (!Member(body, "Tags")) Invalid("Tags is required");
    Status status = config_->TagResource(arn, ParseTagList(body));
    if (!status.ok()) ThrowTagStatus(status);
    return json::object();
  }
  if (path == "/UntagResource") {
    const std::string arn = ReqString(body, "ResourceARN");
    Status status = config_->UntagResource(arn, ReqStringList(body, "TagKeys", 50));
    if (!status.ok()) ThrowTagStatus(status);
    return json::object();
  }
  if (path == "/ListTagsForResource") {
    ParseOffsetToken(body);
    auto tags = config_->ListTags(ReqString(body, "ResourceARN"));
    if (!tags.ok()) ThrowTagStatus(tags.status());
    json list = json::array();
    for (const auto& [key, value] : *tags) list.push_back({{"Key", key}, {"Value", value}});
    return {{"Tags", list}};
  }
  if (path == "/EncryptionConfig" || path == "/PutEncryptionConfig") {
    if (path == "/PutEncryptionConfig") {
      sampling::EncryptionSettings settings;
      settings.type = ReqString(body, "Type");
      settings.key_id = OptString(body, "KeyId").value_or("");
      Status status = config_->SetEncryption(settings);
      if (!status.ok()) ThrowStatus(status);
    }
    sampling::EncryptionSettings current = config_->Encryption();
    json config = {{"Status", "ACTIVE"}, {"Type", current.type}};
    if (!current.key_id.empty()) config["KeyId"] = current.key_id;
    return {{"EncryptionConfig", config}};
  }
  if (path == "/GetTraceSegmentDestination" || path == "/UpdateTraceSegmentDestination") {
    if (path == "/UpdateTraceSegmentDestination") {
      Status status = config_->SetDestination(OptString(body, "Destination").value_or("XRay"));
      if (!status.ok()) ThrowStatus(status);
    }
    return {{"Destination", config_->Destination()}, {"Status", "ACTIVE"}};
  }
  // Insights: none are computed.
  if (path == "/InsightSummaries") {
    if (auto start = OptTime(body, "StartTime"); !start) Invalid("StartTime is required");
    if (auto end = OptTime(body, "EndTime"); !end) Invalid("EndTime is required");
    return {{"InsightSummaries", json::array()}};
  }
  const std::string id = ReqString(body, "InsightId");
  if (path == "/InsightEvents") return {{"InsightEvents", json::array()}};
  if (path == "/InsightImpactGraph") {
    return {{"InsightId", id}, {"Services", json::array()}};
  }
  return json::object();  // GetInsight: no such insight
}

}  // namespace ariadne::api::xray
