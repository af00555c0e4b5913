#include "receivers/zipkin/zipkin_span_mapper.h"

#include <cstring>
#include <utility>

#include "common/utf8.h"
#include "receivers/zipkin/zipkin_decoder.h"

namespace ariadne::receivers::zipkin::internal {
namespace {

// How many rejection reasons end up in RejectionMessage().
constexpr size_t kMaxReasons = 3;

bool IsResourceTag(std::string_view key) {
  static constexpr std::string_view kPrefixes[] = {
      "service.", "telemetry.", "host.",       "os.",   "process.", "container.",
      "k8s.",     "cloud.",     "deployment.", "faas.", "device.",
  };
  for (std::string_view prefix : kPrefixes) {
    if (key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<model::SpanKind> ParseKind(std::string_view text) {
  if (EqualsIgnoreCase(text, "CLIENT")) return model::SpanKind::kClient;
  if (EqualsIgnoreCase(text, "SERVER")) return model::SpanKind::kServer;
  if (EqualsIgnoreCase(text, "PRODUCER")) return model::SpanKind::kProducer;
  if (EqualsIgnoreCase(text, "CONSUMER")) return model::SpanKind::kConsumer;
  if (EqualsIgnoreCase(text, "INTERNAL")) return model::SpanKind::kInternal;
  return std::nullopt;
}

namespace {

std::optional<model::StatusCode> ParseStatusCode(std::string_view text) {
  if (text.size() > 12 && EqualsIgnoreCase(text.substr(0, 12), "STATUS_CODE_")) {
    text.remove_prefix(12);
  }
  if (EqualsIgnoreCase(text, "OK")) return model::StatusCode::kOk;
  if (EqualsIgnoreCase(text, "ERROR")) return model::StatusCode::kError;
  if (EqualsIgnoreCase(text, "UNSET")) return model::StatusCode::kUnset;
  return std::nullopt;
}

std::optional<uint32_t> ParseCount(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  return v;
}

// Microseconds (a JSON number, integer or not) → nanoseconds; nullopt when not a positive number

}  // namespace

void SpanMapper::Reject(size_t ordinal, const std::string& reason) {
  ++rejected_;
  if (reasons_.size() < kMaxReasons) {
    reasons_.push_back("span #" + std::to_string(ordinal) + ": " + reason);
  }
}

std::string SpanMapper::RejectionMessage() const {
  if (rejected_ == 0) return "";
  std::string out =
      std::to_string(rejected_) + (rejected_ == 1 ? " span" : " spans") + " rejected: ";
  for (size_t i = 0; i < reasons_.size(); ++i) {
    if (i > 0) out += "; ";
    out += reasons_[i];
  }
  if (rejected_ > reasons_.size()) out += "; …";
  return out;
}

// Copies `text` into the batch's arena. simdjson validated the document's bytes, but its \u
// unescaping lets a lone surrogate through (bytes ED A0..BF ..), so text holding 0xED is checked
// and repaired like the raw bytes of a body that is not UTF-8.
std::string_view SpanMapper::Own(std::string_view text) {
  if (text.empty()) return {};
  if ((!check_all_utf8_ && std::memchr(text.data(), 0xED, text.size()) == nullptr) ||
      utf8::IsValid(text)) {
    return b_.arena.Copy(text);
  }
  std::string repaired;
  invalid_utf8_replaced_ += utf8::AppendRepaired(text, &repaired);
  return b_.arena.Copy(repaired);
}

model::Value SpanMapper::OwnValue(model::Value value) {
  if (value.type == model::ValueType::kString) value.str = Own(value.str);
  return value;
}

void SpanMapper::Attr(std::string_view key, model::Value value) {
  b_.attributes.push_back(model::KeyValue{key, value});
}

// The resource of a local service plus its resource tags; one per distinct combination.
uint32_t SpanMapper::ResourceFor(const ParsedSpan& span,
                                 const std::vector<const Tag*>& resource_tags) {
  std::string key;
  std::string_view service = span.local ? span.local->service_name : std::string_view();
  key.append(service).push_back('\0');
  for (const Tag* tag : resource_tags) {
    if (!service.empty() && tag->key == "service.name") continue;  // the endpoint's name wins
    key.append(tag->key).push_back('\0');
    key.push_back(static_cast<char>(tag->value.type));
    if (tag->value.type == model::ValueType::kString) {
      key.append(tag->value.str);
    } else {
      key.append(reinterpret_cast<const char*>(&tag->value.int_value), sizeof(int64_t));
    }
    key.push_back('\0');
  }
  auto [it, inserted] = resources_.try_emplace(std::move(key), 0);
  if (!inserted) return it->second;
  model::Resource resource;
  resource.attributes.begin = static_cast<uint32_t>(b_.attributes.size());
  if (!service.empty()) Attr("service.name", model::Value::String(Own(service)));
  for (const Tag* tag : resource_tags) {
    if (!service.empty() && tag->key == "service.name") continue;
    Attr(Own(tag->key), OwnValue(tag->value));
  }
  resource.attributes.count =
      static_cast<uint32_t>(b_.attributes.size()) - resource.attributes.begin;
  b_.resources.push_back(resource);
  it->second = static_cast<uint32_t>(b_.resources.size() - 1);
  return it->second;
}

uint32_t SpanMapper::ScopeFor(std::string_view name, std::string_view version) {
  std::string key;
  key.append(name).push_back('\0');
  key.append(version);
  auto [it, inserted] = scopes_.try_emplace(std::move(key), 0);
  if (!inserted) return it->second;
  model::Scope scope;
  scope.name = Own(name);
  scope.version = Own(version);
  scope.attributes = {static_cast<uint32_t>(b_.attributes.size()), 0};
  b_.scopes.push_back(scope);
  it->second = static_cast<uint32_t>(b_.scopes.size() - 1);
  return it->second;
}

void SpanMapper::Emit(const ParsedSpan& parsed) {
  model::Span span;
  span.trace_id = parsed.trace_id;
  span.span_id = parsed.span_id;
  span.parent_span_id = parsed.parent_span_id;
  span.name = Own(parsed.name);
  span.kind = parsed.kind.value_or(model::SpanKind::kUnspecified);
  span.start_time_unix_nano = parsed.start_unix_nano;
  span.end_time_unix_nano = parsed.start_unix_nano + parsed.duration_nano;
  span.dropped_events_count = parsed.dropped_annotations;

  // Sort the tags: resource attributes, the ones the model has a field for, span attributes.
  std::vector<const Tag*> resource_tags;
  std::vector<const Tag*> span_tags;
  std::string_view scope_name, scope_version, status_description, error_text;
  std::optional<model::StatusCode> status;
  bool error_tag = false;
  for (const Tag& tag : parsed.tags) {
    const bool is_string = tag.value.type == model::ValueType::kString;
    const std::string_view text = is_string ? tag.value.str : std::string_view();
    const std::string_view key = tag.key;
    if (IsResourceTag(key)) {
      resource_tags.push_back(&tag);
    } else if (is_string && (key == "otel.scope.name" || key == "otel.library.name")) {
      scope_name = text;
    } else if (is_string && (key == "otel.scope.version" || key == "otel.library.version")) {
      scope_version = text;
    } else if (key == "otel.status_code" && is_string && ParseStatusCode(text)) {
      status = ParseStatusCode(text);
    } else if (key == "otel.status_description" && is_string) {
      status_description = text;
    } else if (key == "error" && !(is_string && EqualsIgnoreCase(text, "false")) &&
               !(tag.value.type == model::ValueType::kBool && !tag.value.bool_value)) {
      error_tag = true;
      if (is_string && !EqualsIgnoreCase(text, "true")) error_text = text;
    } else if (key == "w3c.tracestate" && is_string) {
      span.trace_state = Own(text);
    } else if (key == "span.kind" && is_string && !parsed.kind && ParseKind(text)) {
      span.kind = *ParseKind(text);
    } else if (key == "otel.dropped_attributes_count" && is_string && ParseCount(text)) {
      span.dropped_attributes_count = *ParseCount(text);
    } else if (key == "otel.dropped_events_count" && is_string && ParseCount(text)) {
      span.dropped_events_count += *ParseCount(text);
    } else if (key == "otel.dropped_links_count" && is_string && ParseCount(text)) {
      span.dropped_links_count = *ParseCount(text);
    } else {
      span_tags.push_back(&tag);
    }
  }
  if (error_tag) status = model::StatusCode::kError;
  span.status_code = status.value_or(model::StatusCode::kUnset);
  if (span.status_code == model::StatusCode::kError) {
    span.status_message = Own(!status_description.empty() ? status_description : error_text);
  } else if (!status_description.empty()) {
    span.status_message = Own(status_description);
  }
  span.resource_index = ResourceFor(parsed, resource_tags);
  span.scope_index = ScopeFor(scope_name, scope_version);

  span.attributes.begin = static_cast<uint32_t>(b_.attributes.size());
  for (const Tag* tag : span_tags) Attr(Own(tag->key), OwnValue(tag->value));
  if (parsed.local) {
    const Endpoint& local = *parsed.local;
    std::string_view ip = !local.ipv4.empty() ? local.ipv4 : local.ipv6;
    if (!ip.empty()) Attr("net.host.ip", model::Value::String(Own(ip)));
    if (local.port > 0) Attr("net.host.port", model::Value::Int(local.port));
  }
  if (parsed.remote) {
    const Endpoint& remote = *parsed.remote;
    if (!remote.service_name.empty()) {
      Attr("peer.service", model::Value::String(Own(remote.service_name)));
    }
    std::string_view ip = !remote.ipv4.empty() ? remote.ipv4 : remote.ipv6;
    if (!ip.empty()) Attr("net.peer.ip", model::Value::String(Own(ip)));
    if (remote.port > 0) Attr("net.peer.port", model::Value::Int(remote.port));
  }
  if (parsed.shared) {
    // The server half of a shared span: its own id, the client's (shared) id as its parent.
    span.parent_span_id = parsed.span_id;
    span.span_id = SharedServerSpanId(parsed.span_id);
    Attr("zipkin.shared", model::Value::Bool(true));
  }
  span.attributes.count = static_cast<uint32_t>(b_.attributes.size()) - span.attributes.begin;

  span.events.begin = static_cast<uint32_t>(b_.events.size());
  for (const Annotation& annotation : parsed.annotations) {
    model::Event event;
    event.time_unix_nano = annotation.time_unix_nano;
    event.name = Own(annotation.value);
    event.attributes = {static_cast<uint32_t>(b_.attributes.size()), 0};
    b_.events.push_back(event);
  }
  span.events.count = static_cast<uint32_t>(b_.events.size()) - span.events.begin;
  span.links = {static_cast<uint32_t>(b_.links.size()), 0};
  b_.spans.push_back(span);
}

}  // namespace ariadne::receivers::zipkin::internal
