// Context propagation across processes: W3C `traceparent`/`tracestate` and AWS `X-Amzn-Trace-Id`
// (protocols.md §2), and a composite chosen like OTEL_PROPAGATORS (`tracecontext,xray`).
//
// Extract never fails loudly: a malformed header is ignored (the request starts a new trace), as
// the W3C spec and the X-Ray SDKs do.
//
// Threads: propagators are immutable; use one from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ariadne/sdk/context.h"

namespace ariadne::sdk {

// Header access for one request or response. Keys are lowercase header names; Get must match
// case-insensitively (HTTP header names are).
class TextMapCarrier {
 public:
  virtual ~TextMapCarrier() = default;
  virtual std::string_view Get(std::string_view key) const = 0;
  virtual void Set(std::string_view key, std::string_view value) = 0;
};

// A carrier over a vector of (name, value) pairs.
class HeaderVectorCarrier final : public TextMapCarrier {
 public:
  std::string_view Get(std::string_view key) const override;
  void Set(std::string_view key, std::string_view value) override;
  std::vector<std::pair<std::string, std::string>> headers;
};

enum class SampledHint : uint8_t {
  kUnknown,    // no decision in the header (X-Ray Sampled missing)
  kRequested,  // X-Ray `Sampled=?`: decide here and report the decision in the response
  kSampled,
  kNotSampled,
};

// What a propagator found in the headers.
struct ExtractedContext {
  // Remote parent. trace_id valid + span_id invalid = X-Ray `Root=` without `Parent=`.
  SpanContext context;
  SampledHint sampled = SampledHint::kUnknown;
  bool found = false;  // a well-formed header was present

  // True when the parent's decision must be made locally (kUnknown or kRequested).
  bool decision_deferred() const {
    return sampled == SampledHint::kUnknown || sampled == SampledHint::kRequested;
  }
};

class TextMapPropagator {
 public:
  virtual ~TextMapPropagator() = default;
  virtual void Inject(const SpanContext& context, TextMapCarrier& carrier) const = 0;
  // Fills `out` when this propagator's header is present and valid; returns whether it did.
  // Leaves `out` untouched otherwise.
  virtual bool Extract(const TextMapCarrier& carrier, ExtractedContext& out) const = 0;
  virtual std::vector<std::string> Fields() const = 0;
};

class W3CTraceContextPropagator final : public TextMapPropagator {
 public:
  void Inject(const SpanContext& context, TextMapCarrier& carrier) const override;
  bool Extract(const TextMapCarrier& carrier, ExtractedContext& out) const override;
  std::vector<std::string> Fields() const override { return {"traceparent", "tracestate"}; }

  // Parses a traceparent value (version 00 strictly; higher versions by the forward-compatible
  // rule). Returns false for a malformed value.
  static bool ParseTraceparent(std::string_view value, SpanContext& out);
  static std::string FormatTraceparent(const SpanContext& context);
  // Validates a tracestate header; returns the cleaned value (empty members and whitespace
  // removed, at most 32 members) or empty when any member is malformed.
  static std::string NormalizeTracestate(std::string_view value);
};

class XRayPropagator final : public TextMapPropagator {
 public:
  static constexpr std::string_view kHeader = "x-amzn-trace-id";

  void Inject(const SpanContext& context, TextMapCarrier& carrier) const override;
  bool Extract(const TextMapCarrier& carrier, ExtractedContext& out) const override;
  std::vector<std::string> Fields() const override { return {std::string(kHeader)}; }

  // `Root=1-…;Parent=…;Sampled=1|0|?`, fields in any order, spaces tolerated, unknown fields
  // ignored. Root is required; Parent optional.
  static bool ParseHeader(std::string_view value, ExtractedContext& out);
  static std::string FormatHeader(const SpanContext& context);
  // The response header the X-Ray middleware returns: `Root=…` plus `;Sampled=0|1` when the
  // request asked with `Sampled=?`.
  static std::string FormatResponseHeader(const TraceId& trace_id, bool requested, bool sampled);
};

// Runs each propagator: Inject writes all; Extract lets later propagators override earlier ones
// (OTel's composite rule), so list the preferred format last.
class CompositePropagator final : public TextMapPropagator {
 public:
  explicit CompositePropagator(std::vector<std::unique_ptr<TextMapPropagator>> propagators);
  void Inject(const SpanContext& context, TextMapCarrier& carrier) const override;
  bool Extract(const TextMapCarrier& carrier, ExtractedContext& out) const override;
  std::vector<std::string> Fields() const override;

 private:
  std::vector<std::unique_ptr<TextMapPropagator>> propagators_;
};

// Builds a propagator from a comma-separated list like OTEL_PROPAGATORS: `tracecontext`, `xray`
// (unknown names such as `baggage` are skipped; `none` yields an empty composite). An empty list
// means `tracecontext`.
std::unique_ptr<TextMapPropagator> MakePropagator(std::string_view list);
// MakePropagator(getenv("OTEL_PROPAGATORS")).
std::unique_ptr<TextMapPropagator> MakePropagatorFromEnvironment();

}  // namespace ariadne::sdk
