// Env: every file operation of the embedded store goes through this small interface (in the
// manner of LevelDB's Env), so tests can inject faults — a write that fails half way with
// ENOSPC, a failed fsync, a failed truncate — and check that nothing acknowledged is lost.
//
// Env::Default() is the POSIX implementation. Errors come back as Status (kIoError with the path
// and strerror text; `Status::message()` names the operation). The store never touches files
// except through an Env, so a test Env sees every write, sync, rename and removal.
//
// Threads: every Env is safe for concurrent use. A WritableFile is used by one thread at a time.
// Ownership: Env::Default() lives for the whole process; files are owned by their unique_ptr.
//
// Why src/common: both the embedded store (WAL, manifest, quarantine) and the columnar block codec
// (src/columnar: ReadBlockMeta/ReadBlockColumns) read files through it, and columnar must not
// depend on store; common is below both, and the interface knows nothing about either.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ariadne {

// A file open for appending. Append may have written part of `data` when it fails (like write(2)
// on a full disk); the caller truncates back to the last good offset (see WalWriter).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Makes the data appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  // Cuts the file to `size` bytes; later appends go after it.
  virtual Status Truncate(uint64_t size) = 0;
  // Closes without syncing. Further calls fail.
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX Env. Never null, never deleted.
  static Env* Default();

  // Creates `path` (truncating an existing file) for writing.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending after its current end (creating it when absent).
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;

  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Up to `length` bytes at `offset` (fewer at the end of the file).
  virtual Result<std::string> ReadFileRange(const std::string& path, uint64_t offset,
                                            size_t length) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;

  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, unsorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Creates `dir` and its parents; OK when it exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  // fsyncs a directory so that creations, renames and removals in it are durable.
  virtual Status SyncDir(const std::string& dir) = 0;
};

// Durable whole-file replacement through `env`: write `path`.tmp, sync, rename over `path`, sync
// the directory. After OK the new contents survive a crash; after an error `path` is untouched and
// the .tmp file is removed when possible.
Status WriteFileAtomically(Env* env, const std::string& path, std::string_view contents);

}  // namespace ariadne
