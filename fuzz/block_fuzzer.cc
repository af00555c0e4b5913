// Fuzzes block file decoding (DecodeBlockMeta, DecodeBlockFile) and, for blocks that decode,
// what readers do with them: service names, Materialize of every row, trace lookups and the meta
// and column summaries.
// Oracle: no crash or sanitizer report; materialized batches have in-range ranges.
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string_view>
#include <vector>

#include "columnar/block.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ariadne;
  using namespace ariadne::columnar;
  std::string_view file(reinterpret_cast<const char*>(data), size);
  (void)DecodeBlockMeta(file);
  auto block = DecodeBlockFile(file);
  if (!block.ok()) return 0;
  const Block& b = **block;
  for (size_t row = 0; row < b.num_rows; ++row) (void)b.ServiceName(row);
  std::vector<uint32_t> rows(b.num_rows);
  std::iota(rows.begin(), rows.end(), 0u);
  model::SpanBatch out;
  b.Materialize(rows, &out);
  fuzz::CheckBatch(out, /*utf8=*/false);
  if (b.num_rows > 0) (void)b.SortedRowsOfTrace(b.trace_id[0]);
  (void)b.ComputeMeta();
  (void)b.ComputeColumns();
  return 0;
}
