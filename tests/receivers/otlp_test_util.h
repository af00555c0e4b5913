// Test helpers for the OTLP codec: a seeded generator of random ExportTraceServiceRequests (built
// with the libprotobuf classes, which are the oracle), an independent field-by-field comparison of
// a decoded SpanBatch against the message libprotobuf parsed, OTLP/JSON conversion of a message,
// and a structural sanity check for batches decoded from garbage.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "receivers/otlp/otlp_codec.h"

namespace ariadne::receivers::otlp::testing {

using ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using ::opentelemetry::proto::common::v1::AnyValue;
using ::opentelemetry::proto::common::v1::KeyValue;

struct GeneratorOptions {
  bool invalid_ids = true;      // sometimes emit ids that must be rejected
  bool unknown_fields = true;   // sprinkle unknown fields (and known numbers with wrong wire types)
  bool profiles_fields = true;  // sometimes set key_strindex / string_value_strindex
};

// Deterministic for a given seed.
ExportTraceServiceRequest RandomRequest(uint64_t seed, const GeneratorOptions& options = {});

// The request used by the realistic and truncation tests: 2 resources, 3 scopes, 6 spans, every
// field and value type set.
ExportTraceServiceRequest RealisticRequest();

// Compares every field of `decoded` with `expected` by the decoder's documented rules (invalid-id
// spans left out and counted, bad-id links dropped and counted, arrays/kvlists as compact JSON,
// Profiles-only fields absent). Reports differences as gtest failures prefixed with `context`.
void ExpectMatches(const ExportTraceServiceRequest& expected, const DecodedRequest& decoded,
                   const std::string& context);

// The compact JSON text the decoders must produce for an array/kvlist AnyValue (independent
// implementation of the rendering rules).
std::string ExpectedValueJson(const AnyValue& value);

// OTLP/JSON for `request`: libprotobuf's MessageToJsonString, then patched to OTLP rules (ids as
// hex, here in upper case when `uppercase_ids`). Enums as ints unless `enum_names`.
std::string ToOtlpJson(const ExportTraceServiceRequest& request, bool enum_names = false,
                       bool uppercase_ids = false);

// Checks that every index and range in the batch is inside its vectors.
void ExpectStructurallySound(const model::SpanBatch& batch);

}  // namespace ariadne::receivers::otlp::testing
