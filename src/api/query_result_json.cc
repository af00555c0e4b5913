#include "api/query_result_json.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <vector>

#include "common/json_writer.h"
#include "common/time_units.h"

namespace ariadne::api {
namespace {

using query::CalcOp;
using query::QuerySpec;
using query::ResultRow;
using query::ResultValue;

// One member of a row's "data" object: its key and, in the order ResultToJson assigns them, the
// sources that may set it (breakdown b or calculation c); the last one the row has wins.
struct Source {
  bool breakdown;
  size_t index;    // breakdown or calculation index
  size_t heatmap;  // for a HEATMAP calculation: its position among the row's heatmaps
};
struct Member {
  std::string key;
  std::vector<Source> sources;
};

// The members of every row's "data" object, in key order (std::map, as nlohmann's object).
std::vector<Member> RowMembers(const QuerySpec& spec) {
  std::map<std::string, std::vector<Source>> by_key;
  for (size_t b = 0; b < spec.breakdowns.size(); ++b)
    by_key[spec.breakdowns[b]].push_back({true, b, 0});
  size_t heatmap = 0;
  for (size_t c = 0; c < spec.calculations.size(); ++c) {
    const bool is_heatmap = spec.calculations[c].op == CalcOp::kHeatmap;
    by_key[spec.calculations[c].label].push_back({false, c, heatmap});
    if (is_heatmap) ++heatmap;
  }
  std::vector<Member> members;
  members.reserve(by_key.size());
  for (auto& [key, sources] : by_key) members.push_back({key, std::move(sources)});
  return members;
}

void WriteValue(JsonWriter& w, const ResultValue& v) {
  switch (v.index()) {
    case 1:
      w.String(std::get<std::string>(v));
      return;
    case 2:
      w.Int(std::get<int64_t>(v));
      return;
    case 3:
      w.Float(std::get<double>(v));  // null when not finite
      return;
    case 4:
      w.Bool(std::get<bool>(v));
      return;
    default:
      w.Null();
  }
}

void WriteRow(JsonWriter& w, const QuerySpec& spec, const std::vector<Member>& members,
              const ResultRow& row) {
  w.BeginObject();
  for (const Member& m : members) {
    const Source* chosen = nullptr;
    for (const Source& s : m.sources) {
      const bool present =
          s.breakdown ? s.index < row.breakdowns.size() : s.index < row.values.size();
      if (present) chosen = &s;
    }
    if (chosen == nullptr) continue;
    w.Key(m.key);
    if (chosen->breakdown) {
      WriteValue(w, row.breakdowns[chosen->index]);
    } else if (spec.calculations[chosen->index].op == CalcOp::kHeatmap) {
      w.BeginObject();
      w.Key("buckets");
      w.BeginArray();
      if (chosen->heatmap < row.heatmaps.size()) {
        for (const query::HeatmapBucket& b : row.heatmaps[chosen->heatmap]) {
          w.BeginObject();
          w.Key("count");
          w.Float(b.count);
          w.Key("lower");
          w.Float(b.lower);
          w.Key("upper");
          w.Float(b.upper);
          w.EndObject();
        }
      }
      w.EndArray();
      w.EndObject();
    } else {
      WriteValue(w, row.values[chosen->index]);
    }
  }
  w.EndObject();
}

// "YYYY-MM-DDTHH:MM:SSZ" of the second `unix_nano` falls in.
std::string Rfc3339(uint64_t unix_nano) {
  std::time_t seconds = static_cast<std::time_t>(unix_nano / kNanosPerSecond);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

}  // namespace

std::string QueryResultJson(const QuerySpec& spec, const query::QueryResult& result) {
  const std::vector<Member> members = RowMembers(spec);
  std::string out;
  size_t series_rows = 0;
  for (const query::SeriesPoint& point : result.series) series_rows += point.rows.size();
  out.reserve(256 + (result.rows.size() + series_rows) * (48 + 24 * members.size()));
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("data");
  w.BeginObject();
  w.Key("results");
  w.BeginArray();
  for (const ResultRow& row : result.rows) {
    w.BeginObject();
    w.Key("data");
    WriteRow(w, spec, members, row);
    w.EndObject();
  }
  w.EndArray();
  w.Key("series");
  w.BeginArray();
  for (const query::SeriesPoint& point : result.series) {
    if (point.rows.empty()) continue;
    const std::string time = Rfc3339(point.time_unix_nano);
    for (const ResultRow& row : point.rows) {
      w.BeginObject();
      w.Key("data");
      WriteRow(w, spec, members, row);
      w.Key("time");
      w.PlainString(time);
      w.EndObject();
    }
  }
  w.EndArray();
  w.Key("totals");
  WriteRow(w, spec, members, result.totals);
  w.EndObject();
  w.Key("meta");
  w.BeginObject();
  w.Key("blocks_scanned");
  w.Uint(result.blocks_scanned);
  w.Key("blocks_skipped");
  w.Uint(result.blocks_skipped);
  w.Key("end_time");
  w.Uint(spec.end_unix_nano / kNanosPerSecond);
  w.Key("granularity");
  w.Uint(spec.granularity_seconds);
  w.Key("sample_rate_weighted");
  w.Bool(result.sample_rate_weighted);
  w.Key("spans_matched");
  w.Uint(result.spans_matched);
  w.Key("spans_scanned");
  w.Uint(result.spans_scanned);
  w.Key("start_time");
  w.Uint(spec.start_unix_nano / kNanosPerSecond);
  w.EndObject();
  w.EndObject();
  return out;
}

}  // namespace ariadne::api
