// Write-ahead log: the embedded store's durability mechanism.
//
// The log is a directory of numbered segment files (wal/00000001.log, ...). A record is
//   crc32 (u32, over type and payload) | length (u32, payload bytes) | type (u8) | payload
// (docs/formats/wal.md). The writer appends framed records and syncs with fdatasync; the store
// batches many appends into one Write + Sync (group commit). A crash can leave a torn last record;
// the reader stops at the first record whose length or CRC does not check out and reports how many
// bytes it dropped, so earlier records survive.
//
// Threads: a WalWriter is used by one thread (the store's commit thread). Reading is done at open,
// before any writer exists.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ariadne::store::embedded {

enum class WalRecordType : uint8_t {
  kSpanBatch = 1,  // payload: environment (varint-length string) + EncodeSpanBatch bytes
};

constexpr size_t kWalHeaderSize = 9;
constexpr uint32_t kWalMaxRecordBytes = 1u << 30;

// Appends one framed record to `out`.
void FrameWalRecord(WalRecordType type, std::string_view payload, std::string* out);

std::string WalSegmentPath(const std::string& wal_dir, uint64_t segment);
// Segment numbers present in `wal_dir`, ascending.
Result<std::vector<uint64_t>> ListWalSegments(const std::string& wal_dir);

class WalWriter {
 public:
  // Creates segment `segment` in `wal_dir` (which must exist) and syncs the directory.
  static Result<std::unique_ptr<WalWriter>> Create(const std::string& wal_dir, uint64_t segment);
  ~WalWriter();

  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Writes already-framed records. Not durable until Sync().
  Status Append(std::string_view framed);
  Status Sync();
  Status Close();

  uint64_t segment() const { return segment_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  WalWriter(int fd, uint64_t segment) : fd_(fd), segment_(segment) {}
  int fd_;
  uint64_t segment_;
  uint64_t bytes_written_ = 0;
};

struct WalReadSummary {
  uint64_t records = 0;
  uint64_t bytes_read = 0;     // bytes of intact records
  uint64_t bytes_dropped = 0;  // bytes after the first bad record (torn tail)
  std::string drop_reason;     // why reading stopped early, empty when it did not
};

// Calls `on_record` for every intact record of one segment, in order. Stops (without error) at a
// torn or corrupt record; a failing callback stops the read and its Status is returned.
Result<WalReadSummary> ReadWalSegment(
    const std::string& path,
    const std::function<Status(WalRecordType, std::string_view payload)>& on_record);

// fsyncs a directory so that file creations and renames in it are durable.
Status SyncDirectory(const std::string& dir);

}  // namespace ariadne::store::embedded
