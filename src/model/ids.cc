#include "model/ids.h"

namespace ariadne::model {

std::optional<TraceId> ParseXrayTraceId(std::string_view text) {
  // 1-XXXXXXXX-YYYYYYYYYYYYYYYYYYYYYYYY
  if (text.size() != 35 || text[0] != '1' || text[1] != '-' || text[10] != '-') return std::nullopt;
  std::string hex;
  hex.reserve(32);
  hex.append(text.substr(2, 8));
  hex.append(text.substr(11, 24));
  return TraceId::FromHex(hex);
}

std::string FormatXrayTraceId(const TraceId& id) {
  std::string hex = id.ToHex();
  return "1-" + hex.substr(0, 8) + "-" + hex.substr(8);
}

std::optional<TraceId> ParseAnyTraceId(std::string_view text) {
  if (auto id = TraceId::FromHex(text)) return id;
  return ParseXrayTraceId(text);
}

}  // namespace ariadne::model
