#include "store/embedded/wal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <zlib.h>

#include "columnar/coding.h"
#include "tests/store/fault_injection_env.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {

using columnar::PutFixed32;
namespace {

std::vector<std::string> DecodeAll(std::string_view data, WalReadSummary* summary) {
  std::vector<std::string> payloads;
  Result<WalReadSummary> r = DecodeWalSegment(data, [&](WalRecordType, std::string_view p) {
    payloads.emplace_back(p);
    return Status::Ok();
  });
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (r.ok()) *summary = *r;
  return payloads;
}

std::vector<std::string> ReadAll(const std::string& path, WalReadSummary* summary) {
  Result<std::string> data = Env::Default()->ReadFile(path);
  EXPECT_TRUE(data.ok()) << data.status().ToString();
  return DecodeAll(data.ok() ? *data : "", summary);
}

std::string Segment(const std::vector<std::string>& payloads) {
  std::string data = WalSegmentHeader();
  for (const std::string& p : payloads)
    FrameWalRecord(WalRecordType::kSpanBatch, p, static_cast<uint32_t>(p.size()), &data);
  return data;
}

void WriteRecords(const std::string& dir, uint64_t segment,
                  const std::vector<std::string>& payloads) {
  auto writer = WalWriter::Create(Env::Default(), dir, segment);
  ASSERT_TRUE(writer.ok());
  std::string framed;
  for (const std::string& p : payloads) FrameWalRecord(WalRecordType::kSpanBatch, p, 1, &framed);
  ASSERT_TRUE((*writer)->Commit(framed, /*sync=*/true).ok());
}

TEST(WalTest, RecordsComeBackInOrder) {
  testing::TempDir dir;
  std::vector<std::string> payloads = {"one", std::string(100000, 'x'), "", "three"};
  WriteRecords(dir.path(), 1, payloads);
  WalReadSummary summary;
  EXPECT_EQ(ReadAll(WalSegmentPath(dir.path(), 1), &summary), payloads);
  EXPECT_EQ(summary.version, kWalSegmentVersion);
  EXPECT_EQ(summary.bytes_dropped, 0u);
  EXPECT_TRUE(summary.skipped.empty());
  EXPECT_EQ(summary.records, 4u);
}

TEST(WalTest, TornTailRecordIsDroppedAndEarlierRecordsSurvive) {
  const std::string full = Segment({"first", "second", "third-record-payload"});
  for (size_t cut = 1; cut < kWalRecordHeaderSize + 20; ++cut) {  // every cut inside the last one
    WalReadSummary summary;
    std::vector<std::string> got = DecodeAll(full.substr(0, full.size() - cut), &summary);
    ASSERT_EQ(got, (std::vector<std::string>{"first", "second"})) << "cut " << cut;
    EXPECT_GT(summary.bytes_dropped, 0u);
    EXPECT_FALSE(summary.drop_reason.empty());
    EXPECT_TRUE(summary.skipped.empty()) << "a torn tail is not corruption";
  }
}

// Regression (issue 10, item 7): one flipped byte used to drop every record after it.
TEST(WalTest, AFlippedByteAnywhereCostsOnlyTheRecordItHits) {
  std::vector<std::string> payloads;
  for (int i = 10; i < 30; ++i) payloads.push_back("record-" + std::to_string(i) + "-payload");
  const std::string good = Segment(payloads);
  const size_t record_bytes = kWalRecordHeaderSize + payloads[0].size();  // all equal length here
  for (size_t at = kWalSegmentHeaderSize; at < good.size() - record_bytes; ++at) {
    std::string bad = good;
    bad[at] ^= 0x5a;
    const size_t hit = (at - kWalSegmentHeaderSize) / record_bytes;
    WalReadSummary summary;
    std::vector<std::string> got = DecodeAll(bad, &summary);
    std::vector<std::string> want = payloads;
    want.erase(want.begin() + static_cast<long>(hit));
    ASSERT_EQ(got, want) << "flipped byte at " << at;
    ASSERT_EQ(summary.skipped.size(), 1u);
    EXPECT_EQ(summary.skipped[0].offset, kWalSegmentHeaderSize + hit * record_bytes);
    EXPECT_EQ(summary.skipped[0].bytes, record_bytes);
    EXPECT_EQ(summary.bytes_dropped, 0u);
    // The span count is known when the damage is in the payload (header intact).
    if ((at - kWalSegmentHeaderSize) % record_bytes >= kWalRecordHeaderSize)
      EXPECT_EQ(summary.skipped[0].spans, static_cast<int64_t>(payloads[hit].size()));
  }
}

TEST(WalTest, DecodingGarbageNeverFails) {
  std::string data = Segment({"a", "bb", "ccc"});
  uint32_t seed = 7;
  for (int round = 0; round < 2000; ++round) {
    std::string bad = data;
    for (int k = 0; k < 3; ++k) {
      seed = seed * 1103515245 + 12345;
      bad[seed % bad.size()] = static_cast<char>(seed >> 16);
    }
    WalReadSummary summary;
    DecodeAll(bad.substr(0, (seed >> 8) % (bad.size() + 1)), &summary);
  }
}

TEST(WalTest, Version1SegmentsAreStillRead) {
  std::string v1;
  for (std::string_view p : {"old-one", "old-two"}) {
    std::string body(1, static_cast<char>(WalRecordType::kSpanBatch));
    body.append(p);
    PutFixed32(&v1, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                                static_cast<uInt>(body.size()))));
    PutFixed32(&v1, static_cast<uint32_t>(p.size()));
    v1.append(body);
  }
  WalReadSummary summary;
  EXPECT_EQ(DecodeAll(v1, &summary), (std::vector<std::string>{"old-one", "old-two"}));
  EXPECT_EQ(summary.version, 1u);
}

