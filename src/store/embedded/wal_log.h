// WalLog: the store's write-ahead log as a whole — the segment being written, group commits that
// leave nothing behind when they fail, and segment rotation (for seals, and after a failed write
// that could not be truncated away).
//
// Commit contract: OK means the group is in the log (and synced when asked). On failure nothing of
// the group stays in front of later records (WalWriter::Commit truncates it; when it cannot, the
// next Commit first moves to a new segment and refuses the group while it cannot), and the error is
// kUnavailable so clients retry later (OTLP/HTTP: 503 + Retry-After). Ingest resumes by itself with
// the first group that writes. Entering and leaving that state is logged once each.
//
// Threads: used by one thread at a time (the store's commit thread; Open and Close before and
// after it). write_failures() may be read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/env.h"
#include "common/status.h"
#include "store/embedded/wal.h"

namespace ariadne::store::embedded {

class WalLog {
 public:
  // `env` must outlive this object.
  WalLog(Env* env, std::string wal_dir) : env_(env), wal_dir_(std::move(wal_dir)) {}

  // Starts writing at segment `segment`. REQUIRES: before any Commit.
  Status Start(uint64_t segment);
  Status Commit(std::string_view framed, bool sync);
  // Closes the current segment and starts the next one; `*closed_segment` is the closed one's
  // number. On error no new segment was started (unless closing the old one failed, which is
  // reported after the switch).
  Status Rotate(uint64_t* closed_segment);
  Status Close();

  uint64_t segment() const { return writer_ ? writer_->segment() : 0; }
  uint64_t write_failures() const { return write_failures_; }

 private:
  Env* env_;
  std::string wal_dir_;
  std::unique_ptr<WalWriter> writer_;
  bool failing_ = false;  // the last group could not be written
  std::atomic<uint64_t> write_failures_{0};
};

}  // namespace ariadne::store::embedded
