#include "ariadne/sdk/propagation.h"

#include "internal/env.h"
#include "internal/hex.h"

namespace ariadne::sdk {

// ---------------------------------------------------------------------------------------------
// HeaderVectorCarrier

std::string_view HeaderVectorCarrier::Get(std::string_view key) const {
  for (const auto& [k, v] : headers) {
    if (internal::EqualsIgnoreCase(k, key)) return v;
  }
  return {};
}

void HeaderVectorCarrier::Set(std::string_view key, std::string_view value) {
  for (auto& [k, v] : headers) {
    if (internal::EqualsIgnoreCase(k, key)) {
      v = std::string(value);
      return;
    }
  }
  headers.emplace_back(std::string(key), std::string(value));
}

// ---------------------------------------------------------------------------------------------
// W3C trace-context

bool W3CTraceContextPropagator::ParseTraceparent(std::string_view value, SpanContext& out) {
  value = internal::Trim(value);
  if (value.size() < 55) return false;
  int v_hi = internal::HexValue(value[0], false);
  int v_lo = internal::HexValue(value[1], false);
  if (v_hi < 0 || v_lo < 0) return false;
  const int version = v_hi << 4 | v_lo;
  if (version == 0xFF) return false;
  if (version == 0 && value.size() != 55) return false;
  if (version != 0 && value.size() > 55 && value[55] != '-') return false;
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return false;
  auto trace_id = TraceId::FromHex(value.substr(3, 32));
  auto span_id = SpanId::FromHex(value.substr(36, 16));
  uint8_t flags = 0;
  if (!trace_id || !span_id || !internal::DecodeHex(value.substr(53, 2), &flags, false)) {
    return false;
  }
  if (!trace_id->IsValid() || !span_id->IsValid()) return false;
  out.trace_id = *trace_id;
  out.span_id = *span_id;
  out.trace_flags = flags & kTraceFlagSampled;
  out.is_remote = true;
  return true;
}

std::string W3CTraceContextPropagator::FormatTraceparent(const SpanContext& context) {
  std::string s(55, '-');
  s[0] = '0';
  s[1] = '0';
  context.trace_id.ToHex(&s[3]);
  context.span_id.ToHex(&s[36]);
  s[53] = '0';
  s[54] = context.IsSampled() ? '1' : '0';
  return s;
}

namespace {

bool ValidTracestateKey(std::string_view key) {
  if (key.empty() || key.size() > 256) return false;
  const char first = key[0];
  if (!((first >= 'a' && first <= 'z') || (first >= '0' && first <= '9'))) return false;
  int at_signs = 0;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                    c == '*' || c == '/' || c == '@';
    if (!ok) return false;
    if (c == '@') ++at_signs;
  }
  return at_signs <= 1 && key.back() != '@';
}

bool ValidTracestateValue(std::string_view value) {
  if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
  for (char c : value) {
    if (c < 0x20 || c > 0x7E || c == ',' || c == '=') return false;
  }
  return true;
}

}  // namespace

std::string W3CTraceContextPropagator::NormalizeTracestate(std::string_view value) {
  std::string out;
  std::vector<std::string_view> keys;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view member = internal::Trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (member.empty()) continue;
    size_t eq = member.find('=');
    if (eq == std::string_view::npos) return {};
    std::string_view key = member.substr(0, eq);
    std::string_view val = member.substr(eq + 1);
    if (!ValidTracestateKey(key) || !ValidTracestateValue(val)) return {};
    for (std::string_view k : keys) {
      if (k == key) return {};  // duplicate key: the whole header is invalid
    }
    keys.push_back(key);
    if (keys.size() > 32) return {};
    if (!out.empty()) out.push_back(',');
    out.append(member);
  }
  return out;
}

void W3CTraceContextPropagator::Inject(const SpanContext& context, TextMapCarrier& carrier) const {
  if (!context.IsValid()) return;
  carrier.Set("traceparent", FormatTraceparent(context));
  if (!context.trace_state.empty()) carrier.Set("tracestate", context.trace_state.header());
}

bool W3CTraceContextPropagator::Extract(const TextMapCarrier& carrier,
                                        ExtractedContext& out) const {
  SpanContext ctx;
  if (!ParseTraceparent(carrier.Get("traceparent"), ctx)) return false;
  std::string_view ts = carrier.Get("tracestate");
  if (!ts.empty()) ctx.trace_state = TraceState(NormalizeTracestate(ts));
  out.context = std::move(ctx);
  out.sampled = out.context.IsSampled() ? SampledHint::kSampled : SampledHint::kNotSampled;
  out.found = true;
  return true;
}

