#include "receivers/xray/segment_decoder.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "common/utf8.h"
#include "model/xray_attributes.h"

namespace ariadne::receivers::xray {
namespace {

namespace attr = model::xray;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// A decode failure: the code for UnprocessedTraceSegments plus a message naming the field.
struct Failure {
  std::string code;
  std::string message;
};

std::optional<element> Field(object obj, std::string_view key) {
  element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS) return std::nullopt;
  if (value.is_null()) return std::nullopt;
  return value;
}

std::optional<std::string_view> StringField(object obj, std::string_view key) {
  auto value = Field(obj, key);
  if (!value || !value->is_string()) return std::nullopt;
  return value->get_string().value();
}

std::optional<double> NumberField(object obj, std::string_view key) {
  auto value = Field(obj, key);
  if (!value || !value->is_number()) return std::nullopt;
  return value->get_double().value();
}

// A number field that must be an integer (status, byte counts, line numbers): its value truncated,
// or nothing when it is not a number or lies outside int64 (8.6e202 as a status is garbage, and
// converting it would be undefined behaviour).
std::optional<int64_t> IntegerField(object obj, std::string_view key) {
  std::optional<double> v = NumberField(obj, key);
  if (!v || !(*v >= -9.2e18 && *v <= 9.2e18)) return std::nullopt;
  return static_cast<int64_t>(*v);
}

std::optional<bool> BoolField(object obj, std::string_view key) {
  auto value = Field(obj, key);
  if (!value || !value->is_bool()) return std::nullopt;
  return value->get_bool().value();
}

std::optional<object> ObjectField(object obj, std::string_view key) {
  auto value = Field(obj, key);
  if (!value || !value->is_object()) return std::nullopt;
  return value->get_object().value();
}

// Epoch seconds (with fraction) → Unix nanoseconds, rounded to the microsecond X-Ray recommends.
uint64_t SecondsToNanos(double seconds) {
  return static_cast<uint64_t>(std::llround(seconds * 1e6)) * 1000;
}

// The elements of a JSON array given as minified, valid JSON text ("[{...},{...}]"), as views into
// it. Only strings and nesting matter: commas at depth 1 outside strings separate elements.
std::vector<std::string_view> SplitMinifiedArray(std::string_view text) {
  std::vector<std::string_view> out;
  if (text.size() < 2 || text.front() != '[') return out;
  int depth = 0;
  bool in_string = false;
  size_t begin = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) {
        if (i > begin) out.push_back(text.substr(begin, i - begin));
        break;
      }
    } else if (c == ',' && depth == 1) {
      out.push_back(text.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  return out;
}

class Decoder {
 public:
  Decoder(model::SpanBatch* batch, const DecodeLimits& limits) : b_(*batch), limits_(limits) {}

  uint64_t invalid_utf8_replaced() const { return invalid_utf8_replaced_; }

  // `minified` is the document's text without whitespace (minify.h); the top entity of each
  // document keeps its part of it (kDocument).
  std::optional<Failure> DecodeTop(element doc, std::string_view minified) {
    if (doc.is_array()) {
      array items = doc.get_array().value();
      if (items.size() == 0) return Failure{"MissingField", "the document is an empty array"};
      std::vector<std::string_view> texts = SplitMinifiedArray(minified);
      size_t k = 0;
      for (element item : items) {
        if (!item.is_object()) {
          return Failure{"InvalidDocument", "an array document must hold subsegment objects"};
        }
        raw_ = k < texts.size() ? texts[k] : std::string_view();
        ++k;
        if (auto failure = DecodeIndependent(item.get_object().value())) return failure;
      }
      return std::nullopt;
    }
    raw_ = minified;
    if (!doc.is_object()) {
      return Failure{"InvalidDocument", "a segment document must be a JSON object"};
    }
    object obj = doc.get_object().value();
    auto type = StringField(obj, "type");
    if (type && *type == "subsegment") return DecodeIndependent(obj);
    if (type && *type != "segment") {
      return Failure{"InvalidDocument", "field 'type' must be \"segment\" or \"subsegment\""};
    }
    return DecodeSegment(obj);
  }

 private:
  std::optional<Failure> DecodeSegment(object obj) {
    auto trace_id = ReadTraceId(obj, /*required=*/true);
    if (!trace_id.ok()) return failure_;
    model::SpanId parent{};
    if (auto parent_text = StringField(obj, "parent_id")) {
      auto parsed = model::SpanId::FromHex(*parent_text);
      if (!parsed) return Failure{"InvalidParentId", "field 'parent_id' must be 16 hex digits"};
      parent = *parsed;
    }
    uint32_t resource = AddSegmentResource(obj);
    uint32_t scope = AddScope(obj);
    return DecodeEntity(obj, /*is_segment=*/true, *trace_id, parent, resource, scope, 0);
  }

  std::optional<Failure> DecodeIndependent(object obj) {
    auto trace_id = ReadTraceId(obj, /*required=*/true);
    if (!trace_id.ok()) return failure_;
    auto parent_text = StringField(obj, "parent_id");
    if (!parent_text) {
      return Failure{"MissingField",
                     "an independently sent subsegment needs 'parent_id' (the id of its parent "
                     "segment or subsegment)"};
    }
    auto parent = model::SpanId::FromHex(*parent_text);
    if (!parent) return Failure{"InvalidParentId", "field 'parent_id' must be 16 hex digits"};
    if (independent_resource_ < 0) {
      model::Resource resource;
      resource.attributes = {static_cast<uint32_t>(b_.attributes.size()), 0};
      independent_resource_ = static_cast<int64_t>(b_.resources.size());
      b_.resources.push_back(resource);
    }
    uint32_t scope = AddScope(obj);
    return DecodeEntity(obj, /*is_segment=*/false, *trace_id, *parent,
                        static_cast<uint32_t>(independent_resource_), scope, 0);
  }

  Result<model::TraceId> ReadTraceId(object obj, bool required) {
    auto text = StringField(obj, "trace_id");
    if (!text) {
      failure_ = Failure{"MissingField", "field 'trace_id' is required"};
      return Status::InvalidArgument("trace_id");
    }
    auto id = model::ParseXrayTraceId(*text);
    if (!id) id = model::TraceId::FromHex(*text);  // tolerate the 32-hex OTel form
    if (!id || id->IsZero()) {
      failure_ =
          Failure{"InvalidTraceId",
                  "field 'trace_id' must look like 1-5759e988-bd862e3fe1be46a994272793, got '" +
                      std::string(text->substr(0, 64)) + "'"};
      return Status::InvalidArgument("trace_id");
    }
    return *id;
  }

  // Copies `text` into the batch's arena. simdjson has validated the document's bytes, but its \u
  // unescaping lets a lone surrogate through (bytes ED A0..BF ..), so text holding 0xED is checked
  // and repaired (U+FFFD per bad subpart) like the raw bytes of a non-UTF-8 document.
  std::string_view Own(std::string_view text) {
    if (text.empty() || std::memchr(text.data(), 0xED, text.size()) == nullptr ||
        utf8::IsValid(text)) {
      return b_.arena.Copy(text);
    }
    std::string repaired;
    invalid_utf8_replaced_ += utf8::AppendRepaired(text, &repaired);
    return b_.arena.Copy(repaired);
  }

  void Attr(std::string_view key, model::Value value) {
    b_.attributes.push_back(model::KeyValue{key, value});
  }
  void StrAttr(std::string_view key, std::string_view value) {
    Attr(key, model::Value::String(Own(value)));
  }
  std::string_view Key(std::string_view prefix, std::string_view rest) {
    std::string key;
    key.reserve(prefix.size() + rest.size());
    key.append(prefix).append(rest);
    return Own(key);
  }
  std::string_view JsonText(element value) { return Own(simdjson::minify(value)); }

  // Any scalar JSON value as a typed attribute; objects and arrays as JSON text.
  void JsonAttr(std::string_view key, element value) {
    switch (value.type()) {
      case element_type::STRING:
        StrAttr(key, value.get_string().value());
        break;
      case element_type::BOOL:
        Attr(key, model::Value::Bool(value.get_bool().value()));
        break;
      case element_type::INT64:
        Attr(key, model::Value::Int(value.get_int64().value()));
        break;
      case element_type::UINT64:
      case element_type::DOUBLE:
        Attr(key, model::Value::Double(value.get_double().value()));
        break;
      case element_type::ARRAY:
        Attr(key, model::Value::Array(JsonText(value)));
        break;
      case element_type::OBJECT:
        Attr(key, model::Value::KvList(JsonText(value)));
        break;
      case element_type::NULL_VALUE:
        break;
    }
  }

  uint32_t AddScope(object obj) {
    model::Scope scope;
    scope.name = "aws-xray";
    if (auto aws = ObjectField(obj, "aws")) {
      if (auto xray = ObjectField(*aws, "xray")) {
        if (auto sdk = StringField(*xray, "sdk")) scope.name = Own(*sdk);
        if (auto version = StringField(*xray, "sdk_version")) {
          scope.version = Own(*version);
        }
      }
    }
    scope.attributes = {static_cast<uint32_t>(b_.attributes.size()), 0};
    b_.scopes.push_back(scope);
    return static_cast<uint32_t>(b_.scopes.size() - 1);
  }

  uint32_t AddSegmentResource(object obj) {
    const uint32_t begin = static_cast<uint32_t>(b_.attributes.size());
    if (auto name = StringField(obj, "name")) StrAttr(attr::kServiceName, *name);
    Attr(attr::kCloudProvider, model::Value::String("aws"));
    if (auto service = ObjectField(obj, "service")) {
      if (auto version = StringField(*service, "version")) StrAttr(attr::kServiceVersion, *version);
      if (auto runtime = StringField(*service, "runtime"))
        StrAttr(attr::kProcessRuntimeName, *runtime);
      if (auto version = StringField(*service, "runtime_version")) {
        StrAttr(attr::kProcessRuntimeVersion, *version);
      }
    }
    if (auto origin = StringField(obj, "origin")) {
      StrAttr(attr::kOrigin, *origin);
      std::string_view platform;
      if (*origin == "AWS::EC2::Instance") platform = "aws_ec2";
      if (*origin == "AWS::ECS::Container") platform = "aws_ecs";
      if (*origin == "AWS::EKS::Container") platform = "aws_eks";
      if (*origin == "AWS::ElasticBeanstalk::Environment") platform = "aws_elastic_beanstalk";
      if (*origin == "AWS::Lambda" || *origin == "AWS::Lambda::Function") platform = "aws_lambda";
      if (!platform.empty()) Attr(attr::kCloudPlatform, model::Value::String(platform));
    }
    if (auto aws = ObjectField(obj, "aws")) {
      if (auto account = StringField(*aws, "account_id")) StrAttr(attr::kCloudAccountId, *account);
      if (auto ec2 = ObjectField(*aws, "ec2")) {
        if (auto v = StringField(*ec2, "instance_id")) StrAttr(attr::kHostId, *v);
        if (auto v = StringField(*ec2, "availability_zone"))
          StrAttr(attr::kCloudAvailabilityZone, *v);
        if (auto v = StringField(*ec2, "instance_size")) StrAttr(attr::kHostType, *v);
        if (auto v = StringField(*ec2, "ami_id")) StrAttr(attr::kHostImageId, *v);
      }
      if (auto ecs = ObjectField(*aws, "ecs")) {
        if (auto v = StringField(*ecs, "container")) StrAttr(attr::kContainerName, *v);
      }
      if (auto eb = ObjectField(*aws, "elastic_beanstalk")) {
        if (auto v = StringField(*eb, "environment_name"))
          StrAttr(attr::kDeploymentEnvironment, *v);
        if (auto v = StringField(*eb, "version_label")) StrAttr(attr::kServiceVersion, *v);
        if (auto v = Field(*eb, "deployment_id")) JsonAttr(attr::kServiceInstanceId, *v);
      }
      if (auto xray = ObjectField(*aws, "xray")) {
        if (auto v = StringField(*xray, "sdk")) StrAttr(attr::kSdkName, *v);
        if (auto v = StringField(*xray, "sdk_version")) StrAttr(attr::kSdkVersion, *v);
      }
    }
    model::Resource resource;
    resource.attributes = {begin, static_cast<uint32_t>(b_.attributes.size()) - begin};
    b_.resources.push_back(resource);
    return static_cast<uint32_t>(b_.resources.size() - 1);
  }

  void AddHttp(object http, bool is_segment) {
    if (auto request = ObjectField(http, "request")) {
      if (auto v = StringField(*request, "method")) StrAttr(attr::kHttpMethod, *v);
      if (auto v = StringField(*request, "url")) StrAttr(attr::kHttpUrl, *v);
      if (auto v = StringField(*request, "user_agent")) StrAttr(attr::kHttpUserAgent, *v);
      if (auto v = StringField(*request, "client_ip")) StrAttr(attr::kHttpClientIp, *v);
      if (auto v = BoolField(*request, "x_forwarded_for")) {
        Attr(attr::kHttpXForwardedFor, model::Value::Bool(*v));
      }
      if (auto v = BoolField(*request, "traced")) Attr(attr::kTraced, model::Value::Bool(*v));
    }
    if (auto response = ObjectField(http, "response")) {
      if (auto v = IntegerField(*response, "status")) {
        Attr(attr::kHttpStatus, model::Value::Int(*v));
      }
      if (auto v = IntegerField(*response, "content_length")) {
        Attr(attr::kHttpContentLength, model::Value::Int(*v));
      }
    }
  }

  void AddAws(object aws, bool is_segment) {
    for (auto field : aws) {
      std::string_view key = field.key;
      if (is_segment &&
          (key == "account_id" || key == "ec2" || key == "ecs" || key == "elastic_beanstalk")) {
        continue;  // on the resource
      }
      if (key == "xray") {
        if (field.value.is_object()) {
          if (auto rule = StringField(field.value.get_object().value(), "sampling_rule_name")) {
            StrAttr(attr::kSamplingRuleName, *rule);
          }
        }
        continue;
      }
      if (key == "operation")
        JsonAttr(attr::kAwsOperation, field.value);
      else if (key == "region")
        JsonAttr(attr::kAwsRegion, field.value);
      else if (key == "request_id")
        JsonAttr(attr::kAwsRequestId, field.value);
      else if (key == "queue_url")
        JsonAttr(attr::kAwsQueueUrl, field.value);
      else if (key == "table_name")
        JsonAttr(attr::kAwsTableName, field.value);
      else if (key == "retries")
        JsonAttr(attr::kAwsRetries, field.value);
      else if (key == "account_id")
        JsonAttr(attr::kAwsAccountId, field.value);
      else if (key == "resource_names")
        JsonAttr(attr::kAwsResourceNames, field.value);
      else
        JsonAttr(Key(attr::kAwsPrefix, key), field.value);
    }
  }

  void AddSql(object sql) {
    if (auto v = StringField(sql, "database_type")) StrAttr(attr::kDbSystem, *v);
    if (auto v = StringField(sql, "sanitized_query")) StrAttr(attr::kDbStatement, *v);
    if (auto v = StringField(sql, "connection_string")) StrAttr(attr::kDbConnectionString, *v);
    if (auto v = StringField(sql, "user")) StrAttr(attr::kDbUser, *v);
    if (auto v = StringField(sql, "url")) StrAttr(attr::kDbUrl, *v);
    if (auto v = StringField(sql, "database_version")) StrAttr(attr::kDbVersion, *v);
    if (auto v = StringField(sql, "driver_version")) StrAttr(attr::kDbDriverVersion, *v);
    if (auto v = StringField(sql, "preparation")) StrAttr(attr::kDbPreparation, *v);
  }

  void AddAnnotations(object annotations) {
    for (auto field : annotations) {
      const element value = field.value;
      if (!(value.is_string() || value.is_bool() || value.is_number())) continue;  // as X-Ray
      JsonAttr(Key(attr::kAnnotationPrefix, field.key), value);
    }
  }

  void AddMetadata(object metadata) {
    for (auto field : metadata) {
      std::string_view key = Key(attr::kMetadataPrefix, field.key);
      if (field.value.is_object()) {
        Attr(key, model::Value::KvList(JsonText(field.value)));
      } else {
        JsonAttr(key, field.value);
      }
    }
  }

  struct ExceptionInfo {
    element value;
  };

  // The exception events of `cause` (object form); adds span attributes for the rest of it.
  void AddCauseAttributes(element cause, std::vector<object>* exceptions) {
    if (cause.is_string()) {
      StrAttr(attr::kCauseId, cause.get_string().value());
      return;
    }
    if (!cause.is_object()) return;
    object obj = cause.get_object().value();
    if (auto v = StringField(obj, "working_directory")) StrAttr(attr::kCauseWorkingDirectory, *v);
    if (auto v = Field(obj, "paths"); v && v->is_array()) {
      Attr(attr::kCausePaths, model::Value::Array(JsonText(*v)));
    }
    if (auto v = Field(obj, "exceptions"); v && v->is_array()) {
      array items = v->get_array().value();
      for (element e : items) {
        if (e.is_object()) exceptions->push_back(e.get_object().value());
      }
    }
  }

  void AddExceptionEvent(object e, uint64_t time) {
    model::Event event;
    event.time_unix_nano = time;
    event.name = attr::kExceptionEvent;
    const uint32_t begin = static_cast<uint32_t>(b_.attributes.size());
    if (auto v = StringField(e, "type")) StrAttr(attr::kExceptionType, *v);
    if (auto v = StringField(e, "message")) StrAttr(attr::kExceptionMessage, *v);
    if (auto v = StringField(e, "id")) StrAttr(attr::kExceptionId, *v);
    if (auto v = BoolField(e, "remote")) Attr(attr::kExceptionRemote, model::Value::Bool(*v));
    if (auto v = IntegerField(e, "truncated")) {
      Attr(attr::kExceptionTruncated, model::Value::Int(*v));
    }
    if (auto v = IntegerField(e, "skipped")) {
      Attr(attr::kExceptionSkipped, model::Value::Int(*v));
    }
    if (auto v = StringField(e, "cause")) StrAttr(attr::kExceptionCause, *v);
    if (auto stack = Field(e, "stack"); stack && stack->is_array()) {
      std::string trace;
      array frames = stack->get_array().value();
      for (element frame : frames) {
        if (!frame.is_object()) continue;
        object f = frame.get_object().value();
        trace += "  at ";
        trace += StringField(f, "label").value_or("?");
        trace += " (";
        trace += StringField(f, "path").value_or("?");
        if (auto line = IntegerField(f, "line")) {
          trace += ":" + std::to_string(*line);
        }
        trace += ")\n";
      }
      StrAttr(attr::kExceptionStacktrace, trace);
      Attr(attr::kExceptionStack, model::Value::Array(JsonText(*stack)));
    }
    event.attributes = {begin, static_cast<uint32_t>(b_.attributes.size()) - begin};
    b_.events.push_back(event);
  }

  std::optional<Failure> DecodeEntity(object obj, bool is_segment, const model::TraceId& trace_id,
                                      const model::SpanId& parent, uint32_t resource,
                                      uint32_t scope, int depth) {
    const char* what = is_segment ? "segment" : "subsegment";
    if (depth > limits_.max_subsegment_depth) {
      return Failure{"InvalidDocument", "subsegments are nested more than " +
                                            std::to_string(limits_.max_subsegment_depth) +
                                            " levels deep"};
    }
    auto id_text = StringField(obj, "id");
    if (!id_text) return Failure{"MissingField", std::string(what) + " field 'id' is required"};
    auto id = model::SpanId::FromHex(*id_text);
    if (!id || id->IsZero()) {
      return Failure{"InvalidId", std::string(what) + " field 'id' must be 16 hex digits, got '" +
                                      std::string(id_text->substr(0, 40)) + "'"};
    }
    auto name = StringField(obj, "name");
    if (!name || name->empty()) {
      return Failure{"MissingField", std::string(what) + " " + std::string(*id_text) +
                                         ": field 'name' is required"};
    }
    auto start = NumberField(obj, "start_time");
    if (!start || !std::isfinite(*start) || *start <= 0) {
      return Failure{"MissingField", std::string(what) + " " + std::string(*id_text) +
                                         ": field 'start_time' (epoch seconds) is required"};
    }
    const bool in_progress = BoolField(obj, "in_progress").value_or(false);
    auto end = NumberField(obj, "end_time");
    if (!in_progress && (!end || !std::isfinite(*end))) {
      return Failure{"MissingField", std::string(what) + " " + std::string(*id_text) +
                                         ": 'end_time' is required unless 'in_progress' is true"};
    }

    model::Span span;
    span.trace_id = trace_id;
    span.span_id = *id;
    span.parent_span_id = parent;
    span.name = Own(*name);
    span.resource_index = resource;
    span.scope_index = scope;
    span.start_time_unix_nano = SecondsToNanos(*start);
    span.end_time_unix_nano = in_progress ? span.start_time_unix_nano : SecondsToNanos(*end);
    auto ns = StringField(obj, "namespace");
    if (is_segment) {
      span.kind = model::SpanKind::kServer;
    } else {
      span.kind = ns && (*ns == "remote" || *ns == "aws") ? model::SpanKind::kClient
                                                          : model::SpanKind::kInternal;
    }

    // Attributes, contiguous for this span.
    const uint32_t begin = static_cast<uint32_t>(b_.attributes.size());
    Attr(attr::kType, model::Value::String(is_segment ? "segment" : "subsegment"));
    if (depth == 0 && !raw_.empty()) Attr(attr::kDocument, model::Value::KvList(Own(raw_)));
    if (ns) StrAttr(attr::kNamespace, *ns);
    if (in_progress) Attr(attr::kInProgress, model::Value::Bool(true));
    if (BoolField(obj, "inferred").value_or(false)) Attr(attr::kInferred, model::Value::Bool(true));
    if (auto v = StringField(obj, "user")) StrAttr(attr::kUser, *v);
    if (auto v = StringField(obj, "resource_arn")) StrAttr(attr::kResourceArn, *v);
    if (!is_segment) {
      if (auto v = StringField(obj, "origin")) StrAttr(attr::kOrigin, *v);
    }
    if (auto http = ObjectField(obj, "http")) AddHttp(*http, is_segment);
    if (auto aws = ObjectField(obj, "aws")) AddAws(*aws, is_segment);
    if (auto sql = ObjectField(obj, "sql")) AddSql(*sql);
    const bool error = BoolField(obj, "error").value_or(false);
    const bool fault = BoolField(obj, "fault").value_or(false);
    const bool throttle = BoolField(obj, "throttle").value_or(false);
    if (error) Attr(attr::kError, model::Value::Bool(true));
    if (fault) Attr(attr::kFault, model::Value::Bool(true));
    if (throttle) Attr(attr::kThrottle, model::Value::Bool(true));
    std::vector<object> exceptions;
    if (auto cause = Field(obj, "cause")) AddCauseAttributes(*cause, &exceptions);
    if (auto annotations = ObjectField(obj, "annotations")) AddAnnotations(*annotations);
    if (auto metadata = ObjectField(obj, "metadata")) AddMetadata(*metadata);
    if (auto v = Field(obj, "precursor_ids"); v && v->is_array()) {
      Attr(attr::kPrecursorIds, model::Value::Array(JsonText(*v)));
    }
    span.attributes = {begin, static_cast<uint32_t>(b_.attributes.size()) - begin};

    // Events: one "exception" event per cause exception.
    const uint32_t events_begin = static_cast<uint32_t>(b_.events.size());
    for (object e : exceptions) AddExceptionEvent(e, span.end_time_unix_nano);
    span.events = {events_begin, static_cast<uint32_t>(b_.events.size()) - events_begin};

    if (fault || error || throttle) {
      span.status_code = model::StatusCode::kError;
      std::string_view message = fault ? "fault" : (throttle ? "throttle" : "error");
      if (!exceptions.empty()) {
        if (auto m = StringField(exceptions.front(), "message")) message = *m;
      }
      span.status_message = Own(message);
    }
    b_.spans.push_back(span);

    if (auto subsegments = Field(obj, "subsegments"); subsegments && subsegments->is_array()) {
      array children = subsegments->get_array().value();
      for (element child : children) {
        if (!child.is_object()) {
          return Failure{"InvalidDocument", "'subsegments' must hold objects"};
        }
        object child_obj = child.get_object().value();
        // An embedded subsegment inherits the trace; a differing trace_id is an error.
        if (auto child_trace = StringField(child_obj, "trace_id")) {
          auto parsed = model::ParseXrayTraceId(*child_trace);
          if (!parsed || !(*parsed == trace_id)) {
            return Failure{"InvalidTraceId",
                           "an embedded subsegment's 'trace_id' must equal its "
                           "segment's"};
          }
        }
        if (auto failure =
                DecodeEntity(child_obj, false, trace_id, *id, resource, scope, depth + 1)) {
          return failure;
        }
      }
    }
    return std::nullopt;
  }

  model::SpanBatch& b_;
  const DecodeLimits& limits_;
  std::string_view raw_;  // minified text of the document being decoded
  int64_t independent_resource_ = -1;
  Failure failure_;
  uint64_t invalid_utf8_replaced_ = 0;
};

std::string PeekId(element doc) {
  if (!doc.is_object()) return "";
  auto id = StringField(doc.get_object().value(), "id");
  return id ? std::string(id->substr(0, 64)) : "";
}

}  // namespace

