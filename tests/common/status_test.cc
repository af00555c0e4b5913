#include "common/status.h"

#include <gtest/gtest.h>

namespace ariadne {
namespace {

Result<int> ParsePositive(int x) {
  if (x <= 0) return Status::InvalidArgument("must be positive");
  return x;
}

Result<int> Doubled(int x) {
  ARIADNE_ASSIGN_OR_RETURN(int v, ParsePositive(x));
  return v * 2;
}

Status CheckBoth(int a, int b) {
  ARIADNE_RETURN_IF_ERROR(ParsePositive(a).status());
  ARIADNE_RETURN_IF_ERROR(ParsePositive(b).status());
  return Status::Ok();
}

TEST(StatusTest, DefaultIsOkAndCarriesNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorKeepsCodeAndMessageThroughCopies) {
  Status s = Status::NotFound("trace 42 not found");
  Status copy = s;
  EXPECT_FALSE(copy.ok());
  EXPECT_TRUE(copy.IsNotFound());
  EXPECT_EQ(copy.ToString(), "NOT_FOUND: trace 42 not found");
  EXPECT_EQ(s.WithContext("reading block 7").message(), "reading block 7: trace 42 not found");
}

TEST(ResultTest, AssignOrReturnPropagatesTheError) {
  EXPECT_EQ(*Doubled(21), 42);
  Result<int> bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_EQ(bad.status().message(), "must be positive");
}

TEST(ResultTest, ReturnIfErrorStopsAtTheFirstFailure) {
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  EXPECT_TRUE(CheckBoth(1, -2).IsInvalidArgument());
}

}  // namespace
}  // namespace ariadne
