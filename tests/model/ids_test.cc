#include "model/ids.h"

#include <gtest/gtest.h>

namespace ariadne::model {
namespace {

TEST(IdsTest, HexRoundTripIsLowercaseAndAcceptsUppercase) {
  auto id = TraceId::FromHex("5B8EFFF798038103D269B633813FC60C");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ToHex(), "5b8efff798038103d269b633813fc60c");
  EXPECT_FALSE(id->IsZero());
}

TEST(IdsTest, WrongLengthOrNonHexIsRejected) {
  EXPECT_FALSE(TraceId::FromHex("5b8efff7").has_value());
  EXPECT_FALSE(SpanId::FromHex("zzzzzzzzzzzzzzzz").has_value());
  EXPECT_FALSE(SpanId::FromBytes("1234567").has_value());
  EXPECT_TRUE(SpanId::FromBytes("12345678").has_value());
}

TEST(IdsTest, XrayTraceIdMapsToTheSame128BitsAndBack) {
  auto id = ParseXrayTraceId("1-5759e988-bd862e3fe1be46a994272793");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ToHex(), "5759e988bd862e3fe1be46a994272793");
  EXPECT_EQ(FormatXrayTraceId(*id), "1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_FALSE(ParseXrayTraceId("2-5759e988-bd862e3fe1be46a994272793").has_value());
  EXPECT_FALSE(ParseXrayTraceId("1-5759e988bd862e3fe1be46a994272793").has_value());
  EXPECT_EQ(ParseAnyTraceId("1-5759e988-bd862e3fe1be46a994272793"),
            ParseAnyTraceId("5759e988bd862e3fe1be46a994272793"));
}

}  // namespace
}  // namespace ariadne::model