Result<size_t> DecodeSegmentDocument(std::string_view document, model::SpanBatch* batch,
                                     const DecodeLimits& limits, DecodeError* error,
                                     uint64_t* invalid_utf8_replaced) {
  auto fail = [&](std::string id, std::string code, std::string message) -> Status {
    if (error) *error = DecodeError{std::move(id), code, message};
    return Status::InvalidArgument(std::move(message));
  };
  if (document.size() > limits.max_document_bytes) {
    return fail("", "DocumentTooLarge",
                "segment document of " + std::to_string(document.size()) +
                    " bytes exceeds the limit of " + std::to_string(limits.max_document_bytes));
  }
  element doc;
  auto parse_error = ThreadParser().parse(document.data(), document.size()).get(doc);
  uint64_t replaced = 0;
  std::string repaired;
  // simdjson's DOM parser may report bad bytes inside a string as STRING_ERROR rather than
  // UTF8_ERROR, so any failure on a document that is not UTF-8 text gets the repair and a retry.
  if (parse_error != simdjson::SUCCESS && !utf8::IsValid(document)) {
    // Not UTF-8 text: repair it (U+FFFD per bad subpart) and decode that, as the OTLP receivers do.
    replaced = utf8::AppendRepaired(document, &repaired);
    parse_error = ThreadParser().parse(repaired.data(), repaired.size()).get(doc);
  }
  if (parse_error != simdjson::SUCCESS) {
    return fail(
        "", "InvalidJson",
        std::string("segment document is not valid JSON: ") + simdjson::error_message(parse_error));
  }
  // Decode straight into an empty batch; otherwise into a scratch batch so a failure leaves
  // `batch` untouched.
  const bool direct = batch->spans.empty() && batch->attributes.empty() &&
                      batch->resources.empty() && batch->scopes.empty();
  model::SpanBatch scratch;
  model::SpanBatch* target = direct ? batch : &scratch;
  // The text that parsed (the repaired copy when there was one), without whitespace: kept as sent.
  std::string_view parsed_text = repaired.empty() ? document : std::string_view(repaired);
  std::string minified(parsed_text.size(), '\0');
  size_t minified_size = 0;
  if (simdjson::minify(parsed_text.data(), parsed_text.size(), minified.data(), minified_size) !=
      simdjson::SUCCESS) {
    minified_size = 0;  // cannot happen for text that parsed; the document is then not kept
  }
  minified.resize(minified_size);
  Decoder decoder(target, limits);
  if (auto failure = decoder.DecodeTop(doc, minified)) {
    if (direct) *batch = model::SpanBatch();
    return fail(PeekId(doc), failure->code, failure->message);
  }
  size_t spans = target->spans.size();
  if (!direct) AppendBatch(scratch, batch);
  if (invalid_utf8_replaced) *invalid_utf8_replaced += replaced + decoder.invalid_utf8_replaced();
  return spans;
}

