// Resource (the process's service.name and friends) and InstrumentationScope (the library that
// made a span). Both are built once, owned by the TracerProvider, and referenced by every span.
//
// Threads: immutable after construction; read from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ariadne/sdk/attribute.h"

namespace ariadne::sdk {

// An attribute that owns its key and string value.
struct OwnedAttribute {
  std::string key;
  AttributeType type = AttributeType::kString;
  std::string str;
  bool b = false;
  int64_t i = 0;
  double d = 0;

  OwnedAttribute() = default;
  OwnedAttribute(std::string_view k, const AttributeValue& v);
  AttributeValue value() const;
};

class Resource {
 public:
  Resource() = default;
  explicit Resource(std::vector<OwnedAttribute> attributes);

  // service.name, OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME per protocols.md §1.7:
  // OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES; with neither,
  // "unknown_service:<executable>". `extra` is applied first (lowest precedence). Adds the
  // telemetry.sdk.* attributes.
  static Resource FromEnvironment(std::vector<OwnedAttribute> extra = {});

  // Replaces or adds one attribute.
  void Set(std::string_view key, const AttributeValue& value);
  const OwnedAttribute* Find(std::string_view key) const;
  std::string_view ServiceName() const;
  const std::vector<OwnedAttribute>& attributes() const { return attributes_; }

 private:
  std::vector<OwnedAttribute> attributes_;
};

struct InstrumentationScope {
  std::string name;
  std::string version;
};

// Parses `k=v,k2=v2` (W3C-baggage-like) with whitespace trimmed around keys and values and values
// percent-decoded. Members without `=` or with an empty key are skipped. Used for
// OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS.
std::vector<std::pair<std::string, std::string>> ParseKeyValueList(std::string_view text);

// Percent-decodes `%XX` sequences; an invalid escape is kept as is.
std::string PercentDecode(std::string_view text);

}  // namespace ariadne::sdk
