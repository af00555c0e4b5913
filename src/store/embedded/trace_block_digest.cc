#include "store/embedded/trace_block_digest.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>

#include "columnar/coding.h"

namespace ariadne::store::embedded {
namespace {

using query::xray_filter::AnnotationFact;
using query::xray_filter::AnnotationNeed;
using query::xray_filter::FieldNeed;
using query::xray_filter::NumberField;
using query::xray_filter::ValueField;

constexpr int kBloomHashes = 7;
constexpr size_t kBloomBitsPerValue = 10;  // ≈ 1 % false positives at 7 hashes
// The trace-id filter: ≈ 0.05 % false positives, behind the block meta's 1 % one.
constexpr int kTraceIdHashes = 11;
constexpr size_t kTraceIdBitsPerTrace = 16;
// A seed other than the block meta's filter (XXH3 unseeded), so the two filters err apart.
constexpr uint64_t kTraceIdSeed = 0x7472616365696473ULL;  // "traceids"
static_assert(AnnotationNeed::kNumberBits ==
              (AnnotationNeed::TypeBit(AnnotationFact::Type::kInt) |
               AnnotationNeed::TypeBit(AnnotationFact::Type::kDouble)));
constexpr uint64_t kAnnotationsComplete = 1;
constexpr uint64_t kKeysDropped = 2;
constexpr uint64_t kFieldsFollow = 4;  // the fields section follows the trace-id filter
// The field values' filter: few distinct values a block (services, methods, names; users are the
// many), so more bits each: ≈ 0.05 % false positives.
constexpr int kFieldHashes = 11;
constexpr size_t kFieldBitsPerValue = 16;

std::string ValueKey(std::string_view key, std::string_view value) {
  std::string out;
  out.reserve(key.size() + 1 + value.size());
  out.append(key);
  out.push_back('\x1f');
  out.append(value);
  return out;
}

// The bit positions of `item` in a filter of `nbits` bits (double hashing of XXH3-128's halves).
template <typename Visit>
bool ForEachBit(std::string_view item, uint64_t nbits, Visit visit, int hashes = kBloomHashes) {
  const XXH128_hash_t h = XXH3_128bits(item.data(), item.size());
  for (int i = 0; i < hashes; ++i)
    if (!visit((h.low64 + static_cast<uint64_t>(i) * h.high64) % nbits)) return false;
  return true;
}

bool BloomMayContain(const std::string& bloom, std::string_view item, int hashes = kBloomHashes) {
  if (bloom.empty()) return true;
  return ForEachBit(
      item, bloom.size() * 8,
      [&](uint64_t bit) { return (static_cast<uint8_t>(bloom[bit / 8]) >> (bit % 8)) & 1; },
      hashes);
}

std::string FieldValueKey(ValueField field, std::string_view value) {
  std::string out;
  out.reserve(1 + value.size());
  out.push_back(static_cast<char>(field));
  out.append(value);
  return out;
}

// The fields section of Build: bits, number ranges and the value filter over every part.
void BuildFields(const std::vector<TraceSummary>& parts, TraceBlockDigest* d) {
  d->fields_known = true;
  std::unordered_set<std::string> values;
  for (const TraceSummary& part : parts) {
    const query::xray_filter::TraceFacts& f = part.xray;
    d->fact_bits |= query::xray_filter::FactBitsOf(f);
    double v = 0;
    if (FactNumber(f, NumberField::kResponseTime, &v)) d->response_time.Add(v);
    if (FactNumber(f, NumberField::kDuration, &v)) d->duration.Add(v);
    if (FactNumber(f, NumberField::kHttpStatus, &v)) d->http_status.Add(v);
    query::xray_filter::ForEachFactValue(f, [&](ValueField field, std::string_view value) {
      values.insert(FieldValueKey(field, value));
    });
  }
  const size_t bits = std::max<size_t>(64, values.size() * kFieldBitsPerValue);
  if (values.empty() || (bits + 7) / 8 > TraceBlockDigest::kMaxBloomBytes) return;
  d->field_bloom.assign((bits + 7) / 8, '\0');
  for (const std::string& v : values)
    ForEachBit(
        v, d->field_bloom.size() * 8,
        [&](uint64_t bit) {
          d->field_bloom[bit / 8] = static_cast<char>(d->field_bloom[bit / 8] | (1 << (bit % 8)));
          return true;
        },
        kFieldHashes);
}

const TraceBlockDigest::Range* RangeOf(const TraceBlockDigest& d, NumberField field) {
  switch (field) {
    case NumberField::kResponseTime:
      return &d.response_time;
    case NumberField::kDuration:
      return &d.duration;
    case NumberField::kHttpStatus:
      return &d.http_status;
    case NumberField::kNone:
      break;
  }
  return nullptr;
}

}  // namespace

TraceBlockDigest TraceBlockDigest::Build(const std::vector<TraceSummary>& parts) {
  TraceBlockDigest d;
  d.known = true;
  d.annotations_complete = true;
  std::map<std::string, Key> keys;
  std::unordered_set<std::string> values;
  for (const TraceSummary& part : parts) {
    if (!part.xray.annotations_complete) d.annotations_complete = false;
    for (const AnnotationFact& a : part.xray.annotations) {
      Key& k = keys[a.key];
      k.types |= AnnotationNeed::TypeBit(a.type);
      const bool number =
          a.type == AnnotationFact::Type::kInt || a.type == AnnotationFact::Type::kDouble;
      if (number && !std::isnan(a.number)) {
        if (k.number_min > k.number_max) {
          k.number_min = k.number_max = a.number;
        } else {
          k.number_min = std::min(k.number_min, a.number);
          k.number_max = std::max(k.number_max, a.number);
        }
      }
      if (a.type == AnnotationFact::Type::kString) values.insert(ValueKey(a.key, a.str));
    }
  }
  if (keys.size() > kMaxKeys) {
    d.keys_dropped = true;
  } else {
    d.keys.reserve(keys.size());
    for (auto& [name, k] : keys) {
      k.key = name;
      d.keys.push_back(std::move(k));
    }
  }
  if (!parts.empty()) {
    const size_t id_bits = std::max<size_t>(64, parts.size() * kTraceIdBitsPerTrace);
    d.trace_ids.assign((id_bits + 7) / 8, '\0');
    const uint64_t nbits = d.trace_ids.size() * 8;
    for (const TraceSummary& part : parts) {
      const TraceIdHash h = HashTraceId(part.trace_id);
      for (int i = 0; i < kTraceIdHashes; ++i) {
        const uint64_t bit = (h.low + static_cast<uint64_t>(i) * h.high) % nbits;
        d.trace_ids[bit / 8] = static_cast<char>(d.trace_ids[bit / 8] | (1 << (bit % 8)));
      }
    }
  }
  const size_t bits = std::max<size_t>(64, values.size() * kBloomBitsPerValue);
  if (!values.empty() && (bits + 7) / 8 <= kMaxBloomBytes) {
    d.bloom.assign((bits + 7) / 8, '\0');
    for (const std::string& v : values)
      ForEachBit(v, d.bloom.size() * 8, [&](uint64_t bit) {
        d.bloom[bit / 8] = static_cast<char>(d.bloom[bit / 8] | (1 << (bit % 8)));
        return true;
      });
  }
  BuildFields(parts, &d);
  return d;
}

void TraceBlockDigest::Range::Add(double v) {
  if (std::isnan(v)) return;
  if (Empty()) {
    min = max = v;
  } else {
    min = std::min(min, v);
    max = std::max(max, v);
  }
}

bool TraceBlockDigest::MayMatchFields(const std::vector<FieldNeed>& needs) const {
  if (!known || !fields_known) return true;
  for (const FieldNeed& need : needs) {
    if (need.never) return false;
    if ((fact_bits & need.bits) != need.bits) return false;
    if (const Range* range = RangeOf(*this, need.number)) {
      // No value that is not NaN: a comparison of NaN is false whatever the operator (but !=,
      // which FieldNeed leaves unbounded: NaN != x is false too in MatchNumber).
      if (range->Empty()) return false;
      if (range->max < need.number_min || range->min > need.number_max) return false;
    }
    if (need.value != ValueField::kNone) {
      bool possible = false;
      for (size_t i = 0; !possible && i < need.values.size(); ++i)
        possible =
            BloomMayContain(field_bloom, FieldValueKey(need.value, need.values[i]), kFieldHashes);
      if (!possible) return false;
    }
  }
  return true;
}

bool TraceBlockDigest::MayMatch(const std::vector<AnnotationNeed>& needs) const {
  if (!known || !annotations_complete || keys_dropped) return true;
  constexpr uint8_t kString = AnnotationNeed::TypeBit(AnnotationFact::Type::kString);
  for (const AnnotationNeed& need : needs) {
    auto it = std::lower_bound(keys.begin(), keys.end(), need.key,
                               [](const Key& k, const std::string& key) { return k.key < key; });
    if (it == keys.end() || it->key != need.key) return false;
    const uint8_t types = it->types & need.types;
    bool possible = (types & ~(kString | AnnotationNeed::kNumberBits)) != 0;  // bool, other
    if (!possible && (types & kString)) {
      possible = need.strings.empty();
      for (size_t i = 0; !possible && i < need.strings.size(); ++i)
        possible = BloomMayContain(bloom, ValueKey(need.key, need.strings[i]));
    }
    if (!possible && (types & AnnotationNeed::kNumberBits)) {
      // NaN values are not in the range: only an unbounded need admits them.
      possible = need.NumberUnbounded() ||
                 (it->number_min <= it->number_max && it->number_max >= need.number_min &&
                  it->number_min <= need.number_max);
    }
    if (!possible) return false;
  }
  return true;
}

TraceBlockDigest::TraceIdHash TraceBlockDigest::HashTraceId(const model::TraceId& id) {
  const XXH128_hash_t h = XXH3_128bits_withSeed(id.bytes.data(), id.bytes.size(), kTraceIdSeed);
  return TraceIdHash{h.low64, h.high64};
}

bool TraceBlockDigest::MayHoldTrace(const TraceIdHash& h) const {
  if (!known || trace_ids.empty()) return true;
  const uint64_t nbits = trace_ids.size() * 8;
  for (int i = 0; i < kTraceIdHashes; ++i) {
    const uint64_t bit = (h.low + static_cast<uint64_t>(i) * h.high) % nbits;
    if (((static_cast<uint8_t>(trace_ids[bit / 8]) >> (bit % 8)) & 1) == 0) return false;
  }
  return true;
}

size_t TraceBlockDigest::bytes() const {
  size_t n = sizeof(*this) + bloom.capacity() + trace_ids.capacity() + field_bloom.capacity() +
             keys.capacity() * sizeof(Key);
  for (const Key& k : keys) n += k.key.size() > 15 ? k.key.capacity() + 1 : 0;
  return n;
}

void TraceBlockDigest::EncodeTo(std::string* out) const {
  uint64_t flags = 0;
  if (annotations_complete) flags |= kAnnotationsComplete;
  if (keys_dropped) flags |= kKeysDropped;
  if (fields_known) flags |= kFieldsFollow;
  columnar::PutVarint(out, flags);
  columnar::PutVarint(out, keys.size());
  for (const Key& k : keys) {
    columnar::PutString(out, k.key);
    out->push_back(static_cast<char>(k.types));
    columnar::PutDouble(out, k.number_min);
    columnar::PutDouble(out, k.number_max);
  }
  columnar::PutString(out, bloom);
  columnar::PutString(out, trace_ids);
  if (!fields_known) return;
  // Length-prefixed, so a later reader may add to it.
  std::string fields;
  columnar::PutVarint(&fields, fact_bits);
  for (const Range* r : {&response_time, &duration, &http_status}) {
    columnar::PutDouble(&fields, r->min);
    columnar::PutDouble(&fields, r->max);
  }
  columnar::PutString(&fields, field_bloom);
  columnar::PutString(out, fields);
}

Result<TraceBlockDigest> TraceBlockDigest::Decode(std::string_view data) {
  auto damaged = [](const char* why) {
    return Status::DataLoss(std::string("trace-summary side file digest: ") + why);
  };
  columnar::ByteReader r(data);
  TraceBlockDigest d;
  d.known = true;
  uint64_t flags = 0, n = 0;
  if (!r.GetVarint(&flags) || !r.GetVarint(&n) || n > kMaxKeys || n > r.remaining())
    return damaged("bad header");
  d.annotations_complete = (flags & kAnnotationsComplete) != 0;
  d.keys_dropped = (flags & kKeysDropped) != 0;
  d.keys.resize(n);
  for (Key& k : d.keys) {
    std::string_view key;
    uint8_t types = 0;
    if (!r.GetString(&key) || !r.GetByte(&types) || !r.GetDouble(&k.number_min) ||
        !r.GetDouble(&k.number_max))
      return damaged("truncated key");
    k.key.assign(key);
    k.types = types;
  }
  for (size_t i = 1; i < d.keys.size(); ++i)
    if (!(d.keys[i - 1].key < d.keys[i].key)) return damaged("keys out of order");
  std::string_view bloom;
  if (!r.GetString(&bloom) || bloom.size() > kMaxBloomBytes) return damaged("bad value filter");
  d.bloom.assign(bloom);
  std::string_view ids;
  if (!r.GetString(&ids)) return damaged("bad trace-id filter");
  d.trace_ids.assign(ids);
  if (flags & kFieldsFollow) {
    std::string_view fields;
    if (!r.GetString(&fields)) return damaged("bad fields section");
    columnar::ByteReader f(fields);
    uint64_t bits = 0;
    std::string_view field_bloom;
    if (!f.GetVarint(&bits) || bits > UINT32_MAX) return damaged("bad field bits");
    for (Range* range : {&d.response_time, &d.duration, &d.http_status})
      if (!f.GetDouble(&range->min) || !f.GetDouble(&range->max)) return damaged("bad ranges");
    if (!f.GetString(&field_bloom) || field_bloom.size() > kMaxBloomBytes)
      return damaged("bad field value filter");
    d.fields_known = true;
    d.fact_bits = static_cast<uint32_t>(bits);
    d.field_bloom.assign(field_bloom);
  }
  if (!r.empty()) return damaged("trailing bytes");
  return d;
}

}  // namespace ariadne::store::embedded
