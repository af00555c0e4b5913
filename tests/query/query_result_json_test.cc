// QueryResultJson (the API's streaming renderer of query results) against query::ResultToJson
// (the nlohmann document form it replaced on POST /api/v1/query): the same JSON value for random
// results — breakdown and calculation values of every kind, strings with escapes and invalid
// UTF-8, doubles across the whole range, HEATMAP buckets, a breakdown and a calculation with the
// same name, rows without some values — and doubles written as nlohmann writes them.
#include "api/query_result_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "common/json_dump.h"
#include "common/json_writer.h"
#include "query/query_spec.h"

namespace ariadne {
namespace {

using query::QueryResult;
using query::QuerySpec;
using query::ResultRow;
using query::ResultValue;

std::string FloatText(double v) {
  std::string out;
  JsonWriter w(&out);
  w.Float(v);
  return out;
}

TEST(QueryResultJsonTest, FloatIsWrittenAsNlohmannWritesIt) {
  const double kValues[] = {0.0,
                            -0.0,
                            1.0,
                            5.0,
                            8.5,
                            -12.25,
                            0.1,
                            1e-4,
                            1e-5,
                            1.5e-5,
                            123456.75,
                            1e15,
                            1e16,
                            1.25e16,
                            9.99e15,
                            1e21,
                            1e100,
                            1e-100,
                            4.9e-324,
                            1.7976931348623157e308,
                            2.5e-3,
                            1234567.0,
                            100000.0,
                            0.3333333333333333,
                            299.99999999999994};
  for (double v : kValues) {
    EXPECT_EQ(FloatText(v), DumpJson(nlohmann::json(v))) << v;
  }
  EXPECT_EQ(FloatText(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(FloatText(-std::numeric_limits<double>::infinity()), "null");
  // Random doubles: the same value back, and the same text whenever nlohmann's digits are the
  // shortest (its grisu2 may give one digit more in rare cases).
  std::mt19937_64 rng(7);
  int same_text = 0;
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof(v));
    if (!std::isfinite(v)) continue;
    if (i % 2) v = std::ldexp(static_cast<double>(rng() % 100000), -static_cast<int>(rng() % 40));
    const std::string mine = FloatText(v);
    EXPECT_EQ(nlohmann::json::parse(mine).get<double>(), v) << mine;
    const std::string theirs = DumpJson(nlohmann::json(v));
    if (mine == theirs) {
      ++same_text;
    } else {
      EXPECT_LE(mine.size(), theirs.size()) << mine << " vs " << theirs;
    }
  }
  EXPECT_GT(same_text, 19000);
}

ResultValue RandomValue(std::mt19937_64& rng) {
  static const char* kStrings[] = {"cart",
                                   "GET /api/items",
                                   "quote\"back\\slash",
                                   "tab\tnl\n",
                                   "\x01\x1f ctl",
                                   "caf\xc3\xa9 \xe2\x82\xac",
                                   "bad \xff\xfe utf8",
                                   "cut \xe2\x82",
                                   ""};
  switch (rng() % 7) {
    case 0:
      return std::monostate{};
    case 1:
      return std::string(kStrings[rng() % std::size(kStrings)]);
    case 2:
      return static_cast<int64_t>(rng()) >> (rng() % 64);
    case 3: {
      const double kSpecial[] = {
          std::nan(""), std::numeric_limits<double>::infinity(), 0.0, -0.0, 1e16, 1e-7};
      return kSpecial[rng() % std::size(kSpecial)];
    }
    case 4:
      return static_cast<bool>(rng() % 2);
    default:
      return std::ldexp(static_cast<double>(rng() % 1000000), -static_cast<int>(rng() % 30)) *
             ((rng() % 2) ? 1 : -1);
  }
}

ResultRow RandomRow(std::mt19937_64& rng, const QuerySpec& spec, bool totals) {
  ResultRow row;
  if (!totals) {
    size_t nb = spec.breakdowns.size() - (rng() % 5 == 0 && !spec.breakdowns.empty() ? 1 : 0);
    for (size_t b = 0; b < nb; ++b) row.breakdowns.push_back(RandomValue(rng));
  }
  size_t nc = spec.calculations.size() - (rng() % 7 == 0 && !spec.calculations.empty() ? 1 : 0);
  size_t heatmaps = 0;
  for (size_t c = 0; c < nc; ++c) {
    if (spec.calculations[c].op == query::CalcOp::kHeatmap) {
      row.values.push_back(std::monostate{});
      if (rng() % 6 == 0) continue;  // fewer heatmaps than HEATMAP calculations
      std::vector<query::HeatmapBucket> buckets(rng() % 4);
      for (auto& b : buckets) {
        b.lower = static_cast<double>(rng() % 1000) / 8;
        b.upper = b.lower + 0.125;
        b.count = static_cast<double>(rng() % 100);
      }
      row.heatmaps.push_back(std::move(buckets));
      ++heatmaps;
    } else {
      row.values.push_back(RandomValue(rng));
    }
  }
  return row;
}

void ExpectSameJson(const QuerySpec& spec, const QueryResult& result) {
  const std::string mine = api::QueryResultJson(spec, result);
  const nlohmann::json parsed = nlohmann::json::parse(mine, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << mine;
  const nlohmann::json expected = nlohmann::json::parse(query::ResultToJson(spec, result));
  EXPECT_EQ(parsed, expected) << "mine:\n" << mine << "\nexpected:\n" << expected.dump();
  EXPECT_EQ(parsed.dump(), expected.dump());  // the same key order and number kinds
}

TEST(QueryResultJsonTest, SameValueAsResultToJson) {
  const char* kSpecs[] = {
      R"({"calculations":[{"op":"COUNT"}]})",
      R"({"breakdowns":["service.name"],"calculations":[{"op":"COUNT"},{"op":"P99","column":"duration_ms"}]})",
      R"({"breakdowns":["name","http.status_code"],"calculations":[{"op":"HEATMAP","column":"duration_ms"},{"op":"AVG","column":"duration_ms"},{"op":"HEATMAP","column":"db.rows"}]})",
      // A breakdown named like a calculation's label, and a calculation given twice.
      R"({"breakdowns":["COUNT","zeta"],"calculations":[{"op":"COUNT"},{"op":"MAX","column":"a"},{"op":"MAX","column":"a"}]})",
      R"({"breakdowns":["b"],"calculations":[{"op":"HEATMAP","column":"duration_ms"}]})",
  };
  std::mt19937_64 rng(42);
  for (const char* text : kSpecs) {
    std::string body = std::string(text);
    body.insert(body.size() - 1,
                R"(,"start_time":1764000000,"end_time":1764000600,"granularity":60)");
    Result<QuerySpec> spec = query::ParseQuerySpec(body, 1764000600ULL * 1'000'000'000ULL);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString() << " " << body;
    for (int round = 0; round < 40; ++round) {
      QueryResult result;
      const size_t nrows = rng() % 6;
      for (size_t r = 0; r < nrows; ++r) result.rows.push_back(RandomRow(rng, *spec, false));
      const size_t npoints = rng() % 4;
      for (size_t p = 0; p < npoints; ++p) {
        query::SeriesPoint point;
        point.time_unix_nano = spec->start_unix_nano + p * 60'000'000'000ULL + rng() % 1000;
        const size_t n = rng() % 3;  // 0: a point without rows
        for (size_t r = 0; r < n; ++r) point.rows.push_back(RandomRow(rng, *spec, false));
        result.series.push_back(std::move(point));
      }
      result.totals = RandomRow(rng, *spec, true);
      result.blocks_scanned = rng() % 100;
      result.blocks_skipped = rng() % 100;
      result.spans_scanned = rng();
      result.spans_matched = rng() % 1000000;
      result.sample_rate_weighted = rng() % 2;
      ExpectSameJson(*spec, result);
      if (HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace ariadne
