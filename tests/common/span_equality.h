// Field-by-field comparison of spans across batches (attribute order ignored), for tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "model/span_batch.h"

namespace ariadne::testing {

inline std::map<std::string, std::string> AttributeMap(const model::SpanBatch& b, model::Range r) {
  std::map<std::string, std::string> out;
  for (uint32_t i = r.begin; i < r.end(); ++i) {
    const model::Value& v = b.attributes[i].value;
    std::string text(model::ValueTypeName(v.type));
    text += ":";
    switch (v.type) {
      case model::ValueType::kBool:
        text += v.bool_value ? "true" : "false";
        break;
      case model::ValueType::kInt:
        text += std::to_string(v.int_value);
        break;
      case model::ValueType::kDouble:
        text += std::to_string(v.double_value);
        break;
      default:
        text += std::string(v.str);
        break;
    }
    out[std::string(b.attributes[i].key)] = text;
  }
  return out;
}

inline void ExpectSameSpan(const model::SpanBatch& a, const model::Span& x,
                           const model::SpanBatch& b, const model::Span& y) {
  EXPECT_EQ(x.trace_id, y.trace_id);
  EXPECT_EQ(x.span_id, y.span_id);
  EXPECT_EQ(x.parent_span_id, y.parent_span_id);
  EXPECT_EQ(x.name, y.name);
  EXPECT_EQ(x.trace_state, y.trace_state);
  EXPECT_EQ(x.kind, y.kind);
  EXPECT_EQ(x.status_code, y.status_code);
  EXPECT_EQ(x.status_message, y.status_message);
  EXPECT_EQ(x.start_time_unix_nano, y.start_time_unix_nano);
  EXPECT_EQ(x.end_time_unix_nano, y.end_time_unix_nano);
  EXPECT_EQ(x.flags, y.flags);
  EXPECT_EQ(x.dropped_attributes_count, y.dropped_attributes_count);
  EXPECT_EQ(x.dropped_events_count, y.dropped_events_count);
  EXPECT_EQ(x.dropped_links_count, y.dropped_links_count);
  EXPECT_EQ(AttributeMap(a, x.attributes), AttributeMap(b, y.attributes));
  EXPECT_EQ(AttributeMap(a, a.resources[x.resource_index].attributes),
            AttributeMap(b, b.resources[y.resource_index].attributes));
  EXPECT_EQ(a.scopes[x.scope_index].name, b.scopes[y.scope_index].name);
  EXPECT_EQ(a.scopes[x.scope_index].version, b.scopes[y.scope_index].version);
  ASSERT_EQ(x.events.count, y.events.count);
  for (uint32_t i = 0; i < x.events.count; ++i) {
    const model::Event& e = a.events[x.events.begin + i];
    const model::Event& f = b.events[y.events.begin + i];
    EXPECT_EQ(e.time_unix_nano, f.time_unix_nano);
    EXPECT_EQ(e.name, f.name);
    EXPECT_EQ(AttributeMap(a, e.attributes), AttributeMap(b, f.attributes));
  }
  ASSERT_EQ(x.links.count, y.links.count);
  for (uint32_t i = 0; i < x.links.count; ++i) {
    const model::Link& l = a.links[x.links.begin + i];
    const model::Link& m = b.links[y.links.begin + i];
    EXPECT_EQ(l.trace_id, m.trace_id);
    EXPECT_EQ(l.span_id, m.span_id);
    EXPECT_EQ(l.flags, m.flags);
    EXPECT_EQ(AttributeMap(a, l.attributes), AttributeMap(b, m.attributes));
  }
}

}  // namespace ariadne::testing
