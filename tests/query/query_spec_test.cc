#include "query/query_spec.h"

#include <gtest/gtest.h>

namespace ariadne::query {
namespace {

constexpr uint64_t kNow = 1'764'000'000'000'000'000ULL;

Status ParseError(const std::string& json) {
  Result<QuerySpec> r = ParseQuerySpec(json, kNow);
  EXPECT_FALSE(r.ok()) << json;
  return r.ok() ? Status::Ok() : r.status();
}

TEST(QuerySpecTest, EmptySpecIsCountOverTheLastTwoHours) {
  Result<QuerySpec> spec = ParseQuerySpec("{}", kNow);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_EQ(spec->calculations.size(), 1u);
  EXPECT_EQ(spec->calculations[0].label, "COUNT");
  EXPECT_EQ(spec->end_unix_nano - spec->start_unix_nano, 7200ULL * 1'000'000'000ULL);
  EXPECT_EQ(spec->end_unix_nano, kNow);
  EXPECT_EQ(spec->limit, kDefaultLimit);
}

TEST(QuerySpecTest, ExactAsksForExactPercentilesAndMustBeABoolean) {
  Result<QuerySpec> spec = ParseQuerySpec(R"({"exact": true})", kNow);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_TRUE(spec->exact);
  EXPECT_FALSE(ParseQuerySpec("{}", kNow)->exact);
  Result<QuerySpec> bad = ParseQuerySpec(R"({"exact": "yes"})", kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "exact: must be true or false");
}

TEST(QuerySpecTest, FullSpecParsesEveryPart) {
  Result<QuerySpec> spec = ParseQuerySpec(R"({
    "start_time": 1000, "time_range": 600, "granularity": 60,
    "calculations": [{"op": "P99", "column": "duration_ms"}, {"op": "COUNT"},
                     {"op": "count_distinct", "column": "user.id"}],
    "filters": [{"column": "http.status_code", "op": ">=", "value": 500},
                {"column": "service.name", "op": "in", "value": ["a", "b"]},
                {"column": "user.id", "op": "exists"}],
    "filter_combination": "OR",
    "breakdowns": ["service.name", "name"],
    "orders": [{"op": "P99", "column": "duration_ms", "order": "descending"}, {"column": "name"}],
    "havings": [{"calculate_op": "COUNT", "op": ">", "value": 10}],
    "limit": 50})",
                                          kNow);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->start_unix_nano, 1000ULL * 1'000'000'000ULL);
  EXPECT_EQ(spec->end_unix_nano, 1600ULL * 1'000'000'000ULL);
  EXPECT_EQ(spec->bucket_count(), 10u);
  EXPECT_EQ(spec->calculations[0].label, "P99(duration_ms)");
  EXPECT_DOUBLE_EQ(spec->calculations[0].percentile, 0.99);
  EXPECT_EQ(spec->calculations[2].label, "COUNT_DISTINCT(user.id)");
  EXPECT_EQ(spec->filters[0].op, FilterOp::kGe);
  EXPECT_EQ(std::get<int64_t>(spec->filters[0].values[0]), 500);
  EXPECT_EQ(spec->filters[1].values.size(), 2u);
  EXPECT_TRUE(spec->filter_or);
  EXPECT_EQ(*spec->orders[0].calculation, 0u);
  EXPECT_TRUE(spec->orders[0].descending);
  EXPECT_EQ(spec->orders[1].column, "name");
  EXPECT_EQ(spec->havings[0].calculation, 1u);
  EXPECT_EQ(spec->limit, 50u);
}

TEST(QuerySpecTest, ErrorsNameTheFieldAndTheProblem) {
  EXPECT_EQ(ParseError("not json").message(), "query: the body is not valid JSON");
  EXPECT_EQ(ParseError(R"({"calculations":[{"op":"P99"}]})").message(),
            "calculations[0].column: P99 needs a column");
  EXPECT_EQ(ParseError(R"({"calculations":[{"op":"COUNT","column":"x"}]})").message(),
            "calculations[0].column: COUNT takes no column");
  EXPECT_NE(ParseError(R"({"calculations":[{"op":"P42","column":"x"}]})")
                .message()
                .find("calculations[0].op: unknown calculation 'P42'"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"filters":[{"column":"a","op":"~","value":1}]})")
                .message()
                .find("filters[0].op: unknown filter op"),
            std::string::npos);
  EXPECT_EQ(ParseError(R"({"filters":[{"column":"a","op":"in","value":1}]})").message(),
            "filters[0].value: in and not-in need a non-empty array");
  EXPECT_EQ(ParseError(R"({"filters":[{"column":"a","op":"exists","value":1}]})").message(),
            "filters[0].value: exists and does-not-exist take no value");
  EXPECT_EQ(ParseError(R"({"filters":[{"column":"a","op":"contains","value":1}]})").message(),
            "filters[0].value: must be a string for contains");
  EXPECT_EQ(ParseError(R"({"orders":[{"column":"x"}]})").message(),
            "orders[0].column: 'x' is not a breakdown of the query");
  EXPECT_NE(ParseError(R"({"havings":[{"calculate_op":"AVG","column":"d","op":">","value":1}]})")
                .message()
                .find("havings[0]: havings must name a calculation"),
            std::string::npos);
  EXPECT_EQ(ParseError(R"({"limit":0})").message(), "limit: must be an integer from 1 to 10000");
  EXPECT_EQ(ParseError(R"({"time_range":60,"start_time":1,"end_time":100})").message(),
            "time_range: give at most two of time_range, start_time and end_time");
  EXPECT_EQ(ParseError(R"({"start_time":100,"end_time":50})").message(),
            "end_time: must be after start_time");
  EXPECT_EQ(ParseError(R"({"time_range":100000,"granularity":1})").message(),
            "granularity: makes 100000 time buckets, more than 1000; use at least 100 s or a "
            "shorter time range");
  EXPECT_EQ(ParseError(R"({"bogus":1})").message(), "bogus: unknown field");
  EXPECT_EQ(ParseError(R"({"filter_combination":"XOR"})").message(),
            "filter_combination: must be \"AND\" or \"OR\"");
}

TEST(QuerySpecTest, TimesWhoseNanosecondsOverflowAreRefusedWithTheRange) {
  const std::string range = "from 0 to 18446744073 (Unix seconds, up to 2554-07-21)";
  EXPECT_EQ(ParseError(R"({"start_time":0,"end_time":18446744073709551615})").message(),
            "end_time: must be " + range);
  EXPECT_EQ(ParseError(R"({"start_time":0,"end_time":18446744074})").message(),
            "end_time: must be " + range);
  EXPECT_EQ(ParseError(R"({"start_time":-1,"end_time":10})").message(),
            "start_time: must be " + range);
  EXPECT_EQ(ParseError(R"({"start_time":0,"end_time":1e300})").message(),
            "end_time: must be " + range);
  EXPECT_EQ(ParseError(R"({"time_range":18446744074})").message(), "time_range: must be " + range);
  EXPECT_EQ(ParseError(R"({"start_time":18446744000,"time_range":74})").message(),
            "time_range: start_time + time_range must end " + range);
  EXPECT_EQ(ParseError(R"({"start_time":"soon"})").message(),
            "start_time: must be a number of seconds " + range);

  // The largest window is fine, and its buckets are counted without overflow.
  Result<QuerySpec> spec = ParseQuerySpec(R"({"start_time":0,"end_time":18446744073})", kNow);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->end_unix_nano, 18446744073ULL * 1'000'000'000ULL);
  EXPECT_EQ(spec->bucket_count(), 120u);
  spec =
      ParseQuerySpec(R"({"start_time":0,"end_time":18446744073,"granularity":18446744073})", kNow);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->bucket_count(), 1u);
}

