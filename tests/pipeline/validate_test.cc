#include "pipeline/validate.h"

#include <gtest/gtest.h>

#include "test_batches.h"

namespace ariadne::pipeline {
namespace {

using testing::AddSpan;
using testing::kNow;
using testing::NewBatch;

size_t Reason(const ValidationReport& report, RejectReason reason) {
  return report.rejected_by_reason[static_cast<size_t>(reason)];
}

TEST(ValidateBatchTest, ValidSpansPassUntouched) {
  auto batch = NewBatch();
  AddSpan(batch, 1, kNow - 1000, kNow);
  AddSpan(batch, 2, kNow - 1000, kNow - 1000);  // zero duration is fine
  ValidationReport report = ValidateBatch(batch, {}, kNow);
  EXPECT_EQ(report.rejected, 0u);
  EXPECT_EQ(report.clamped, 0u);
  EXPECT_TRUE(report.message.empty());
  ASSERT_EQ(batch.spans.size(), 2u);
}

TEST(ValidateBatchTest, EndBeforeStartIsRejectedAndNeighboursKeptInOrder) {
  auto batch = NewBatch();
  AddSpan(batch, 1, kNow - 1000, kNow);
  AddSpan(batch, 2, kNow, kNow - 1);
  AddSpan(batch, 3, kNow - 500, kNow);
  ValidationReport report = ValidateBatch(batch, {}, kNow);
  EXPECT_EQ(report.rejected, 1u);
  EXPECT_EQ(Reason(report, RejectReason::kEndBeforeStart), 1u);
  ASSERT_EQ(batch.spans.size(), 2u);
  EXPECT_EQ(batch.spans[0].span_id, testing::SpanIdOf(1));
  EXPECT_EQ(batch.spans[1].span_id, testing::SpanIdOf(3));
  EXPECT_EQ(batch.spans[1].name, "span-3");
  EXPECT_NE(report.message.find("1 span rejected: end time before start time"), std::string::npos)
      << report.message;
  EXPECT_NE(report.message.find(testing::SpanIdOf(2).ToHex()), std::string::npos);
}

TEST(ValidateBatchTest, ZeroTimestampsAreRejected) {
  auto batch = NewBatch();
  AddSpan(batch, 1, 0, kNow);
  AddSpan(batch, 2, kNow, 0);
  ValidationReport report = ValidateBatch(batch, {}, kNow);
  EXPECT_EQ(Reason(report, RejectReason::kMissingTimestamp), 2u);
  EXPECT_TRUE(batch.spans.empty());
  EXPECT_NE(report.message.find("2 spans rejected"), std::string::npos);
}

TEST(ValidateBatchTest, SecondsSentAsNanosecondsAreOutOfRange) {
  auto batch = NewBatch();
  AddSpan(batch, 1, 1'764'000'000, 1'764'000'001);  // seconds, not nanoseconds
  ValidationReport report = ValidateBatch(batch, {}, kNow);
  EXPECT_EQ(Reason(report, RejectReason::kTimestampOutOfRange), 1u);
  EXPECT_NE(report.message.find("Unix nanoseconds"), std::string::npos);
}

TEST(ValidateBatchTest, FarFutureIsRejectedButSmallClockSkewIsNot) {
  auto batch = NewBatch();
  const uint64_t hour = 3600ull * 1'000'000'000;
  AddSpan(batch, 1, kNow + 2 * hour, kNow + 2 * hour + 10);
  AddSpan(batch, 2, kNow + 25 * hour, kNow + 25 * hour + 10);
  ValidationReport report = ValidateBatch(batch, {}, kNow);
  EXPECT_EQ(Reason(report, RejectReason::kTimestampOutOfRange), 1u);
  ASSERT_EQ(batch.spans.size(), 1u);
  EXPECT_EQ(batch.spans[0].span_id, testing::SpanIdOf(1));
}

TEST(ValidateBatchTest, AllZeroIdsAreRejected) {
  auto batch = NewBatch();
  AddSpan(batch, 1, kNow - 10, kNow).trace_id = model::TraceId{};
  AddSpan(batch, 2, kNow - 10, kNow).span_id = model::SpanId{};
  AddSpan(batch, 3, kNow - 10, kNow);
  ValidationReport report = ValidateBatch(batch, {}, kNow);
  EXPECT_EQ(Reason(report, RejectReason::kInvalidId), 2u);
  EXPECT_EQ(batch.spans.size(), 1u);
  EXPECT_NE(report.message.find("; "), std::string::npos);
}

TEST(ValidateBatchTest, MessageListsAtMostThreeExamples) {
  auto batch = NewBatch();
  for (uint8_t i = 1; i <= 6; ++i) AddSpan(batch, i, kNow, kNow - 1);
  ValidationReport report = ValidateBatch(batch, {}, kNow);
  EXPECT_EQ(report.rejected, 6u);
  EXPECT_NE(report.message.find("6 spans rejected"), std::string::npos);
  EXPECT_NE(report.message.find("..."), std::string::npos);
  EXPECT_EQ(report.message.find(testing::SpanIdOf(4).ToHex()), std::string::npos);
}

TEST(ValidateBatchTest, OversizedStringsAreCutAtAUtf8Boundary) {
  auto batch = NewBatch();
  ValidationOptions options;
  options.max_string_bytes = 5;
  model::Span& span = AddSpan(batch, 1, kNow - 10, kNow);
  span.name = batch.arena.Copy("abcd\xC3\xA9xyz");  // "abcdé…": é is 2 bytes at offset 4
  span.attributes = {static_cast<uint32_t>(batch.attributes.size()), 1};
  batch.attributes.push_back(
      {batch.arena.Copy("k"), model::Value::String(batch.arena.Copy("0123456789"))});
  ValidationReport report = ValidateBatch(batch, options, kNow);
  EXPECT_EQ(report.rejected, 0u);
  EXPECT_EQ(batch.spans[0].name, "abcd");  // not "abcd\xC3"
  EXPECT_EQ(batch.attributes.back().value.str, "01234");
  EXPECT_EQ(report.clamped, 2u);
}

TEST(ValidateBatchTest, AttributesEventsAndLinksBeyondLimitsBecomeDroppedCounts) {
  auto batch = NewBatch();
  ValidationOptions options;
  options.max_attributes_per_span = 2;
  options.max_events_per_span = 1;
  options.max_links_per_span = 0;
  model::Span& span = AddSpan(batch, 1, kNow - 10, kNow);
  span.attributes = {static_cast<uint32_t>(batch.attributes.size()), 5};
  for (int i = 0; i < 5; ++i) {
    batch.attributes.push_back({batch.arena.Copy("k" + std::to_string(i)), model::Value::Int(i)});
  }
  span.dropped_attributes_count = 1;
  batch.events.resize(3);
  span.events = {0, 3};
  batch.links.resize(2);
  span.links = {0, 2};
  ValidationReport report = ValidateBatch(batch, options, kNow);
  const model::Span& out = batch.spans[0];
  EXPECT_EQ(out.attributes.count, 2u);
  EXPECT_EQ(out.dropped_attributes_count, 4u);
  EXPECT_EQ(out.events.count, 1u);
  EXPECT_EQ(out.dropped_events_count, 2u);
  EXPECT_EQ(out.links.count, 0u);
  EXPECT_EQ(out.dropped_links_count, 2u);
  EXPECT_EQ(report.clamped, 3u);
}

TEST(ValidateBatchTest, UnknownKindAndStatusAreClamped) {
  auto batch = NewBatch();
  model::Span& span = AddSpan(batch, 1, kNow - 10, kNow);
  span.kind = static_cast<model::SpanKind>(9);
  span.status_code = static_cast<model::StatusCode>(7);
  ValidationReport report = ValidateBatch(batch, {}, kNow);
  EXPECT_EQ(batch.spans[0].kind, model::SpanKind::kUnspecified);
  EXPECT_EQ(batch.spans[0].status_code, model::StatusCode::kUnset);
  EXPECT_EQ(report.clamped, 2u);
}

}  // namespace
}  // namespace ariadne::pipeline
