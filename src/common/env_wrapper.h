// EnvWrapper: an Env that forwards every call to another Env (by default Env::Default()), so an
// Env that changes one or two operations — a test's counting, gating or fault-injecting Env —
// overrides just those instead of forwarding all the others by hand.
//
// Threads and ownership: as the target Env; the target must outlive the wrapper.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/env.h"

namespace ariadne {

class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target = Env::Default()) : target_(target) {}

  Env* target() const { return target_; }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return target_->NewWritableFile(path);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return target_->NewAppendableFile(path);
  }
  Result<std::string> ReadFile(const std::string& path) override { return target_->ReadFile(path); }
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset,
                                    size_t length) override {
    return target_->ReadFileRange(path, offset, length);
  }
  Result<uint64_t> FileSize(const std::string& path) override { return target_->FileSize(path); }
  bool FileExists(const std::string& path) override { return target_->FileExists(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return target_->RenameFile(from, to);
  }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return target_->ListDir(dir);
  }
  Status CreateDir(const std::string& dir) override { return target_->CreateDir(dir); }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }

 private:
  Env* target_;
};

}  // namespace ariadne
