// The X-Ray API's control operations: groups (CreateGroup … DeleteGroup), sampling rules
// (GetSamplingRules … DeleteSamplingRule), GetSamplingTargets and GetSamplingStatisticSummaries.
// They read the request JSON, call the sampling module (src/sampling: the durable config store and
// the sampling-target computation) and shape the answer. Cheap, never scan traces: they are
// answered on the listener's I/O thread.
//
// One instance per request. Errors are thrown as ApiError (request_fields.h); the router turns
// them into X-Ray's error form.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "query/xray/trace_reads.h"
#include "sampling/config_store.h"
#include "sampling/sampling_targets.h"

namespace ariadne::api::xray {

class XrayControlOps {
 public:
  // `reader` is only asked which services exist, for the "filter names a service that never sent
  // data" hint.
  XrayControlOps(sampling::XrayConfigStore* config, sampling::SamplingTargets* targets,
                 const query::xray::XrayTraceReader* reader)
      : config_(config), targets_(targets), reader_(reader) {}

  // True for the paths this class answers.
  static bool Handles(const std::string& path);
  // Runs the operation at `path`. `ttl_as_iso`: send ReservoirQuotaTTL as ISO-8601 (Node SDK).
  nlohmann::json Run(const std::string& path, const nlohmann::json& body, bool ttl_as_iso);

  // A hint for the x-ariadne-hint header ("" when none).
  const std::string& hint() const { return hint_; }

 private:
  using json = nlohmann::json;
  json CreateGroup(const json& body);
  json GetGroup(const json& body);
  json GetGroups(const json& body);
  json UpdateGroup(const json& body);
  json DeleteGroup(const json& body);
  json GetSamplingRules(const json& body);
  json CreateSamplingRule(const json& body);
  json UpdateSamplingRule(const json& body);
  json DeleteSamplingRule(const json& body);
  json GetSamplingTargets(const json& body, bool ttl_as_iso);
  json GetSamplingStatisticSummaries(const json& body);
  std::string UnknownServiceHint(const sampling::XrayGroup& group) const;

  sampling::XrayConfigStore* config_;
  sampling::SamplingTargets* targets_;
  const query::xray::XrayTraceReader* reader_;
  std::string hint_;
};

// Parses a filter expression; InvalidRequestException naming `field` and the column otherwise.
query::xray_filter::Filter ParseFilterOrThrow(const std::string& text, const char* field);

}  // namespace ariadne::api::xray