// ---------------------------------------------------------------------------------------------
// X-Ray

bool XRayPropagator::ParseHeader(std::string_view value, ExtractedContext& out) {
  std::optional<TraceId> root;
  std::optional<SpanId> parent;
  SampledHint sampled = SampledHint::kUnknown;
  while (!value.empty()) {
    size_t semi = value.find(';');
    std::string_view field = internal::Trim(value.substr(0, semi));
    value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
    if (field.empty()) continue;
    size_t eq = field.find('=');
    if (eq == std::string_view::npos) continue;  // tolerated, like the Python SDK
    std::string_view key = internal::Trim(field.substr(0, eq));
    std::string_view val = internal::Trim(field.substr(eq + 1));
    if (internal::EqualsIgnoreCase(key, "Root")) {
      root = TraceId::FromXRay(val);
      if (!root || !root->IsValid()) return false;
    } else if (internal::EqualsIgnoreCase(key, "Parent")) {
      parent = SpanId::FromHex(val, /*allow_upper=*/true);
      if (!parent || !parent->IsValid()) return false;
    } else if (internal::EqualsIgnoreCase(key, "Sampled")) {
      if (val == "1") {
        sampled = SampledHint::kSampled;
      } else if (val == "0") {
        sampled = SampledHint::kNotSampled;
      } else if (val == "?") {
        sampled = SampledHint::kRequested;
      }
    }
  }
  if (!root) return false;
  out.context = SpanContext();
  out.context.trace_id = *root;
  if (parent) out.context.span_id = *parent;
  out.context.trace_flags = sampled == SampledHint::kSampled ? kTraceFlagSampled : 0;
  out.context.is_remote = true;
  out.sampled = sampled;
  out.found = true;
  return true;
}

std::string XRayPropagator::FormatHeader(const SpanContext& context) {
  std::string s = "Root=" + context.trace_id.ToXRay();
  s += ";Parent=";
  s += context.span_id.ToHex();
  s += context.IsSampled() ? ";Sampled=1" : ";Sampled=0";
  return s;
}

std::string XRayPropagator::FormatResponseHeader(const TraceId& trace_id, bool requested,
                                                 bool sampled) {
  std::string s = "Root=" + trace_id.ToXRay();
  if (requested) s += sampled ? ";Sampled=1" : ";Sampled=0";
  return s;
}

void XRayPropagator::Inject(const SpanContext& context, TextMapCarrier& carrier) const {
  if (!context.IsValid()) return;
  carrier.Set(kHeader, FormatHeader(context));
}

bool XRayPropagator::Extract(const TextMapCarrier& carrier, ExtractedContext& out) const {
  std::string_view v = carrier.Get(kHeader);
  if (v.empty()) return false;
  ExtractedContext tmp;
  if (!ParseHeader(v, tmp)) return false;
  out = std::move(tmp);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Composite

CompositePropagator::CompositePropagator(
    std::vector<std::unique_ptr<TextMapPropagator>> propagators)
    : propagators_(std::move(propagators)) {}

void CompositePropagator::Inject(const SpanContext& context, TextMapCarrier& carrier) const {
  for (const auto& p : propagators_) p->Inject(context, carrier);
}

bool CompositePropagator::Extract(const TextMapCarrier& carrier, ExtractedContext& out) const {
  bool any = false;
  for (const auto& p : propagators_) any = p->Extract(carrier, out) || any;
  return any;
}

std::vector<std::string> CompositePropagator::Fields() const {
  std::vector<std::string> out;
  for (const auto& p : propagators_) {
    for (auto& f : p->Fields()) out.push_back(std::move(f));
  }
  return out;
}

std::unique_ptr<TextMapPropagator> MakePropagator(std::string_view list) {
  std::vector<std::unique_ptr<TextMapPropagator>> out;
  list = internal::Trim(list);
  if (list.empty()) list = "tracecontext";
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view name = internal::Trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (internal::EqualsIgnoreCase(name, "tracecontext")) {
      out.push_back(std::make_unique<W3CTraceContextPropagator>());
    } else if (internal::EqualsIgnoreCase(name, "xray")) {
      out.push_back(std::make_unique<XRayPropagator>());
    }
  }
  return std::make_unique<CompositePropagator>(std::move(out));
}

std::unique_ptr<TextMapPropagator> MakePropagatorFromEnvironment() {
  return MakePropagator(internal::GetEnv("OTEL_PROPAGATORS"));
}

}  // namespace ariadne::sdk
