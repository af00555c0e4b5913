// query::CheckColumns: a spec is checked against the column catalog before it runs.
#include "query/column_check.h"

#include <gtest/gtest.h>

namespace ariadne::query {
namespace {

const std::vector<CatalogColumn> kCatalog = {
    {"duration_ms", "double"},   {"error", "bool"},       {"service.name", "string"},
    {"http.status_code", "int"}, {"user.tier", "string"}, {"retry", "mixed"},
};

QuerySpec Spec(const std::string& json) {
  Result<QuerySpec> spec = ParseQuerySpec(json, 1'800'000'000ULL * 1'000'000'000ULL);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? *spec : QuerySpec{};
}

std::string Problem(const std::string& json) {
  Status s = CheckColumns(Spec(json), kCatalog);
  EXPECT_FALSE(s.ok()) << json;
  return std::string(s.message());
}

TEST(ColumnCheckTest, UnknownColumnNamesTheFieldAndSuggestsTheNearestName) {
  EXPECT_EQ(Problem(R"({"calculations":[{"op":"COUNT"},{"op":"P99","column":"duration_mss"}]})")
                .rfind("calculations[1].column: unknown column 'duration_mss' (did you mean "
                       "'duration_ms'?)",
                       0),
            0u);
  EXPECT_NE(Problem(R"({"calculations":[{"op":"P99","column":"nonexistent_col"}]})")
                .find("unknown column 'nonexistent_col'; no span has sent it"),
            std::string::npos);
  EXPECT_EQ(Problem(R"({"breakdowns":["user.tier","zzz"]})").rfind("breakdowns[1]: unknown", 0),
            0u);
  EXPECT_EQ(Problem(R"({"filters":[{"column":"nope","op":"exists"}]})")
                .rfind("filters[0].column: unknown column 'nope'", 0),
            0u);
}

TEST(ColumnCheckTest, ValueThatCanNeverMatchTheColumnTypeIsRefused) {
  EXPECT_EQ(Problem(R"({"filters":[{"column":"error","op":"=","value":"tru"}]})"),
            "filters[0].value: 'tru' can never match error, which holds booleans; use true or "
            "false");
  EXPECT_NE(Problem(R"({"filters":[{"column":"http.status_code","op":"in","value":[500,"x"]}]})")
                .find("'x' can never match http.status_code, which holds numbers"),
            std::string::npos);
  EXPECT_NE(Problem(R"({"filters":[{"column":"duration_ms","op":">","value":true}]})")
                .find("holds numbers"),
            std::string::npos);
}

TEST(ColumnCheckTest, NumericCalculationOverTextIsRefused) {
  EXPECT_NE(Problem(R"({"calculations":[{"op":"HEATMAP","column":"user.tier"}]})")
                .find("HEATMAP needs a numeric column; user.tier holds string values"),
            std::string::npos);
}

TEST(ColumnCheckTest, WhatCanMatchPasses) {
  for (
      const char* json : {
          R"({"calculations":[{"op":"COUNT_DISTINCT","column":"user.tier"},{"op":"AVG","column":"retry"}]})",
          R"({"filters":[{"column":"error","op":"=","value":"true"},{"column":"error","op":"!=","value":false}]})",
          R"({"filters":[{"column":"http.status_code","op":">=","value":"500"},{"column":"http.status_code","op":"contains","value":"x"}]})",
          R"({"filters":[{"column":"user.tier","op":"=","value":5},{"column":"retry","op":"=","value":"maybe"}]})",
          R"({"filters":[{"column":"type","op":"=","value":"server"}],"breakdowns":["service.name"]})",
      }) {
    Status s = CheckColumns(Spec(json), kCatalog);
    EXPECT_TRUE(s.ok()) << json << ": " << s.ToString();
  }
}

}  // namespace
}  // namespace ariadne::query
