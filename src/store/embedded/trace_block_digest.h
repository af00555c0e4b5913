// TraceBlockDigest: what a block's trace-summary side file says about all of its parts together,
// so a search can pass over the block without decoding its parts (docs/formats/trace-summaries.md,
// "Digest"). Written at the front of a version 4 side file and read by range
// (ReadTraceBlockDigest in trace_summary_file.h); the trace-summary index (trace_index.h) keeps the
// digests it read, small, per block.
//
// Contract: MayMatch(needs) is false only when no part of the block can satisfy every need (a
// trace that matches the X-Ray filter whose needs they are has, for each need, an annotation the
// need admits; annotation_need.h). It never drops a match: an unknown digest (older side file),
// a block with a part whose annotations were capped, or key/value lists too large to keep answer
// true. A string value is checked through a Bloom filter (≈ 1 % false positives: a block read
// for nothing, never a match lost); keys, their types and their number ranges are exact.
// MayMatchFields(needs) is the same for the filter's other terms (field_need.h): the OR of the
// parts' FactBits, the range of each number and a Bloom filter of the exact string values. A
// digest written before these fields (`fields_known` false) answers true.
//
// Threads: a value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "query/xray_filter/annotation_need.h"
#include "query/xray_filter/field_need.h"
#include "store/trace_reader.h"

namespace ariadne::store::embedded {

struct TraceBlockDigest {
  // Beyond these a digest keeps no key list (kKeysDropped) or no value filter (empty bloom).
  static constexpr size_t kMaxKeys = 4096;
  static constexpr size_t kMaxBloomBytes = 256 << 10;

  struct Key {
    std::string key;
    uint8_t types = 0;       // AnnotationNeed::TypeBit of every type the key has in the block
    double number_min = 0;   // over its int and double values that are not NaN
    double number_max = -1;  // (min > max: none)
  };

  bool known = false;                 // false: read nothing from it (older side file)
  bool annotations_complete = false;  // every part kept all of its annotations
  bool keys_dropped = false;          // more than kMaxKeys keys: `keys` is empty, unusable
  std::vector<Key> keys;              // sorted by key
  std::string bloom;                  // string values by "KEY\x1fvalue"; empty: not kept
  // The block's trace ids (a Bloom filter hashed independently of the block meta's, so a seal
  // confirms a meta-filter hit here before it reads the block's trace-id column). Empty: not
  // kept (the column is read).
  std::string trace_ids;

  // The fields section (flag bit 2; older digests lack it): what the parts' summaries hold
  // beyond annotations, for Filter::FieldNeeds.
  struct Range {
    double min = 0, max = -1;  // over the values that are not NaN (min > max: none)
    void Add(double v);
    bool Empty() const { return !(min <= max); }
  };
  bool fields_known = false;
  uint32_t fact_bits = 0;  // OR of every part's query::xray_filter::FactBitsOf
  Range response_time, duration, http_status;
  // "<ValueField char><value>" of every exact string value (field_need.h ForEachFactValue);
  // empty: not kept (too many values), every value may be there.
  std::string field_bloom;

  static TraceBlockDigest Build(const std::vector<TraceSummary>& parts);
  bool MayMatch(const std::vector<query::xray_filter::AnnotationNeed>& needs) const;
  bool MayMatchFields(const std::vector<query::xray_filter::FieldNeed>& needs) const;

  // A trace id hashed once for MayHoldTrace over many blocks.
  struct TraceIdHash {
    uint64_t low = 0, high = 0;
  };
  static TraceIdHash HashTraceId(const model::TraceId& id);
  // False only when the block holds no span of the trace. True for an unknown digest.
  bool MayHoldTrace(const TraceIdHash& hash) const;
  // Estimated memory.
  size_t bytes() const;

  // The digest's bytes in a side file, and back. Decode answers kDataLoss for anything malformed.
  void EncodeTo(std::string* out) const;
  static Result<TraceBlockDigest> Decode(std::string_view data);
};

}  // namespace ariadne::store::embedded