TEST(QuerySpecTest, BucketCapCountsThePartialLastBucket) {
  // 2001 s at 2 s: 1000 whole buckets and one partial one.
  EXPECT_EQ(ParseError(R"({"start_time":0,"end_time":2001,"granularity":2})").message(),
            "granularity: makes 1001 time buckets, more than 1000; use at least 3 s or a shorter "
            "time range");
  Result<QuerySpec> spec =
      ParseQuerySpec(R"({"start_time":0,"end_time":2000,"granularity":2})", kNow);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->bucket_count(), 1000u);
}

TEST(QuerySpecTest, ResultJsonHasHoneycombShape) {
  Result<QuerySpec> spec = ParseQuerySpec(
      R"j({"breakdowns":["service.name"],"calculations":[{"op":"COUNT"},{"op":"P99","column":"duration_ms"}],"start_time":0,"end_time":120,"granularity":60})j",
      kNow);
  ASSERT_TRUE(spec.ok());
  QueryResult result;
  ResultRow row;
  row.breakdowns = {std::string("cart")};
  row.values = {int64_t{12}, 8.5};
  result.rows.push_back(row);
  SeriesPoint point;
  point.time_unix_nano = 60'000'000'000ULL;
  point.rows.push_back(row);
  result.series.push_back(point);
  result.totals.values = {int64_t{12}, 8.5};
  std::string json = ResultToJson(*spec, result);
  const std::string results =
      R"j("results":[{"data":{"COUNT":12,"P99(duration_ms)":8.5,"service.name":"cart"}}])j";
  const std::string series =
      R"j("series":[{"data":{"COUNT":12,"P99(duration_ms)":8.5,"service.name":"cart"},"time":"1970-01-01T00:01:00Z"}])j";
  EXPECT_NE(json.find(results), std::string::npos) << json;
  EXPECT_NE(json.find(series), std::string::npos) << json;
}

}  // namespace
}  // namespace ariadne::query
