#include "api/xray/operations.h"

namespace ariadne::api::xray {
namespace {

constexpr XrayAccess R = XrayAccess::kRead, W = XrayAccess::kWrite;
constexpr XrayFamily kIngest = XrayFamily::kIngest, kControl = XrayFamily::kControl,
                     kReads = XrayFamily::kReads, kAccount = XrayFamily::kAccount;

constexpr XrayOperation kOperations[] = {
    {"/TraceSegments", "PutTraceSegments", W, kIngest},
    {"/TelemetryRecords", "PutTelemetryRecords", W, kIngest},
    {"/GetSamplingRules", "GetSamplingRules", R, kControl},
    // Reports the SDK's request counts: it changes the sampler's state, so it is a write.
    {"/SamplingTargets", "GetSamplingTargets", W, kControl},
    {"/SamplingStatisticSummaries", "GetSamplingStatisticSummaries", R, kControl},
    {"/CreateSamplingRule", "CreateSamplingRule", W, kControl},
    {"/UpdateSamplingRule", "UpdateSamplingRule", W, kControl},
    {"/DeleteSamplingRule", "DeleteSamplingRule", W, kControl},
    {"/CreateGroup", "CreateGroup", W, kControl},
    {"/GetGroup", "GetGroup", R, kControl},
    {"/Groups", "GetGroups", R, kControl},
    {"/UpdateGroup", "UpdateGroup", W, kControl},
    {"/DeleteGroup", "DeleteGroup", W, kControl},
    {"/TraceSummaries", "GetTraceSummaries", R, kReads},
    {"/Traces", "BatchGetTraces", R, kReads},
    {"/ServiceGraph", "GetServiceGraph", R, kReads},
    {"/TraceGraph", "GetTraceGraph", R, kReads},
    {"/TimeSeriesServiceStatistics", "GetTimeSeriesServiceStatistics", R, kReads},
    {"/TagResource", "TagResource", W, kAccount},
    {"/UntagResource", "UntagResource", W, kAccount},
    {"/ListTagsForResource", "ListTagsForResource", R, kAccount},
    {"/EncryptionConfig", "GetEncryptionConfig", R, kAccount},
    {"/PutEncryptionConfig", "PutEncryptionConfig", W, kAccount},
    {"/GetTraceSegmentDestination", "GetTraceSegmentDestination", R, kAccount},
    {"/UpdateTraceSegmentDestination", "UpdateTraceSegmentDestination", W, kAccount},
    {"/InsightSummaries", "GetInsightSummaries", R, kAccount},
    {"/Insight", "GetInsight", R, kAccount},
    {"/InsightEvents", "GetInsightEvents", R, kAccount},
    {"/InsightImpactGraph", "GetInsightImpactGraph", R, kAccount},
};

}  // namespace

std::span<const XrayOperation> XrayOperations() { return kOperations; }

const XrayOperation* FindXrayOperation(std::string_view path) {
  for (const XrayOperation& op : kOperations) {
    if (op.path == path) return &op;
  }
  return nullptr;
}

bool IsXrayOperationOf(std::string_view path, XrayFamily family) {
  const XrayOperation* op = FindXrayOperation(path);
  return op != nullptr && op->family == family;
}

}  // namespace ariadne::api::xray
