#include "query/exec/breakdown_ids.h"

#include <unordered_map>

#include "query/exec/aggregation.h"

namespace ariadne::query::exec {
namespace {

using columnar::Block;

const columnar::DictColumn* DictColumnOf(const Block& block, const std::string& column,
                                         bool* empty_is_null) {
  *empty_is_null = column != "name";
  if (column == "name") return &block.name;
  if (column == "status_message") return &block.status_message;
  if (column == "trace.trace_state") return &block.trace_state;
  return nullptr;
}

bool HasSpanAttribute(const Block& block, const std::string& column) {
  for (const columnar::AttributeColumn& attr : block.attributes)
    if (attr.key == column) return true;
  return false;
}

}  // namespace

BreakdownIds::BreakdownIds(const Block& block, const std::string& column, const uint32_t* sel,
                           size_t n, uint32_t* ids, ColumnViews* views)
    : block_(block) {
  if ((dict_ = DictColumnOf(block, column, &empty_is_null_)) != nullptr) {
    source_ = Source::kDict;
    const uint32_t null_id = static_cast<uint32_t>(dict_->dict.size());
    space_ = null_id + 1;
    const uint32_t* codes = dict_->codes.data();
    for (size_t i = 0; i < n; ++i) ids[i] = codes[sel[i]];
    if (empty_is_null_) {
      for (size_t c = 0; c < dict_->dict.size(); ++c) {
        if (!dict_->dict[c].empty()) continue;
        for (size_t i = 0; i < n; ++i)
          if (ids[i] == c) ids[i] = null_id;
      }
    }
    return;
  }
  if (column == "span.kind" || column == "type") {
    source_ = Source::kKind;
    space_ = 256;
    const uint8_t* kind = block.kind.data();
    for (size_t i = 0; i < n; ++i) ids[i] = kind[sel[i]];
    return;
  }
  if (!IsIntrinsicColumn(column) && !HasSpanAttribute(block, column)) {
    // Only resources can carry the key in this block: one id per distinct resource value.
    source_ = Source::kResource;
    const model::SpanBatch& t = block.tables;
    std::unordered_map<std::string, uint32_t> by_key;
    resource_ids_.resize(t.resources.size());
    for (size_t r = 0; r < t.resources.size(); ++r) {
      const model::Value* v = t.FindAttribute(t.resources[r].attributes, column);
      ResultValue value = v == nullptr ? ResultValue{} : ToResultValue(*v);
      auto [it, inserted] =
          by_key.try_emplace(CanonicalKey({value}), static_cast<uint32_t>(values_.size()));
      if (inserted) values_.push_back(std::move(value));
      resource_ids_[r] = it->second;
    }
    space_ = values_.size();
    const uint32_t* resource = block.resource.data();
    const uint32_t* local = resource_ids_.data();
    for (size_t i = 0; i < n; ++i) ids[i] = local[resource[sel[i]]];
    return;
  }
  view_ = &views->Get(column);
  FromView(sel, n, ids);
}

void BreakdownIds::FromView(const uint32_t* sel, size_t n, uint32_t* ids) {
  // Strings by dictionary code, numbers numbered after the dictionary, no value as the last id.
  const ColumnView& v = *view_;
  const uint32_t dict_size = static_cast<uint32_t>(v.dict.size());
  std::unordered_map<uint64_t, uint32_t> numeric_ids;
  bool any_null = false;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t row = sel[i];
    const uint8_t t = v.type[row];
    if (t == kNull) {
      ids[i] = UINT32_MAX;
      any_null = true;
    } else if (IsStringLike(t)) {
      ids[i] = v.code[row];
    } else {
      auto [it, inserted] = numeric_ids.try_emplace(HashValue(v, row), 0);
      if (inserted) it->second = dict_size + static_cast<uint32_t>(numeric_ids.size() - 1);
      ids[i] = it->second;
    }
  }
  const uint32_t null_id = dict_size + static_cast<uint32_t>(numeric_ids.size());
  space_ = uint64_t{null_id} + 1;
  if (any_null)
    for (size_t i = 0; i < n; ++i)
      if (ids[i] == UINT32_MAX) ids[i] = null_id;
}

ResultValue BreakdownIds::KeyOf(uint32_t row) const {
  switch (source_) {
    case Source::kDict: {
      const std::string& s = dict_->dict[dict_->codes[row]];
      if (empty_is_null_ && s.empty()) return std::monostate{};
      return s;
    }
    case Source::kKind:
      return std::string(model::SpanKindName(static_cast<model::SpanKind>(block_.kind[row])));
    case Source::kResource:
      return values_[resource_ids_[block_.resource[row]]];
    case Source::kView:
      break;
  }
  return ToResultValue(view_->ValueAt(row));
}

}  // namespace ariadne::query::exec