// Regression (issue 10, item 2): a write that failed half way stayed in the segment and every
// later record sat behind the torn one.
TEST(WalTest, FailedCommitIsCutOffBeforeTheNextOne) {
  testing::TempDir dir;
  testing::FaultInjectionEnv env;
  auto writer = WalWriter::Create(&env, dir.path(), 1);
  ASSERT_TRUE(writer.ok());
  auto commit = [&](std::string_view payload) {
    std::string framed;
    FrameWalRecord(WalRecordType::kSpanBatch, payload, 1, &framed);
    return (*writer)->Commit(framed, /*sync=*/true);
  };
  ASSERT_TRUE(commit("before").ok());
  env.Fail(testing::FaultInjectionEnv::Op::kAppend, 1, "");
  EXPECT_FALSE(commit("torn-by-enospc").ok());
  env.Fail(testing::FaultInjectionEnv::Op::kSync, 1, "");
  EXPECT_FALSE(commit("written-but-not-synced").ok());
  EXPECT_FALSE((*writer)->broken());
  ASSERT_TRUE(commit("after").ok());
  WalReadSummary summary;
  EXPECT_EQ(ReadAll(WalSegmentPath(dir.path(), 1), &summary),
            (std::vector<std::string>{"before", "after"}));
  EXPECT_TRUE(summary.skipped.empty());
  EXPECT_EQ(summary.bytes_dropped, 0u);
  EXPECT_EQ((*writer)->rollbacks(), 2u);
}

TEST(WalTest, CommitThatCannotBeUndoneMarksTheSegmentBroken) {
  testing::TempDir dir;
  testing::FaultInjectionEnv env;
  auto writer = WalWriter::Create(&env, dir.path(), 1);
  ASSERT_TRUE(writer.ok());
  std::string framed;
  FrameWalRecord(WalRecordType::kSpanBatch, "x", 1, &framed);
  env.Fail(testing::FaultInjectionEnv::Op::kAppend, 1, "");
  env.Fail(testing::FaultInjectionEnv::Op::kTruncate, 1, "");
  EXPECT_FALSE((*writer)->Commit(framed, true).ok());
  EXPECT_TRUE((*writer)->broken());
  EXPECT_FALSE((*writer)->Commit(framed, true).ok()) << "a broken segment takes no more records";
}

TEST(WalTest, SegmentsAreListedInNumericOrder) {
  testing::TempDir dir;
  WriteRecords(dir.path(), 10, {"a"});
  WriteRecords(dir.path(), 2, {"b"});
  std::ofstream(dir.path() + "/junk.txt") << "x";
  auto segments = ListWalSegments(Env::Default(), dir.path());
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(*segments, (std::vector<uint64_t>{2, 10}));
}

}  // namespace
}  // namespace ariadne::store::embedded
