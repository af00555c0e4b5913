#include "query/exec/column_view.h"

#include <cstdlib>

namespace ariadne::query::exec {
namespace {

using columnar::Block;

std::string_view KindName(uint8_t kind) {
  return model::SpanKindName(static_cast<model::SpanKind>(kind));
}

void DictToView(const columnar::DictColumn& column, bool empty_is_null, ColumnView* view) {
  const size_t rows = column.codes.size();
  view->Resize(rows);
  view->dict.assign(column.dict.begin(), column.dict.end());
  for (size_t r = 0; r < rows; ++r) {
    uint32_t c = column.codes[r];
    if (empty_is_null && column.dict[c].empty()) continue;
    view->type[r] = static_cast<uint8_t>(model::ValueType::kString);
    view->code[r] = c;
  }
}

// Resource-level value of `key` for every row (through each row's resource).
void ResourceAttributeToView(const Block& block, std::string_view key, ColumnView* view) {
  const model::SpanBatch& t = block.tables;
  std::vector<model::Value> per_resource(t.resources.size());
  std::vector<uint32_t> codes(t.resources.size(), 0);
  for (size_t i = 0; i < t.resources.size(); ++i) {
    const model::Value* v = t.FindAttribute(t.resources[i].attributes, key);
    if (v == nullptr) continue;
    per_resource[i] = *v;
    if (IsStringLike(static_cast<uint8_t>(v->type))) {
      view->dict.push_back(v->str);
      codes[i] = static_cast<uint32_t>(view->dict.size() - 1);
    }
  }
  for (size_t r = 0; r < block.num_rows; ++r) {
    uint32_t res = block.resource[r];
    if (per_resource[res].type != model::ValueType::kEmpty)
      view->Set(r, per_resource[res], codes[res]);
  }
}

std::string HexOf(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xF];
  }
  return out;
}

}  // namespace

std::optional<double> ParseNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string tmp(s);
  char* end = nullptr;
  double d = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size()) return std::nullopt;
  return d;
}

bool IsIntrinsicColumn(std::string_view column) {
  static constexpr std::string_view kIntrinsic[] = {"name",
                                                    "status_message",
                                                    "trace.trace_state",
                                                    "duration_ms",
                                                    "status_code",
                                                    "span.num_events",
                                                    "span.num_links",
                                                    "error",
                                                    "span.kind",
                                                    "type",
                                                    "trace.trace_id",
                                                    "trace.span_id",
                                                    "trace.parent_id",
                                                    "library.name",
                                                    "library.version"};
  for (std::string_view c : kIntrinsic)
    if (c == column) return true;
  return false;
}

void BuildView(const Block& block, const std::string& column, ColumnView* view) {
  const size_t rows = block.num_rows;
  if (column == "name") return DictToView(block.name, false, view);
  if (column == "status_message") return DictToView(block.status_message, true, view);
  if (column == "trace.trace_state") return DictToView(block.trace_state, true, view);
  if (column == "duration_ms") {
    view->ResizeDoubles(rows);
    for (size_t r = 0; r < rows; ++r) {
      const uint64_t s = block.start_unix_nano[r], e = block.end_unix_nano[r];
      view->num[r] = e > s ? static_cast<double>(e - s) / 1e6 : 0.0;
    }
    return;
  }
  view->Resize(rows);
  if (column == "status_code" || column == "span.num_events" || column == "span.num_links") {
    for (size_t r = 0; r < rows; ++r) {
      int64_t v = column == "status_code"       ? block.status_code[r]
                  : column == "span.num_events" ? block.events[r].count
                                                : block.links[r].count;
      view->Set(r, model::Value::Int(v), 0);
    }
    return;
  }
  if (column == "error") {
    for (size_t r = 0; r < rows; ++r)
      view->Set(r,
                model::Value::Bool(block.status_code[r] ==
                                   static_cast<uint8_t>(model::StatusCode::kError)),
                0);
    return;
  }
  if (column == "span.kind" || column == "type") {
    for (uint8_t k = 0; k <= 5; ++k) view->dict.push_back(KindName(k));
    for (size_t r = 0; r < rows; ++r) {
      view->type[r] = static_cast<uint8_t>(model::ValueType::kString);
      view->code[r] = block.kind[r];
    }
    return;
  }
  if (column == "trace.trace_id" || column == "trace.span_id" || column == "trace.parent_id") {
    for (size_t r = 0; r < rows; ++r) {
      if (column == "trace.trace_id") {
        if (r > 0 && block.trace_id[r] == block.trace_id[r - 1]) {
          view->type[r] = view->type[r - 1];
          view->code[r] = view->code[r - 1];
          continue;
        }
        view->code[r] = view->AddString(HexOf(block.trace_id[r].bytes.data(), 16));
      } else {
        const model::SpanId& id =
            column == "trace.span_id" ? block.span_id[r] : block.parent_span_id[r];
        if (id.IsZero()) continue;
        view->code[r] = view->AddString(HexOf(id.bytes.data(), 8));
      }
      view->type[r] = static_cast<uint8_t>(model::ValueType::kString);
    }
    return;
  }
  if (column == "library.name" || column == "library.version") {
    const model::SpanBatch& t = block.tables;
    for (const model::Scope& s : t.scopes)
      view->dict.push_back(column == "library.name" ? s.name : s.version);
    for (size_t r = 0; r < rows; ++r) {
      if (view->dict[block.scope[r]].empty()) continue;
      view->type[r] = static_cast<uint8_t>(model::ValueType::kString);
      view->code[r] = block.scope[r];
    }
    return;
  }
  // Resource attributes (service.name among them), then span attributes over them: later wins,
  // as in Honeycomb's translation of OTLP.
  ResourceAttributeToView(block, column, view);
  for (const columnar::AttributeColumn& attr : block.attributes) {
    if (attr.key != column) continue;
    const uint32_t base = static_cast<uint32_t>(view->dict.size());
    view->dict.insert(view->dict.end(), attr.dict.begin(), attr.dict.end());
    for (size_t e = 0; e < attr.rows.size(); ++e) {
      model::Value v = attr.ValueAt(e);
      view->Set(attr.rows[e], v,
                IsStringLike(static_cast<uint8_t>(v.type))
                    ? base + static_cast<uint32_t>(attr.values[e])
                    : 0);
    }
    break;
  }
}

uint64_t HashValue(const ColumnView& view, size_t row) {
  uint64_t h = 1469598103934665603ULL ^ view.type[row];
  auto mix = [&](const void* p, size_t n) {
    const unsigned char* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
  };
  if (IsStringLike(view.type[row])) {
    std::string_view s = view.dict[view.code[row]];
    mix(s.data(), s.size());
  } else if (view.type[row] == static_cast<uint8_t>(model::ValueType::kDouble)) {
    mix(&view.num[row], 8);
  } else {
    mix(&view.ints[row], 8);
  }
  return h;
}

const ColumnView& ColumnViews::Get(const std::string& column) {
  std::unique_ptr<ColumnView>& slot = views_[column];
  if (!slot) {
    slot = std::make_unique<ColumnView>();
    BuildView(block_, column, slot.get());
    if (charge_ != nullptr) {
      Status charged = charge_->Add(slot->Bytes());
      if (status_.ok()) status_ = std::move(charged);
    }
  }
  return *slot;
}

}  // namespace ariadne::query::exec
