// Shared by the fuzz targets: oracles that turn a silent defect into a crash libFuzzer reports.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/utf8.h"
#include "model/span_batch.h"

namespace ariadne::fuzz {

// Aborts when `text` is not valid UTF-8: every receiver promises to repair strings at decode time.
inline void CheckUtf8(std::string_view text, const char* what) {
  if (!utf8::IsValid(text)) {
    std::fprintf(stderr, "invalid UTF-8 left in %s (%zu bytes)\n", what, text.size());
    std::abort();
  }
}

// Every range of a decoded batch must lie inside its vector and, when `utf8` (decoders of client
// input), every string (bytes values excepted) must be valid UTF-8. Stored data (WAL, blocks) may
// predate the repair, so its readers pass utf8 = false.
inline void CheckBatch(const model::SpanBatch& batch, bool utf8 = true) {
  auto CheckUtf8 = [utf8](std::string_view text, const char* what) {
    if (utf8) ::ariadne::fuzz::CheckUtf8(text, what);
  };
  auto check_range = [](model::Range range, size_t size, const char* what) {
    if (static_cast<uint64_t>(range.begin) + range.count > size) {
      std::fprintf(stderr, "%s range [%u, +%u) outside %zu entries\n", what, range.begin,
                   range.count, size);
      std::abort();
    }
  };
  auto check_attributes = [&, CheckUtf8](model::Range range) {
    check_range(range, batch.attributes.size(), "attribute");
    for (uint32_t i = range.begin; i < range.end(); ++i) {
      const model::KeyValue& kv = batch.attributes[i];
      CheckUtf8(kv.key, "an attribute key");
      if (kv.value.type != model::ValueType::kBytes) CheckUtf8(kv.value.str, "an attribute value");
    }
  };
  for (const model::Resource& resource : batch.resources) {
    check_attributes(resource.attributes);
    CheckUtf8(resource.schema_url, "a resource schema_url");
  }
  for (const model::Scope& scope : batch.scopes) {
    check_attributes(scope.attributes);
    CheckUtf8(scope.name, "a scope name");
    CheckUtf8(scope.version, "a scope version");
    CheckUtf8(scope.schema_url, "a scope schema_url");
  }
  for (const model::Span& span : batch.spans) {
    if (span.resource_index >= batch.resources.size() || span.scope_index >= batch.scopes.size()) {
      std::fprintf(stderr, "span refers to a missing resource or scope\n");
      std::abort();
    }
    CheckUtf8(span.name, "a span name");
    CheckUtf8(span.status_message, "a status message");
    CheckUtf8(span.trace_state, "a trace state");
    check_attributes(span.attributes);
    check_range(span.events, batch.events.size(), "event");
    check_range(span.links, batch.links.size(), "link");
    for (uint32_t i = span.events.begin; i < span.events.end(); ++i) {
      CheckUtf8(batch.events[i].name, "an event name");
      check_attributes(batch.events[i].attributes);
    }
    for (uint32_t i = span.links.begin; i < span.links.end(); ++i) {
      CheckUtf8(batch.links[i].trace_state, "a link trace state");
      check_attributes(batch.links[i].attributes);
    }
  }
}

}  // namespace ariadne::fuzz
