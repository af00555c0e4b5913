// Row encodings between model::SpanBatch and ClickHouse's formats:
// - EncodeSpanRows: spans as RowBinary rows of the `spans` table (schema.h), in SpanColumnList()
//   order — the insert format (measured faster than JSONEachRow, docs/clickhouse.md);
// - EncodeSpanRowsJson: the same rows as JSONEachRow with binary columns hex-encoded, kept only
//   for the format comparison in bench/clickhouse_store_bench.cc;
// - RowBinaryReader: reads String / UInt64 fields of a RowBinary answer;
// - ParseTsv: splits a TabSeparated answer into rows of unescaped fields.
//
// Threads: pure functions / plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/span_batch.h"

namespace ariadne::store::clickhouse {

// The sample rate a span counts with in aggregates (as the embedded executor: its SampleRate /
// sampleRate span attribute, rounded, at least 1; else its trace state's threshold; else 1).
double SpanWeight(const model::SpanBatch& batch, const model::Span& span);

void EncodeSpanRows(std::string_view environment, const model::SpanBatch& batch, std::string* out);
void EncodeSpanRowsJson(std::string_view environment, const model::SpanBatch& batch,
                        std::string* out);

class RowBinaryReader {
 public:
  explicit RowBinaryReader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  bool ReadString(std::string_view* out);
  bool ReadUInt64(uint64_t* out);
  bool ReadFixed(size_t n, std::string_view* out);

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

std::vector<std::vector<std::string>> ParseTsv(std::string_view text);

// SQL string literal: '…' with quotes and backslashes escaped.
std::string SqlString(std::string_view text);
// unhex('…') of raw id bytes, as FixedString(n).
std::string SqlId(std::string_view bytes);

}  // namespace ariadne::store::clickhouse
