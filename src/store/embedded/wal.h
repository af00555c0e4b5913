// Write-ahead log: the embedded store's durability mechanism.
//
// The log is a directory of numbered segment files (wal/00000001.log, ...). A version-2 segment
// starts with an 8-byte header ("ARWL" + u32 version) and holds records framed as
//   magic (u32) | length (u32) | spans (u32) | type (u8) | header crc (u32) | payload crc (u32)
//   | payload
// (docs/formats/wal.md). The magic and the header CRC let a reader find the next record after a
// damaged one, so one flipped byte costs one record, not the rest of the segment. Version-1
// segments (no header, older releases) are still read.
//
// The writer appends framed records and syncs with fdatasync; the store batches many records into
// one Commit (group commit). A Commit that fails (ENOSPC half way through, a failed fsync) is
// truncated back to the end of the last good commit before anything else is written, so no torn
// record sits in front of later acknowledged ones.
//
// Threads: a WalWriter is used by one thread (the store's commit thread). Reading is done at open,
// before any writer exists. DecodeWalSegment is a pure function (fuzzing entry point).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/status.h"

namespace ariadne::store::embedded {

enum class WalRecordType : uint8_t {
  kSpanBatch = 1,  // payload: environment (varint-length string) + EncodeSpanBatch bytes
};

constexpr size_t kWalSegmentHeaderSize = 8;
constexpr uint32_t kWalSegmentVersion = 2;
constexpr size_t kWalRecordHeaderSize = 21;  // version 2
constexpr size_t kWalV1RecordHeaderSize = 9;
constexpr uint32_t kWalMaxRecordBytes = 1u << 30;

// The 8 bytes every version-2 segment starts with.
std::string WalSegmentHeader();

// Appends one framed record holding `spans` spans to `out`.
void FrameWalRecord(WalRecordType type, std::string_view payload, uint32_t spans, std::string* out);

std::string WalSegmentPath(const std::string& wal_dir, uint64_t segment);
// Segment numbers present in `wal_dir`, ascending.
Result<std::vector<uint64_t>> ListWalSegments(Env* env, const std::string& wal_dir);

class WalWriter {
 public:
  // Creates segment `segment` in `wal_dir` (which must exist), writes and syncs its header, and
  // syncs the directory. `env` must outlive the writer.
  static Result<std::unique_ptr<WalWriter>> Create(Env* env, const std::string& wal_dir,
                                                   uint64_t segment);
  ~WalWriter();

  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Appends already-framed records and, when `sync`, makes them durable. On OK the records are
  // committed. On error nothing of `framed` counts: the file is truncated back to the end of the
  // last commit (and synced); if that fails too, broken() turns true and the caller must move to
  // a new segment before committing anything else (Commit refuses until then).
  Status Commit(std::string_view framed, bool sync);
  // True after a failed Commit could not be undone: the segment may end in a torn record.
  bool broken() const { return broken_; }
  Status Close();

  uint64_t segment() const { return segment_; }
  // Bytes of the segment up to the end of the last successful Commit (header included).
  uint64_t committed_bytes() const { return committed_; }
  // Commits undone by truncation, for tests and logs.
  uint64_t rollbacks() const { return rollbacks_; }

 private:
  WalWriter(std::unique_ptr<WritableFile> file, std::string path, uint64_t segment)
      : file_(std::move(file)), path_(std::move(path)), segment_(segment) {}
  std::unique_ptr<WritableFile> file_;
  std::string path_;
  uint64_t segment_;
  uint64_t committed_ = 0;
  uint64_t rollbacks_ = 0;
  bool broken_ = false;
};

// A damaged stretch of a segment that the reader stepped over to reach the next intact record.
struct WalSkip {
  uint64_t offset = 0;  // where the damaged bytes start
  uint64_t bytes = 0;
  int64_t spans = -1;  // spans of the damaged record when its header was intact, else -1
  std::string reason;
};

struct WalReadSummary {
  uint32_t version = 0;  // 1 or 2
  uint64_t records = 0;
  uint64_t bytes_read = 0;  // bytes of intact records (and the segment header)
  // Damaged records with intact records after them: skipped, and reading went on.
  std::vector<WalSkip> skipped;
  // Bytes after the last intact record (a torn write from a crash: never acknowledged).
  uint64_t bytes_dropped = 0;
  std::string drop_reason;  // why the tail was dropped, empty when it was not
};

// Calls `on_record` for every intact record of one segment's bytes, in order, stepping over
// damaged records (see WalReadSummary). A failing callback stops the read and its Status is
// returned. Never fails on any input otherwise.
Result<WalReadSummary> DecodeWalSegment(
    std::string_view data,
    const std::function<Status(WalRecordType, std::string_view payload)>& on_record);

// Reads segment file `path` through `env` and decodes it with DecodeWalSegment.
Result<WalReadSummary> ReadWalSegment(
    Env* env, const std::string& path,
    const std::function<Status(WalRecordType, std::string_view payload)>& on_record);

}  // namespace ariadne::store::embedded
