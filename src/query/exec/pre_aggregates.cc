#include "query/exec/pre_aggregates.h"

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

#include "columnar/coding.h"
#include "query/exec/aggregate_rows.h"

namespace ariadne::query::exec {
namespace {

using columnar::Block;

constexpr uint8_t kVersion = 1;
constexpr uint8_t kHasService = 1;
constexpr uint64_t kSecond = 1'000'000'000ULL;
// Slice widths tried, finest first (seconds); the last is used however many slices it gives.
constexpr uint64_t kSliceSeconds[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600};

// One (slice, group) while building.
struct Counts {
  uint64_t spans = 0;
  uint64_t errors = 0;
  double weight = 0;
  double weighted_sum = 0;
  double min_ms = std::numeric_limits<double>::infinity();
  double max_ms = -std::numeric_limits<double>::infinity();
};

// One (slice, service) while building.
struct Sketches {
  QuantileSketch quantiles;
  GridHistogram grid;
};

struct Slice {
  uint64_t min_start = UINT64_MAX, max_start = 0;
  std::map<uint32_t, Counts> counts;      // by group
  std::map<uint32_t, Sketches> sketches;  // by service
};

bool IsDurationCalc(const Calculation& c) {
  switch (c.op) {
    case CalcOp::kSum:
    case CalcOp::kAvg:
    case CalcOp::kMin:
    case CalcOp::kMax:
    case CalcOp::kPercentile:
    case CalcOp::kHeatmap:
      return c.column == "duration_ms";
    default:
      return false;
  }
}

bool PreAggregatedColumn(const std::string& column) {
  return column == "service.name" || column == "name";
}

// The finest slice width (ns) that cuts `starts` into at most kMaxSlices aligned slices.
uint64_t SliceWidth(const std::vector<uint64_t>& starts) {
  for (uint64_t seconds : kSliceSeconds) {
    const uint64_t width = seconds * kSecond;
    std::vector<uint64_t> slices;
    bool fits = true;
    for (uint64_t s : starts) {
      const uint64_t slice = s / width;
      if (std::find(slices.begin(), slices.end(), slice) != slices.end()) continue;
      if (slices.size() == kMaxSlices) {
        fits = false;
        break;
      }
      slices.push_back(slice);
    }
    if (fits) return width;
  }
  return kSliceSeconds[std::size(kSliceSeconds) - 1] * kSecond;
}

}  // namespace

std::shared_ptr<const std::string> BuildPreAggregates(const Block& block) {
  const size_t rows = block.num_rows;
  if (rows == 0 || block.start_unix_nano.size() != rows || block.end_unix_nano.size() != rows ||
      block.name.codes.size() != rows || block.resource.size() != rows ||
      block.status_code.size() != rows)
    return nullptr;
  for (const columnar::AttributeColumn& attr : block.attributes)
    if (attr.key == "service.name" && !attr.rows.empty()) return nullptr;
  // Services: per resource its index into `services` (the last entry: no service.name).
  const model::SpanBatch& t = block.tables;
  std::map<std::string_view, uint32_t> service_index;
  std::vector<std::string_view> resource_service(t.resources.size());
  std::vector<bool> resource_has(t.resources.size(), false);
  for (size_t r = 0; r < t.resources.size(); ++r) {
    const model::Value* v = t.FindAttribute(t.resources[r].attributes, "service.name");
    if (v == nullptr) continue;
    if (v->type != model::ValueType::kString) return nullptr;
    resource_service[r] = v->str;
    resource_has[r] = true;
    service_index.emplace(v->str, 0);
  }
  std::vector<std::string_view> service_names;
  for (auto& [name, index] : service_index) {
    index = static_cast<uint32_t>(service_names.size());
    service_names.push_back(name);
  }
  const uint32_t no_service = static_cast<uint32_t>(service_names.size());
  std::vector<uint32_t> service_of(t.resources.size());
  for (size_t r = 0; r < t.resources.size(); ++r)
    service_of[r] = resource_has[r] ? service_index[resource_service[r]] : no_service;

  // Groups: distinct (service, name code), numbered in order of their strings.
  std::unordered_map<uint64_t, uint32_t> group_of_key;
  for (size_t row = 0; row < rows; ++row) {
    if (block.resource[row] >= service_of.size() || block.name.codes[row] >= block.name.dict.size())
      return nullptr;
    group_of_key.try_emplace(
        static_cast<uint64_t>(service_of[block.resource[row]]) << 32 | block.name.codes[row], 0);
  }
  std::vector<uint64_t> keys;
  for (const auto& [key, unused] : group_of_key) keys.push_back(key);
  // By service (no service.name last), then name.
  std::sort(keys.begin(), keys.end(), [&](uint64_t a, uint64_t b) {
    const uint32_t sa = static_cast<uint32_t>(a >> 32), sb = static_cast<uint32_t>(b >> 32);
    if (sa != sb) return sa < sb;
    return block.name.dict[static_cast<uint32_t>(a)] < block.name.dict[static_cast<uint32_t>(b)];
  });
  for (uint32_t i = 0; i < keys.size(); ++i) group_of_key[keys[i]] = i;

  const uint64_t width = SliceWidth(block.start_unix_nano);
  const std::vector<double> weight = RowWeights(block);
  std::map<uint64_t, Slice> slices;  // by start / width
  for (size_t row = 0; row < rows; ++row) {
    const uint32_t service = service_of[block.resource[row]];
    const uint32_t group =
        group_of_key[static_cast<uint64_t>(service) << 32 | block.name.codes[row]];
    const uint64_t s = block.start_unix_nano[row], e = block.end_unix_nano[row];
    Slice& slice = slices[s / width];
    slice.min_start = std::min(slice.min_start, s);
    slice.max_start = std::max(slice.max_start, s);
    // The executor's duration_ms and weight, added the way its row loops add them.
    const double x = e > s ? static_cast<double>(e - s) / 1e6 : 0.0;
    const double w = weight.empty() ? 1.0 : weight[row];
    Counts& c = slice.counts[group];
    c.spans++;
    c.errors += block.status_code[row] == static_cast<uint8_t>(model::StatusCode::kError);
    c.weight += w;
    c.weighted_sum += w * x;
    c.min_ms = std::min(c.min_ms, x);
    c.max_ms = std::max(c.max_ms, x);
    Sketches& k = slice.sketches[service];
    k.quantiles.Add(x, w);
    k.grid.Add(x, w);
  }

  auto out = std::make_shared<std::string>();
  std::string* o = out.get();
  o->push_back(static_cast<char>(kVersion));
  const bool any_without = std::any_of(keys.begin(), keys.end(), [&](uint64_t k) {
    return static_cast<uint32_t>(k >> 32) == no_service;
  });
  columnar::PutVarint(o, service_names.size() + (any_without ? 1 : 0));
  for (std::string_view name : service_names) {
    o->push_back(static_cast<char>(kHasService));
    columnar::PutString(o, name);
  }
  if (any_without) {
    o->push_back(0);
    columnar::PutString(o, "");
  }
  columnar::PutVarint(o, keys.size());
  for (uint64_t key : keys) {
    columnar::PutVarint(o, key >> 32);
    columnar::PutString(o, block.name.dict[static_cast<uint32_t>(key)]);
  }
  columnar::PutVarint(o, width);
  columnar::PutVarint(o, slices.size());
  std::string sketch;
  for (const auto& [index, slice] : slices) {
    columnar::PutFixed64(o, slice.min_start);
    columnar::PutFixed64(o, slice.max_start);
    columnar::PutVarint(o, slice.counts.size());
    for (const auto& [group, c] : slice.counts) {
      columnar::PutVarint(o, group);
      columnar::PutVarint(o, c.spans);
      columnar::PutVarint(o, c.errors);
      columnar::PutDouble(o, c.weight);
      columnar::PutDouble(o, c.weighted_sum);
      columnar::PutDouble(o, c.min_ms);
      columnar::PutDouble(o, c.max_ms);
    }
    columnar::PutVarint(o, slice.sketches.size());
    for (const auto& [service, k] : slice.sketches) {
      columnar::PutVarint(o, service);
      sketch.clear();
      k.quantiles.EncodeTo(&sketch);
      columnar::PutString(o, sketch);
      sketch.clear();
      k.grid.EncodeTo(&sketch);
      columnar::PutString(o, sketch);
    }
  }
  return out;
}

Status DecodePreAggregates(std::string_view bytes, PreAggregates* out) {
  columnar::ByteReader in(bytes);
  auto bad = [](const char* what) {
    return Status::DataLoss(std::string("block pre-aggregates are malformed (") + what + ")");
  };
  uint8_t version;
  uint64_t services, groups, slices;
  if (!in.GetByte(&version) || version != kVersion || !in.GetVarint(&services) ||
      services > in.remaining())
    return bad("header");
  out->services.resize(services);
  for (PreAggregateService& s : out->services) {
    uint8_t flags;
    if (!in.GetByte(&flags) || !in.GetString(&s.name)) return bad("service");
    s.has_service = (flags & kHasService) != 0;
  }
  if (!in.GetVarint(&groups) || groups > in.remaining()) return bad("groups");
  out->groups.resize(groups);
  for (PreAggregateGroup& g : out->groups) {
    uint64_t service;
    if (!in.GetVarint(&service) || service >= services || !in.GetString(&g.name))
      return bad("group");
    g.service = static_cast<uint32_t>(service);
  }
  if (!in.GetVarint(&out->slice_nano) || out->slice_nano == 0 || !in.GetVarint(&slices) ||
      slices > in.remaining())
    return bad("slices");
  out->slices.resize(slices);
  for (PreAggregateSlice& slice : out->slices) {
    uint64_t counts, sketches;
    if (!in.GetFixed64(&slice.min_start_unix_nano) || !in.GetFixed64(&slice.max_start_unix_nano) ||
        slice.max_start_unix_nano < slice.min_start_unix_nano || !in.GetVarint(&counts) ||
        counts > groups)
      return bad("slice");
    slice.counts.resize(counts);
    for (PreAggregateCounts& c : slice.counts) {
      uint64_t group;
      if (!in.GetVarint(&group) || group >= groups || !in.GetVarint(&c.spans) ||
          !in.GetVarint(&c.errors) || !in.GetDouble(&c.weight) || !in.GetDouble(&c.weighted_sum) ||
          !in.GetDouble(&c.min_ms) || !in.GetDouble(&c.max_ms))
        return bad("counts");
      c.group = static_cast<uint32_t>(group);
    }
    if (!in.GetVarint(&sketches) || sketches > services) return bad("sketches");
    slice.sketches.resize(sketches);
    for (PreAggregateSketches& k : slice.sketches) {
      uint64_t service;
      if (!in.GetVarint(&service) || service >= services || !in.GetString(&k.quantiles) ||
          !in.GetString(&k.grid))
        return bad("sketch");
      k.service = static_cast<uint32_t>(service);
    }
  }
  if (!in.ok() || !in.empty()) return bad("trailing bytes");
  return Status::Ok();
}

bool PreAggregatable(const QuerySpec& spec) {
  if (spec.exact || !spec.xray_filter.empty() || spec.calculations.empty()) return false;
  for (const Filter& f : spec.filters)
    if (!PreAggregatedColumn(f.column)) return false;
  for (const std::string& b : spec.breakdowns)
    if (!PreAggregatedColumn(b)) return false;
  bool sketches = false;
  for (const Calculation& c : spec.calculations) {
    if (c.op == CalcOp::kCount && c.column.empty()) continue;
    if (!IsDurationCalc(c)) return false;
    sketches |= c.op == CalcOp::kPercentile || c.op == CalcOp::kHeatmap;
  }
  if (!sketches) return true;
  // The sketches are per service: nothing may split a service's spans by name.
  for (const Filter& f : spec.filters)
    if (f.column == "name") return false;
  for (const std::string& b : spec.breakdowns)
    if (b == "name") return false;
  return true;
}

}  // namespace ariadne::query::exec
