#include "common/json_writer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ariadne {
namespace {

TEST(JsonWriterTest, NestedValuesGetCommasAndParseBack) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Member("name", "GET /");
  w.Key("n");
  w.Int(-5);
  w.Key("list");
  w.BeginArray();
  w.Uint(1);
  w.Bool(true);
  w.Null();
  w.Raw(R"({"k":[1,2]})");
  w.BeginObject();
  w.EndObject();
  w.EndArray();
  w.Key("ratio");
  w.Double(0.1);
  w.EndObject();
  EXPECT_EQ(out, R"({"name":"GET /","n":-5,"list":[1,true,null,{"k":[1,2]},{}],"ratio":0.1})");
}

TEST(JsonWriterTest, StringsAreEscapedAndInvalidUtf8IsReplaced) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.String("quote\" backslash\\ newline\n tab\t bell\x07 caf\xc3\xa9");
  w.String(std::string_view("bad\xff\xc3", 5));
  w.EndArray();
  auto parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed[0], "quote\" backslash\\ newline\n tab\t bell\x07 caf\xc3\xa9");
  EXPECT_EQ(parsed[1], "bad\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(JsonWriterTest, DoublesRoundTripAndNonFiniteBecomeNull) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.Double(1.0 / 3.0);
  w.Double(1e300 * 1e10);
  w.Double(1500.25);
  w.EndArray();
  auto parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed[0].get<double>(), 1.0 / 3.0);
  EXPECT_TRUE(parsed[1].is_null());
  EXPECT_EQ(parsed[2].get<double>(), 1500.25);
}

}  // namespace
}  // namespace ariadne
