// The ClickHouse engine's pure parts, without a server: the --store URL, SQL literals, and the
// TabSeparated / RowBinary readers that turn ClickHouse's answers into values.
#include <gtest/gtest.h>

#include "store/clickhouse/clickhouse_client.h"
#include "store/clickhouse/row_codec.h"
#include "store/clickhouse/sql_expr.h"

namespace ariadne::store::clickhouse {
namespace {

const char* NoEnvironment(const char*) { return nullptr; }
const char* CredentialsInEnvironment(const char* name) {
  if (std::string(name) == "ARIADNE_CLICKHOUSE_USER") return "reader";
  if (std::string(name) == "ARIADNE_CLICKHOUSE_PASSWORD") return "s3cret";
  return nullptr;
}

TEST(ClickHouseUrlTest, HostsPortsDatabaseAndCredentialsAreParsed) {
  auto config = ParseClickHouseUrl("clickhouse://ingest:pw@ch1:9000,ch2/traces", NoEnvironment);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->hosts.size(), 2u);
  EXPECT_EQ(config->hosts[0].host, "ch1");
  EXPECT_EQ(config->hosts[0].port, 9000);
  EXPECT_EQ(config->hosts[1].host, "ch2");
  EXPECT_EQ(config->hosts[1].port, 8123);  // the HTTP interface's default
  EXPECT_EQ(config->database, "traces");
  EXPECT_EQ(config->user, "ingest");
  EXPECT_EQ(config->password, "pw");
}

TEST(ClickHouseUrlTest, CredentialsComeFromTheEnvironmentUnlessTheUrlHasThem) {
  auto config = ParseClickHouseUrl("clickhouse://127.0.0.1:8123", CredentialsInEnvironment);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->user, "reader");
  EXPECT_EQ(config->password, "s3cret");
  EXPECT_EQ(config->database, "ariadne");
  config = ParseClickHouseUrl("clickhouse://me@127.0.0.1", CredentialsInEnvironment);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->user, "me");
}

TEST(ClickHouseUrlTest, ClusterParameterNamesTheRemoteServersCluster) {
  auto config =
      ParseClickHouseUrl("clickhouse://ch1,ch2:8124/traces?cluster=spans_2x1", NoEnvironment);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->cluster, "spans_2x1");
  EXPECT_EQ(config->database, "traces");
  ASSERT_EQ(config->hosts.size(), 2u);
  EXPECT_EQ(config->hosts[1].port, 8124);
  config = ParseClickHouseUrl("clickhouse://ch1?cluster=c", NoEnvironment);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->cluster, "c");
  EXPECT_EQ(config->database, "ariadne");
  EXPECT_TRUE(ParseClickHouseUrl("clickhouse://ch1/db", NoEnvironment)->cluster.empty());
  for (const char* url : {"clickhouse://ch1/db?cluster=", "clickhouse://ch1/db?cluster=a-b",
                          "clickhouse://ch1/db?shards=2"}) {
    auto bad = ParseClickHouseUrl(url, NoEnvironment);
    ASSERT_FALSE(bad.ok()) << url;
    EXPECT_TRUE(bad.status().IsInvalidArgument()) << url;
  }
}

TEST(ClickHouseUrlTest, BadUrlsAreRefusedWithTheExpectedForm) {
  for (const char* url : {"http://127.0.0.1:8123", "clickhouse://", "clickhouse://h:99999",
                          "clickhouse://h:x", "clickhouse://h/db;drop", "clickhouse://:1"}) {
    auto config = ParseClickHouseUrl(url, NoEnvironment);
    ASSERT_FALSE(config.ok()) << url;
    EXPECT_TRUE(config.status().IsInvalidArgument()) << url;
    EXPECT_NE(config.status().message().find("clickhouse://[USER[:PASSWORD]@]HOST"),
              std::string::npos)
        << config.status().message();
  }
}

TEST(ClickHouseSqlTest, StringLiteralsEscapeQuotesAndBackslashes) {
  EXPECT_EQ(SqlString("it's a \\ test"), "'it\\'s a \\\\ test'");
  EXPECT_EQ(SqlDouble(0.5), "toFloat64(0.5)");
  EXPECT_EQ(SqlDouble(3), "toFloat64(3.0)");
  EXPECT_EQ(UrlEncode("a b&c"), "a%20b%26c");
}

TEST(ClickHouseSqlTest, AttributeFiltersOnlyMatchRowsThatHaveTheAttribute) {
  query::Filter ne;
  ne.column = "http.route";
  ne.op = query::FilterOp::kNe;
  ne.values = {std::string("/x")};
  const std::string sql = FilterExpr(ne);
  EXPECT_NE(sql.find("indexOf(attr_keys, 'http.route')"), std::string::npos) << sql;
  EXPECT_NE(sql.find("http_route"), std::string::npos) << sql;  // the promoted column
  EXPECT_NE(sql.find("!= 0) AND"), std::string::npos) << sql;   // present AND different
}

TEST(ClickHouseTsvTest, EscapesAndTotalsSeparatorAreRead) {
  auto rows = ParseTsv("a\\tb\t1\nx\\\\y\t\\N\n\n7\t8\n");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a\tb", "1"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"x\\y", "N"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{""}));  // the empty line before WITH TOTALS
  EXPECT_EQ(rows[3], (std::vector<std::string>{"7", "8"}));
}

TEST(ClickHouseRowBinaryTest, TruncatedAnswersAreDetected) {
  std::string data;
  data.push_back(3);
  data += "abc";
  data.append(8, '\x01');
  RowBinaryReader reader(data);
  std::string_view s;
  uint64_t n = 0;
  ASSERT_TRUE(reader.ReadString(&s));
  EXPECT_EQ(s, "abc");
  ASSERT_TRUE(reader.ReadUInt64(&n));
  EXPECT_EQ(n, 0x0101010101010101ULL);
  EXPECT_TRUE(reader.done());
  RowBinaryReader cut(std::string_view(data).substr(0, 3));
  EXPECT_FALSE(cut.ReadString(&s));
}

}  // namespace
}  // namespace ariadne::store::clickhouse
