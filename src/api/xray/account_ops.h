// The X-Ray API's account-level operations: resource tags (TagResource, UntagResource,
// ListTagsForResource on group and sampling-rule ARNs), the encryption setting
// (GetEncryptionConfig, PutEncryptionConfig), the trace segment destination
// (GetTraceSegmentDestination, UpdateTraceSegmentDestination) and Insights (GetInsightSummaries,
// GetInsight, GetInsightEvents, GetInsightImpactGraph — Ariadne computes no insights, so they
// answer empty). Settings live in the config store (src/sampling/config_store.h); Ariadne stores
// and answers them, and stores segments the same way whatever they say.
//
// One instance per request; errors are thrown as ApiError (request_fields.h).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sampling/config_store.h"

namespace ariadne::api::xray {

class XrayAccountOps {
 public:
  explicit XrayAccountOps(sampling::XrayConfigStore* config) : config_(config) {}

  static bool Handles(const std::string& path);
  nlohmann::json Run(const std::string& path, const nlohmann::json& body);

 private:
  sampling::XrayConfigStore* config_;
};

// Reads X-Ray's `Tags` list ([{"Key": ..., "Value": ...}]) from `body` (empty when absent) and
// checks it; InvalidRequestException naming the problem otherwise.
sampling::Tags ParseTagList(const nlohmann::json& body);

}  // namespace ariadne::api::xray