void AppendBatch(const model::SpanBatch& from, model::SpanBatch* to) {
  std::vector<int64_t> resource_map(from.resources.size(), -1);
  std::vector<int64_t> scope_map(from.scopes.size(), -1);
  for (size_t i = 0; i < from.spans.size(); ++i) {
    const model::Span& span = from.spans[i];
    if (resource_map[span.resource_index] < 0) {
      resource_map[span.resource_index] = to->CopyResourceFrom(from, span.resource_index);
    }
    if (scope_map[span.scope_index] < 0) {
      scope_map[span.scope_index] = to->CopyScopeFrom(from, span.scope_index);
    }
    to->CopySpanFrom(from, i, static_cast<uint32_t>(resource_map[span.resource_index]),
                     static_cast<uint32_t>(scope_map[span.scope_index]));
  }
}

Result<std::string_view> SplitDaemonDatagram(std::string_view datagram) {
  size_t newline = datagram.find('\n');
  if (newline == std::string_view::npos) {
    return Status::InvalidArgument("missing_header: no newline after the header line");
  }
  std::string_view header = datagram.substr(0, newline);
  std::string_view body = datagram.substr(newline + 1);
  while (!body.empty() && (body.front() == ' ' || body.front() == '\r' || body.front() == '\n' ||
                           body.front() == '\t')) {
    body.remove_prefix(1);
  }
  if (body.empty()) return Status::InvalidArgument("missing_header: empty segment document");
  element parsed;
  if (ThreadParser().parse(header.data(), header.size()).get(parsed) != simdjson::SUCCESS ||
      !parsed.is_object()) {
    return Status::InvalidArgument(
        "bad_header: the first line must be {\"format\": \"json\", \"version\": 1}");
  }
  object obj = parsed.get_object().value();
  auto format = StringField(obj, "format");
  auto version = Field(obj, "version");
  bool format_ok = format && format->size() == 4 && (((*format)[0] | 0x20) == 'j') &&
                   (((*format)[1] | 0x20) == 's') && (((*format)[2] | 0x20) == 'o') &&
                   (((*format)[3] | 0x20) == 'n');
  bool version_ok = version && version->is_number() && version->get_double().value() == 1.0;
  if (!format_ok || !version_ok) {
    return Status::InvalidArgument(
        "bad_header: the header must say {\"format\": \"json\", \"version\": 1}");
  }
  return body;
}

}  // namespace ariadne::receivers::xray
