#include "ariadne/sdk/resource.h"

#include <unistd.h>

#include <cstdlib>

#include "internal/env.h"
#include "internal/hex.h"

namespace ariadne::sdk {

OwnedAttribute::OwnedAttribute(std::string_view k, const AttributeValue& v)
    : key(k), type(v.type()) {
  switch (v.type()) {
    case AttributeType::kString:
      str = std::string(v.string_value());
      break;
    case AttributeType::kBool:
      b = v.bool_value();
      break;
    case AttributeType::kInt64:
      i = v.int_value();
      break;
    case AttributeType::kDouble:
      d = v.double_value();
      break;
  }
}

AttributeValue OwnedAttribute::value() const {
  switch (type) {
    case AttributeType::kString:
      return AttributeValue(std::string_view(str));
    case AttributeType::kBool:
      return AttributeValue(b);
    case AttributeType::kInt64:
      return AttributeValue(i);
    case AttributeType::kDouble:
      return AttributeValue(d);
  }
  return {};
}

Resource::Resource(std::vector<OwnedAttribute> attributes) {
  for (auto& a : attributes) Set(a.key, a.value());
}

void Resource::Set(std::string_view key, const AttributeValue& value) {
  for (auto& a : attributes_) {
    if (a.key == key) {
      a = OwnedAttribute(key, value);
      return;
    }
  }
  attributes_.emplace_back(key, value);
}

const OwnedAttribute* Resource::Find(std::string_view key) const {
  for (const auto& a : attributes_) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

std::string_view Resource::ServiceName() const {
  const OwnedAttribute* a = Find("service.name");
  return a != nullptr && a->type == AttributeType::kString ? std::string_view(a->str)
                                                           : std::string_view();
}

namespace {

std::string ExecutableName() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, n);
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Resource Resource::FromEnvironment(std::vector<OwnedAttribute> extra) {
  Resource r(std::move(extra));
  for (const auto& [k, v] : ParseKeyValueList(internal::GetEnv("OTEL_RESOURCE_ATTRIBUTES"))) {
    r.Set(k, AttributeValue(std::string_view(v)));
  }
  std::string service = internal::GetEnv("OTEL_SERVICE_NAME");
  if (!service.empty()) {
    r.Set("service.name", AttributeValue(std::string_view(service)));
  } else if (r.ServiceName().empty()) {
    std::string exe = ExecutableName();
    std::string fallback = exe.empty() ? "unknown_service" : "unknown_service:" + exe;
    r.Set("service.name", AttributeValue(std::string_view(fallback)));
  }
  r.Set("telemetry.sdk.name", "ariadne");
  r.Set("telemetry.sdk.language", "cpp");
  r.Set("telemetry.sdk.version", "0.1.0");
  return r;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = internal::HexValue(text[i + 1], true);
      int lo = internal::HexValue(text[i + 2], true);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi << 4 | lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseKeyValueList(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view member = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t eq = member.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = internal::Trim(member.substr(0, eq));
    std::string_view value = internal::Trim(member.substr(eq + 1));
    if (key.empty()) continue;
    out.emplace_back(PercentDecode(key), PercentDecode(value));
  }
  return out;
}

}  // namespace ariadne::sdk
