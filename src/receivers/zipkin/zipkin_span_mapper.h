// The common second half of the Zipkin v2 decoders (JSON in zipkin_decoder.cc, protobuf in
// zipkin_proto_decoder.cc): one span as read from either encoding (ParsedSpan, strings still in the
// request) and its mapping into the shared span model (SpanMapper), as zipkin_decoder.h describes.
// Internal to src/receivers/zipkin.
//
// Threads: a SpanMapper belongs to one decode call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/ids.h"
#include "model/span_batch.h"

namespace ariadne::receivers::zipkin::internal {

// Microseconds that still fit in nanoseconds as uint64 (year 2554).
constexpr double kMaxMicros = 18'446'744'073'709'551.0;

struct Endpoint {
  std::string_view service_name;
  std::string_view ipv4;
  std::string_view ipv6;
  int64_t port = 0;
};

struct Tag {
  std::string_view key;
  model::Value value;  // str points into the parsed document
};

struct Annotation {
  uint64_t time_unix_nano = 0;
  std::string_view value;
};

// One span object, read and checked, with strings still in the parsed document.
struct ParsedSpan {
  model::TraceId trace_id;
  model::SpanId span_id;
  model::SpanId parent_span_id;
  std::string_view name;
  std::optional<model::SpanKind> kind;
  uint64_t start_unix_nano = 0;
  uint64_t duration_nano = 0;
  std::optional<Endpoint> local;
  std::optional<Endpoint> remote;
  std::vector<Tag> tags;
  std::vector<Annotation> annotations;
  uint32_t dropped_annotations = 0;
  bool shared = false;
};

// CLIENT/SERVER/PRODUCER/CONSUMER/INTERNAL, any case; nullopt otherwise.
std::optional<model::SpanKind> ParseKind(std::string_view text);

class SpanMapper {
 public:
  // `check_all_utf8`: every string is validated (protobuf input); otherwise only strings that may
  // hold a lone surrogate from simdjson's \u unescaping (JSON input, validated by simdjson).
  SpanMapper(model::SpanBatch* batch, bool check_all_utf8)
      : b_(*batch), check_all_utf8_(check_all_utf8) {}

  // Appends the span (its resource and scope shared with earlier spans of the same kind).
  void Emit(const ParsedSpan& parsed);
  // Counts span #`ordinal` as left out; the first few reasons end up in RejectionMessage().
  void Reject(size_t ordinal, const std::string& reason);

  uint64_t rejected() const { return rejected_; }
  uint64_t invalid_utf8_replaced() const { return invalid_utf8_replaced_; }
  std::string RejectionMessage() const;

 private:
  std::string_view Own(std::string_view text);
  model::Value OwnValue(model::Value value);
  void Attr(std::string_view key, model::Value value);
  uint32_t ResourceFor(const ParsedSpan& span, const std::vector<const Tag*>& resource_tags);
  uint32_t ScopeFor(std::string_view name, std::string_view version);

  model::SpanBatch& b_;
  const bool check_all_utf8_;
  std::map<std::string, uint32_t> resources_;
  std::map<std::string, uint32_t> scopes_;
  uint64_t rejected_ = 0;
  std::vector<std::string> reasons_;
  uint64_t invalid_utf8_replaced_ = 0;
};

}  // namespace ariadne::receivers::zipkin::internal
