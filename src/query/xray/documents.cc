#include "query/xray/documents.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/xray_attributes.h"

namespace ariadne::query::xray {
namespace {

// Insertion-ordered, so a stored document that gets subsegments spliced in keeps its key order.
using json = nlohmann::ordered_json;
namespace attr = model::xray;
using query::xray_filter::SegmentInfo;
using query::xray_filter::TraceView;

double Seconds(uint64_t nanos) { return std::round(nanos / 1000.0) / 1e6; }

json ValueToJson(const model::Value& v) {
  switch (v.type) {
    case model::ValueType::kString:
      return std::string(v.str);
    case model::ValueType::kBool:
      return v.bool_value;
    case model::ValueType::kInt:
      return v.int_value;
    case model::ValueType::kDouble:
      return v.double_value;
    case model::ValueType::kArray:
    case model::ValueType::kKvList: {
      json parsed = json::parse(v.str, nullptr, /*allow_exceptions=*/false);
      return parsed.is_discarded() ? json(std::string(v.str)) : parsed;
    }
    case model::ValueType::kBytes:
      return std::string(v.str);
    case model::ValueType::kEmpty:
      break;
  }
  return nullptr;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A node's "id" as the span model spells it (lowercase hex), "" when it has none.
std::string NodeId(const json& node) {
  if (!node.is_object()) return "";
  auto id = node.find("id");
  if (id == node.end() || !id->is_string()) return "";
  std::string text = id->get<std::string>();
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// `slot` as an object to fill in. Attributes may name any key (an OTLP span can carry "aws.ec2"
// as a string, or a cause id next to cause fields), so a scalar found where the document nests an
// object is replaced rather than indexed into, which nlohmann answers with an exception.
json& ObjectIn(json& slot) {
  if (!slot.is_object()) slot = json::object();
  return slot;
}

class Encoder {
 public:
  explicit Encoder(const TraceView& view) : view_(view), batch_(view.batch()) {
    for (size_t i : view.spans()) {
      const model::Span& s = batch_.spans[i];
      if (!s.parent_span_id.IsZero()) children_[s.parent_span_id.ToHex()].push_back(i);
      by_id_[s.span_id.ToHex()] = i;
      if (view.SegmentOfSpan(i) < 0) unsegmented_.insert(s.span_id.ToHex());
    }
    // Siblings by start time (the store's order of a trace's spans is not their arrival order).
    for (auto& [parent, list] : children_) {
      std::stable_sort(list.begin(), list.end(), [this](size_t a, size_t b) {
        return batch_.spans[a].start_time_unix_nano < batch_.spans[b].start_time_unix_nano;
      });
    }
  }

  json Entity(size_t index, const SegmentInfo* segment, bool embedded) {
    const model::Span& s = batch_.spans[index];
    json doc;
    doc["id"] = s.span_id.ToHex();
    doc["name"] = segment ? std::string(segment->name) : std::string(s.name);
    doc["start_time"] = Seconds(s.start_time_unix_nano);
    if (!embedded) doc["trace_id"] = model::FormatXrayTraceId(s.trace_id);
    if (!s.parent_span_id.IsZero() && !embedded) doc["parent_id"] = s.parent_span_id.ToHex();
    if (TraceView::IsInProgress(batch_, s)) {
      doc["in_progress"] = true;
    } else {
      doc["end_time"] = Seconds(s.end_time_unix_nano);
    }
    if (!segment && !embedded) doc["type"] = "subsegment";

    json http, aws, sql, annotations = json::object(), metadata = json::object(), cause;
    bool has_flags = false;
    for (uint32_t k = s.attributes.begin; k < s.attributes.end(); ++k) {
      const model::KeyValue& kv = batch_.attributes[k];
      std::string_view key = kv.key;
      json value = ValueToJson(kv.value);
      if (key == attr::kType || key == attr::kInProgress || key == attr::kDocument) continue;
      if (key == attr::kNamespace)
        doc["namespace"] = value;
      else if (key == attr::kInferred)
        doc["inferred"] = value;
      else if (key == attr::kUser)
        doc["user"] = value;
      else if (key == attr::kResourceArn)
        doc["resource_arn"] = value;
      else if (key == attr::kOrigin)
        doc["origin"] = value;
      else if (key == attr::kPrecursorIds)
        doc["precursor_ids"] = value;
      else if (key == attr::kHttpMethod || key == attr::kOldHttpMethod)
        http["request"]["method"] = value;
      else if (key == attr::kHttpUrl || key == attr::kOldHttpUrl)
        http["request"]["url"] = value;
      else if (key == attr::kHttpUserAgent || key == attr::kOldHttpUserAgent)
        http["request"]["user_agent"] = value;
      else if (key == attr::kHttpClientIp || key == attr::kOldHttpClientIp)
        http["request"]["client_ip"] = value;
      else if (key == attr::kHttpXForwardedFor)
        http["request"]["x_forwarded_for"] = value;
      else if (key == attr::kTraced)
        http["request"]["traced"] = value;
      else if (key == attr::kHttpStatus || key == attr::kOldHttpStatus)
        http["response"]["status"] = value;
      else if (key == attr::kHttpContentLength)
        http["response"]["content_length"] = value;
      else if (key == attr::kError || key == attr::kFault || key == attr::kThrottle) {
        doc[std::string(key.substr(9))] = value;  // "aws.xray." prefix
        has_flags = true;
      } else if (key == attr::kCauseId)
        cause = value;
      else if (key == attr::kCauseWorkingDirectory)
        ObjectIn(cause)["working_directory"] = value;
      else if (key == attr::kCausePaths)
        ObjectIn(cause)["paths"] = value;
      else if (key == attr::kSamplingRuleName)
        ObjectIn(aws["xray"])["sampling_rule_name"] = value;
      else if (key == attr::kAwsOperation)
        aws["operation"] = value;
      else if (key == attr::kAwsRegion)
        aws["region"] = value;
      else if (key == attr::kAwsRequestId)
        aws["request_id"] = value;
      else if (key == attr::kAwsQueueUrl)
        aws["queue_url"] = value;
      else if (key == attr::kAwsTableName)
        aws["table_name"] = value;
      else if (key == attr::kAwsRetries)
        aws["retries"] = value;
      else if (key == attr::kAwsAccountId)
        aws["account_id"] = value;
      else if (key == attr::kAwsResourceNames)
        aws["resource_names"] = value;
      else if (key == attr::kDbSystem)
        sql["database_type"] = value;
      else if (key == attr::kDbStatement)
        sql["sanitized_query"] = value;
      else if (key == attr::kDbConnectionString)
        sql["connection_string"] = value;
      else if (key == attr::kDbUser)
        sql["user"] = value;
      else if (key == attr::kDbUrl)
        sql["url"] = value;
      else if (key == attr::kDbVersion)
        sql["database_version"] = value;
      else if (key == attr::kDbDriverVersion)
        sql["driver_version"] = value;
      else if (key == attr::kDbPreparation)
        sql["preparation"] = value;
      else if (StartsWith(key, attr::kAnnotationPrefix)) {
        annotations[std::string(key.substr(attr::kAnnotationPrefix.size()))] = value;
      } else if (StartsWith(key, attr::kMetadataPrefix)) {
        metadata[std::string(key.substr(attr::kMetadataPrefix.size()))] = value;
      } else if (StartsWith(key, attr::kAwsPrefix) && !StartsWith(key, "aws.xray.")) {
        aws[std::string(key.substr(4))] = value;
      } else {
        ObjectIn(metadata["otel"])[std::string(key)] = value;
      }
    }
    if (segment) {
      // Resource → segment-level fields.
      std::string_view version = ResourceStr(s, attr::kServiceVersion);
      if (!version.empty()) doc["service"]["version"] = std::string(version);
      std::string_view origin = ResourceStr(s, attr::kOrigin);
      if (!origin.empty()) doc["origin"] = std::string(origin);
      auto set = [&](json& target, const char* field, std::string_view key) {
        std::string_view v = ResourceStr(s, key);
        if (!v.empty()) ObjectIn(target)[field] = std::string(v);
      };
      set(aws, "account_id", attr::kCloudAccountId);
      set(aws["ec2"], "instance_id", attr::kHostId);
      set(aws["ec2"], "availability_zone", attr::kCloudAvailabilityZone);
      set(aws["ec2"], "instance_size", attr::kHostType);
      set(aws["ec2"], "ami_id", attr::kHostImageId);
      set(aws["ecs"], "container", attr::kContainerName);
      set(aws["elastic_beanstalk"], "environment_name", attr::kDeploymentEnvironment);
      set(aws["xray"], "sdk", attr::kSdkName);
      set(aws["xray"], "sdk_version", attr::kSdkVersion);
      for (const char* k : {"ec2", "ecs", "elastic_beanstalk", "xray"}) {
        if (aws.contains(k) && aws[k].is_null()) aws.erase(k);
      }
      if (!has_flags) {
        if (segment->error) doc["error"] = true;
        if (segment->fault) doc["fault"] = true;
        if (segment->throttle) doc["throttle"] = true;
      }
    } else if (!has_flags && s.status_code == model::StatusCode::kError) {
      doc["fault"] = true;
    }
    // Exception events → cause.exceptions.
    for (uint32_t e = s.events.begin; e < s.events.end(); ++e) {
      const model::Event& ev = batch_.events[e];
      if (ev.name != attr::kExceptionEvent) continue;
      json ex;
      for (uint32_t k = ev.attributes.begin; k < ev.attributes.end(); ++k) {
        const model::KeyValue& kv = batch_.attributes[k];
        json value = ValueToJson(kv.value);
        if (kv.key == attr::kExceptionId)
          ex["id"] = value;
        else if (kv.key == attr::kExceptionType)
          ex["type"] = value;
        else if (kv.key == attr::kExceptionMessage)
          ex["message"] = value;
        else if (kv.key == attr::kExceptionRemote)
          ex["remote"] = value;
        else if (kv.key == attr::kExceptionTruncated)
          ex["truncated"] = value;
        else if (kv.key == attr::kExceptionSkipped)
          ex["skipped"] = value;
        else if (kv.key == attr::kExceptionCause)
          ex["cause"] = value;
        else if (kv.key == attr::kExceptionStack)
          ex["stack"] = value;
      }
      if (!ex.contains("id")) ex["id"] = s.span_id.ToHex();
      if (cause.is_string()) cause = json::object();
      cause["exceptions"].push_back(ex);
    }
    if (!http.is_null()) doc["http"] = http;
    if (!aws.is_null() && !aws.empty()) doc["aws"] = aws;
    if (!sql.is_null()) doc["sql"] = sql;
    if (!cause.is_null()) doc["cause"] = cause;
    if (!annotations.empty()) doc["annotations"] = annotations;
    if (!metadata.empty()) doc["metadata"] = metadata;

    return doc;
  }

  // The document of a segment (`segment` set) or of a subsegment tree that is not inside a
  // segment's document (`segment` null, `embedded` false: an independent subsegment with no
  // parent in the trace). A span that arrived as an X-Ray document gives back the document as sent;
  // spans from elsewhere are rendered from the span model. Subsegments whose spans belong under a
  // node of the tree but are not in it (sent independently, or OTLP children) are appended to that
  // node's `subsegments`, as X-Ray merges independently sent subsegments into their segment.
  // `*spliced` is set when the tree differs from the stored text.
  json Tree(size_t index, const SegmentInfo* segment, bool embedded, bool* spliced) {
    json doc;
    if (const model::Value* stored = StoredDocument(index)) {
      doc = json::parse(stored->str, nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded() || !doc.is_object()) doc = json();
    }
    if (doc.is_null()) {
      doc = Entity(index, segment, embedded);
      *spliced = true;
    }
    CollectIds(doc, 0);
    AttachChildren(doc, index, spliced, 0);
    return doc;
  }

  // Stored documents that no segment's tree took in (their parent never arrived).
  std::vector<size_t> UnplacedDocuments() const {
    std::vector<size_t> out;
    for (size_t i : view_.spans()) {
      if (StoredDocument(i) == nullptr || present_.count(batch_.spans[i].span_id.ToHex())) continue;
      // Emitted under an unplaced ancestor instead, when it has one.
      if (!batch_.spans[i].parent_span_id.IsZero() && view_.SegmentOfSpan(i) < 0 &&
          unsegmented_.count(batch_.spans[i].parent_span_id.ToHex())) {
        continue;
      }
      out.push_back(i);
    }
    return out;
  }

  json Inferred(const SegmentInfo& seg) {
    const model::Span& s = batch_.spans[seg.span];
    json doc;
    model::SpanId id = s.span_id;
    id.bytes[0] ^= 0x80;  // a stable id distinct from the subsegment's
    doc["id"] = id.ToHex();
    doc["name"] = std::string(seg.name);
    doc["trace_id"] = model::FormatXrayTraceId(s.trace_id);
    doc["parent_id"] = s.span_id.ToHex();
    doc["start_time"] = Seconds(s.start_time_unix_nano);
    doc["end_time"] = Seconds(s.end_time_unix_nano);
    doc["inferred"] = true;
    if (!seg.type.empty()) doc["origin"] = std::string(seg.type);
    if (seg.http.status) doc["http"]["response"]["status"] = seg.http.status;
    if (!seg.http.url.empty()) doc["http"]["request"]["url"] = std::string(seg.http.url);
    if (!seg.http.method.empty()) doc["http"]["request"]["method"] = std::string(seg.http.method);
    if (seg.error) doc["error"] = true;
    if (seg.fault) doc["fault"] = true;
    if (seg.throttle) doc["throttle"] = true;
    return doc;
  }

 private:
  static constexpr int kMaxDepth = 256;

  const model::Value* StoredDocument(size_t index) const {
    const model::Span& s = batch_.spans[index];
    const model::Value* v = batch_.FindAttribute(s.attributes, attr::kDocument);
    if (v == nullptr ||
        (v->type != model::ValueType::kKvList && v->type != model::ValueType::kString)) {
      return nullptr;
    }
    return v;
  }

  static bool NodeInProgress(const json& node) {
    auto v = node.find("in_progress");
    return v != node.end() && v->is_boolean() && v->get<bool>();
  }

  void CollectIds(const json& node, int depth) {
    if (!node.is_object() || depth > kMaxDepth) return;
    if (std::string id = NodeId(node); !id.empty()) present_.insert(id);
    auto subs = node.find("subsegments");
    if (subs == node.end() || !subs->is_array()) return;
    for (const json& child : *subs) CollectIds(child, depth + 1);
  }

  // For `node` (standing for span `index`) and every subsegment nested in it: an embedded
  // in-progress subsegment whose complete version came as its own document is replaced by it,
  // and the spans under a node that the tree lacks are appended to its `subsegments`.
  void AttachChildren(json& node, size_t index, bool* spliced, int depth) {
    if (!node.is_object() || depth > kMaxDepth) return;
    auto subs = node.find("subsegments");
    if (subs != node.end() && subs->is_array()) {
      for (size_t k = 0; k < subs->size(); ++k) {
        json& child = (*subs)[k];
        auto child_index = IndexOf(child);
        if (!child_index) continue;
        ReplaceInProgress(child, *child_index, spliced);
        AttachChildren(child, *child_index, spliced, depth + 1);
      }
    }
    auto it = children_.find(batch_.spans[index].span_id.ToHex());
    if (it == children_.end()) return;
    const int owner = view_.SegmentOfSpan(index);
    for (size_t child : it->second) {
      if (view_.SegmentOfSpan(child) != owner || IsSegmentSpan(child)) continue;
      const std::string id = batch_.spans[child].span_id.ToHex();
      if (present_.count(id)) continue;
      present_.insert(id);
      json sub = StoredDocument(child) ? Tree(child, nullptr, false, spliced)
                                       : Tree(child, nullptr, /*embedded=*/true, spliced);
      node["subsegments"].push_back(std::move(sub));
      *spliced = true;
    }
  }

  // `existing` is an embedded node stored in progress; when the version of its id that the view
  // kept is complete and came as its own document, that document takes its place.
  void ReplaceInProgress(json& existing, size_t span, bool* spliced) {
    if (!NodeInProgress(existing)) return;
    const model::Value* stored = StoredDocument(span);
    if (stored == nullptr || TraceView::IsInProgress(batch_, batch_.spans[span])) return;
    json fresh = json::parse(stored->str, nullptr, /*allow_exceptions=*/false);
    if (fresh.is_discarded() || !fresh.is_object()) return;
    CollectIds(fresh, 0);
    existing = std::move(fresh);
    *spliced = true;
  }

  // The span a tree node stands for (the deduplicated version of its id), if any.
  std::optional<size_t> IndexOf(const json& node) const {
    auto it = by_id_.find(NodeId(node));
    if (it == by_id_.end()) return std::nullopt;
    return it->second;
  }

  std::string_view ResourceStr(const model::Span& s, std::string_view key) {
    return query::xray_filter::ResourceStringAttr(batch_, s, key);
  }
  bool IsSegmentSpan(size_t span) {
    for (const SegmentInfo& seg : view_.segments()) {
      if (!seg.inferred && seg.span == span) return true;
    }
    return false;
  }

  const TraceView& view_;
  const model::SpanBatch& batch_;
  std::map<std::string, std::vector<size_t>> children_;
  std::map<std::string, size_t> by_id_;  // span id → deduplicated span index
  std::set<std::string> unsegmented_;    // spans that belong to no segment
  std::set<std::string> present_;        // ids already placed in a returned document
};

std::string Dump(const json& doc) {
  return doc.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

}  // namespace

std::vector<SegmentDocument> EncodeSegmentDocuments(const TraceView& view) {
  Encoder encoder(view);
  std::vector<SegmentDocument> out;
  auto emit = [&](const json& doc, bool spliced, std::string_view stored) {
    std::string id = NodeId(doc);
    out.push_back(SegmentDocument{std::move(id), spliced ? Dump(doc) : std::string(stored)});
  };
  const model::SpanBatch& batch = view.batch();
  auto stored_text = [&](size_t span) -> std::string_view {
    const model::Value* v = batch.FindAttribute(batch.spans[span].attributes, attr::kDocument);
    return v ? v->str : std::string_view();
  };
  for (const SegmentInfo& seg : view.segments()) {
    if (seg.inferred) {
      emit(encoder.Inferred(seg), true, {});
      continue;
    }
    bool spliced = false;
    json doc = encoder.Tree(seg.span, &seg, false, &spliced);
    emit(doc, spliced, stored_text(seg.span));
  }
  for (size_t span : encoder.UnplacedDocuments()) {
    bool spliced = false;
    json doc = encoder.Tree(span, nullptr, false, &spliced);
    emit(doc, spliced, stored_text(span));
  }
  return out;
}

}  // namespace ariadne::query::xray
