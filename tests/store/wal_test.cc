#include "store/embedded/wal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

std::vector<std::string> ReadAll(const std::string& path, WalReadSummary* summary) {
  std::vector<std::string> payloads;
  Result<WalReadSummary> r = ReadWalSegment(path, [&](WalRecordType, std::string_view p) {
    payloads.emplace_back(p);
    return Status::Ok();
  });
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (r.ok()) *summary = *r;
  return payloads;
}

void WriteRecords(const std::string& dir, uint64_t segment,
                  const std::vector<std::string>& payloads) {
  auto writer = WalWriter::Create(dir, segment);
  ASSERT_TRUE(writer.ok());
  std::string framed;
  for (const std::string& p : payloads) FrameWalRecord(WalRecordType::kSpanBatch, p, &framed);
  ASSERT_TRUE((*writer)->Append(framed).ok());
  ASSERT_TRUE((*writer)->Sync().ok());
}

TEST(WalTest, RecordsComeBackInOrder) {
  testing::TempDir dir;
  std::vector<std::string> payloads = {"one", std::string(100000, 'x'), "", "three"};
  WriteRecords(dir.path(), 1, payloads);
  WalReadSummary summary;
  EXPECT_EQ(ReadAll(WalSegmentPath(dir.path(), 1), &summary), payloads);
  EXPECT_EQ(summary.bytes_dropped, 0u);
  EXPECT_EQ(summary.records, 4u);
}

TEST(WalTest, TornTailRecordIsDroppedAndEarlierRecordsSurvive) {
  testing::TempDir dir;
  WriteRecords(dir.path(), 1, {"first", "second", "third-record-payload"});
  std::string path = WalSegmentPath(dir.path(), 1);
  const auto full = std::filesystem::file_size(path);
  for (uint64_t cut = 1; cut < 9 + 20; ++cut) {  // every cut inside the last record
    std::filesystem::resize_file(path, full - cut);
    WalReadSummary summary;
    std::vector<std::string> got = ReadAll(path, &summary);
    ASSERT_EQ(got, (std::vector<std::string>{"first", "second"})) << "cut " << cut;
    EXPECT_GT(summary.bytes_dropped, 0u);
    EXPECT_FALSE(summary.drop_reason.empty());
    WriteRecords(dir.path(), 1, {"first", "second", "third-record-payload"});
  }
}

TEST(WalTest, ChecksumMismatchStopsReadingAtTheBadRecord) {
  testing::TempDir dir;
  WriteRecords(dir.path(), 3, {"aaaa", "bbbb", "cccc"});
  std::string path = WalSegmentPath(dir.path(), 3);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(9 + 4 + 9 + 1);  // a payload byte of the second record
    f.put('X');
  }
  WalReadSummary summary;
  EXPECT_EQ(ReadAll(path, &summary), (std::vector<std::string>{"aaaa"}));
  EXPECT_EQ(summary.drop_reason, "checksum mismatch");
}

TEST(WalTest, SegmentsAreListedInNumericOrder) {
  testing::TempDir dir;
  WriteRecords(dir.path(), 10, {"a"});
  WriteRecords(dir.path(), 2, {"b"});
  std::ofstream(dir.path() + "/junk.txt") << "x";
  auto segments = ListWalSegments(dir.path());
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(*segments, (std::vector<uint64_t>{2, 10}));
}

}  // namespace
}  // namespace ariadne::store::embedded
