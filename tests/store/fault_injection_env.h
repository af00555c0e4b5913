// FaultInjectionEnv: an Env for store tests that passes everything to a real Env (POSIX by
// default) except the faults a test arms: the next N appends to matching files write half their
// bytes and fail with ENOSPC (as a full disk does), the next N syncs, truncates or file creations
// fail. A fault matches files whose path contains the given fragment ("/wal/" by default), so a
// test can break the WAL while block files still write.
//
// For property tests it also numbers every operation that changes the disk (create, append, sync,
// truncate, rename, remove, directory sync, directory creation) from the moment a test calls
// FailAt or CrashAt: FailAt(n) fails operation n alone; CrashAt(n) fails operation n and every
// one after it, as if the process had died there (the files keep what was written before).
// Directory listings can be made to fail too (FailListDir).
//
// Threads: safe for concurrent use (the store's commit and seal threads both write).
#pragma once

#include <string>

#include "common/env.h"
#include "common/thread_annotations.h"

namespace ariadne::testing {

class FaultInjectionEnv final : public ariadne::Env {
 public:
  enum class Op { kAppend, kSync, kTruncate, kCreate };

  explicit FaultInjectionEnv(ariadne::Env* base = ariadne::Env::Default()) : base_(base) {}

  // Fails the next `count` operations `op` on files whose path contains `path_part`.
  void Fail(Op op, int count, std::string path_part = "/wal/");
  // Faults armed but not yet triggered (all operations).
  int armed() const;
  // Faults triggered so far.
  int injected() const;

  // Called by the files this Env hands out: true when this operation must fail.
  bool ShouldFail(Op op, const std::string& path);

  // Numbered faults (see the top of this file). Numbering starts at 1 with the next operation.
  void FailAt(int n);
  void CrashAt(int n);
  // Operations counted since the last FailAt/CrashAt.
  int ops() const;
  // True once a numbered fault has fired.
  bool fired() const;
  // The next `count` ListDir calls fail.
  void FailListDir(int count);
  // Counts one disk-changing operation; true when it must fail.
  bool CountOp();

  Result<std::unique_ptr<ariadne::WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<ariadne::WritableFile>> NewAppendableFile(
      const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path) override { return base_->ReadFile(path); }
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset,
                                    size_t length) override {
    return base_->ReadFileRange(path, offset, length);
  }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Status CreateDir(const std::string& dir) override;
  Status SyncDir(const std::string& dir) override;

 private:
  struct Fault {
    int count = 0;
    std::string path_part;
  };
  ariadne::Env* base_;
  mutable Mutex mu_;
  Fault faults_[4] ARIADNE_GUARDED_BY(mu_);
  int injected_ ARIADNE_GUARDED_BY(mu_) = 0;
  int ops_ ARIADNE_GUARDED_BY(mu_) = 0;
  int fail_at_ ARIADNE_GUARDED_BY(mu_) = 0;  // 0: none
  bool crash_ ARIADNE_GUARDED_BY(mu_) = false;
  bool fired_ ARIADNE_GUARDED_BY(mu_) = false;
  int list_failures_ ARIADNE_GUARDED_BY(mu_) = 0;
};

}  // namespace ariadne::testing
