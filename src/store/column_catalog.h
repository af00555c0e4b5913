// The column catalog every engine answers SpanQuerier::ListColumns with: the intrinsic columns
// every span has (one list, here, with a type and a description) followed by the attribute keys
// the engine saw in the window, each with its merged type and where it came from.
//
// Who uses it: the embedded engine (keys from block metas and heads), the ClickHouse engine (keys
// from its promoted columns and the attribute arrays), GET /api/v1/columns and the query checks
// (query/column_check.h) through ListColumns. Keeping the intrinsics and the type merging in one
// place is what makes both engines list the same columns for the same data.
//
// Threads: IntrinsicColumns() is immutable; a ColumnCatalogBuilder is used by one thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "store/span_querier.h"

namespace ariadne::store {

struct IntrinsicColumn {
  std::string_view name;
  std::string_view type;  // string, int, double, bool
  std::string_view description;
};

// In the order GET /api/v1/columns lists them.
const std::vector<IntrinsicColumn>& IntrinsicColumns();

// Collects attribute keys and builds the sorted catalog. `type_mask` has bit (1 << t) for every
// model::ValueType t the key held; service.name (an intrinsic) is left out.
class ColumnCatalogBuilder {
 public:
  void AddAttribute(std::string_view name, uint32_t type_mask, bool from_span);

  // The intrinsics, then the attribute keys by name. Type: the one type seen, "mixed" when
  // several, "string" when none is known; source: "span" when any span carried the key,
  // "resource" otherwise.
  std::vector<ColumnInfo> Finish() const;

 private:
  struct Seen {
    uint32_t type_mask = 0;
    bool from_span = false;
  };
  std::map<std::string, Seen, std::less<>> keys_;
};

}  // namespace ariadne::store
