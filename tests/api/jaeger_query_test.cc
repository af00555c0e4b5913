// Jaeger query parameters as jaeger-query reads them (Go durations, tag filters, microsecond
// windows, limits) and Jaeger's trace-id forms, without a server.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "api/jaeger_model.h"
#include "api/jaeger_query.h"

namespace ariadne::api::jaeger {
namespace {

constexpr uint64_t kNow = 1'700'000'000'000'000'000ULL;

TEST(JaegerQueryTest, GoDurationsParseToNanoseconds) {
  EXPECT_EQ(*ParseGoDuration("0"), 0u);
  EXPECT_EQ(*ParseGoDuration("250ns"), 250u);
  EXPECT_EQ(*ParseGoDuration("3us"), 3'000u);
  EXPECT_EQ(*ParseGoDuration("3\xC2\xB5s"), 3'000u);
  EXPECT_EQ(*ParseGoDuration("100ms"), 100'000'000u);
  EXPECT_EQ(*ParseGoDuration("1.5s"), 1'500'000'000u);
  EXPECT_EQ(*ParseGoDuration("2m"), 120'000'000'000u);
  EXPECT_EQ(*ParseGoDuration("1h30m"), 5'400'000'000'000u);
  for (const char* bad : {"", "fast", "100", "1.5", "-1s", "1d", "ms", ".s", "1e9h9999999999h"}) {
    EXPECT_FALSE(ParseGoDuration(bad).ok()) << bad;
  }
}

TEST(JaegerQueryTest, SearchParametersBecomeFiltersOnOneSpan) {
  Result<store::TraceSearchRequest> search =
      ParseTraceSearch({{"service", "cart"},
                        {"operation", "GET /cart"},
                        {"tags", R"({"http.status_code":"500"})"},
                        {"tag", "region:eu:west"},
                        {"minDuration", "1ms"},
                        {"maxDuration", "2s"},
                        {"start", "1699999000000000"},
                        {"end", "1699999999000000"},
                        {"limit", "20"},
                        {"lookback", "custom"}},
                       kNow);
  ASSERT_TRUE(search.ok()) << search.status().ToString();
  EXPECT_EQ(search->start_unix_nano, 1'699'999'000'000'000'000ULL);
  EXPECT_EQ(search->end_unix_nano, 1'699'999'999'000'001'000ULL) << "end is inclusive";
  EXPECT_EQ(search->limit, 20u);
  ASSERT_EQ(search->filters.size(), 6u);
  auto text = [&](size_t i) { return std::get<std::string>(search->filters[i].values[0]); };
  EXPECT_EQ(search->filters[0].column, "service.name");
  EXPECT_EQ(text(0), "cart");
  EXPECT_EQ(search->filters[1].column, "name");
  EXPECT_EQ(text(1), "GET /cart");
  EXPECT_EQ(search->filters[2].column, "http.status_code");
  EXPECT_EQ(text(2), "500");
  EXPECT_EQ(search->filters[3].column, "region");
  EXPECT_EQ(text(3), "eu:west");
  EXPECT_EQ(search->filters[4].column, "duration_ms");
  EXPECT_EQ(search->filters[4].op, query::FilterOp::kGe);
  EXPECT_EQ(std::get<double>(search->filters[4].values[0]), 1.0);
  EXPECT_EQ(search->filters[5].op, query::FilterOp::kLe);
  EXPECT_EQ(std::get<double>(search->filters[5].values[0]), 2000.0);
}

TEST(JaegerQueryTest, SearchDefaultsAreJaegerQuerys) {
  Result<store::TraceSearchRequest> search = ParseTraceSearch({{"service", "cart"}}, kNow);
  ASSERT_TRUE(search.ok());
  EXPECT_EQ(search->end_unix_nano, kNow);
  EXPECT_EQ(search->start_unix_nano, kNow - 48ULL * 3600 * 1'000'000'000);
  EXPECT_EQ(search->limit, 100u);
  search = ParseTraceSearch({{"service", "cart"}, {"limit", "0"}}, kNow);
  EXPECT_EQ(search->limit, 100u);
  search = ParseTraceSearch({{"service", "cart"}, {"limit", "5000"}}, kNow);
  EXPECT_EQ(search->limit, 1000u) << "capped";
}

TEST(JaegerQueryTest, BadSearchParametersNameTheParameter) {
  auto message = [](const Params& params) {
    Result<store::TraceSearchRequest> search = ParseTraceSearch(params, kNow);
    EXPECT_FALSE(search.ok());
    return search.ok() ? std::string() : std::string(search.status().message());
  };
  EXPECT_EQ(message({}), "parameter 'service' is required");
  EXPECT_NE(message({{"service", "a"}, {"limit", "x"}}).find("'limit'"), std::string::npos);
  EXPECT_NE(message({{"service", "a"}, {"end", "99999999999999999999"}}).find("'end'"),
            std::string::npos);
  EXPECT_NE(message({{"service", "a"}, {"start", "20"}, {"end", "10"}}).find("after 'start'"),
            std::string::npos);
  EXPECT_NE(message({{"service", "a"}, {"tags", R"({"a": 1})"}}).find("must be a string"),
            std::string::npos);
  EXPECT_NE(message({{"service", "a"}, {"tags", std::string(100, '[')}}).find("'tags'"),
            std::string::npos);
}

TEST(JaegerQueryTest, TraceIdsPrintAndParseAsJaegerDoes) {
  model::TraceId wide = *model::TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736");
  model::TraceId narrow = *model::TraceId::FromHex("00000000000000004bf92f3577b34da6");
  EXPECT_EQ(TraceIdString(wide), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(TraceIdString(narrow), "4bf92f3577b34da6");
  EXPECT_EQ(*ParseTraceId("4bf92f3577b34da6"), narrow);
  EXPECT_EQ(*ParseTraceId("4BF92F3577B34DA6A3CE929D0E0E4736"), wide);
  EXPECT_EQ(ParseTraceId("abc")->ToHex(), "00000000000000000000000000000abc");
  EXPECT_EQ(*ParseTraceId("1-4bf92f35-77b34da6a3ce929d0e0e4736"), wide);
  EXPECT_FALSE(ParseTraceId(""));
  EXPECT_FALSE(ParseTraceId("0"));
  EXPECT_FALSE(ParseTraceId("xyz"));
  EXPECT_FALSE(ParseTraceId(std::string(33, '1')));
}

TEST(JaegerQueryTest, EnvelopeIsJaegerQuerysStructuredResponse) {
  EXPECT_EQ(Envelope("[\"a\"]", 1, {}),
            "{\"data\":[\"a\"],\"total\":1,\"limit\":0,\"offset\":0,\"errors\":null}\n");
  EXPECT_EQ(ErrorEnvelope(404, "trace not found"),
            "{\"data\":null,\"total\":0,\"limit\":0,\"offset\":0,\"errors\":[{\"code\":404,"
            "\"msg\":\"trace not found\"}]}\n");
  EXPECT_EQ(Envelope("[]", 0, {Error{0, "trace not found", "abc"}}),
            "{\"data\":[],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":[{\"msg\":\"trace not "
            "found\",\"traceID\":\"abc\"}]}\n");
}

}  // namespace
}  // namespace ariadne::api::jaeger
