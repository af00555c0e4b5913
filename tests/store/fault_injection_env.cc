#include "tests/store/fault_injection_env.h"

namespace ariadne::testing {
namespace {

using ariadne::WritableFile;

class FaultyFile final : public WritableFile {
 public:
  FaultyFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    if (env_->CountOp()) {
      (void)base_->Append(data.substr(0, data.size() / 2));
      return Status::IoError("cannot write " + path_ + ": injected fault");
    }
    if (env_->ShouldFail(FaultInjectionEnv::Op::kAppend, path_)) {
      (void)base_->Append(data.substr(0, data.size() / 2));  // a torn write, as on a full disk
      return Status::IoError("cannot write " + path_ + ": No space left on device (injected)");
    }
    return base_->Append(data);
  }
  Status Sync() override {
    if (env_->CountOp()) return Status::IoError("cannot fdatasync " + path_ + ": injected fault");
    if (env_->ShouldFail(FaultInjectionEnv::Op::kSync, path_))
      return Status::IoError("cannot fdatasync " + path_ + ": Input/output error (injected)");
    return base_->Sync();
  }
  Status Truncate(uint64_t size) override {
    if (env_->CountOp()) return Status::IoError("cannot truncate " + path_ + ": injected fault");
    if (env_->ShouldFail(FaultInjectionEnv::Op::kTruncate, path_))
      return Status::IoError("cannot truncate " + path_ + ": Input/output error (injected)");
    return base_->Truncate(size);
  }
  Status Close() override { return base_->Close(); }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

void FaultInjectionEnv::Fail(Op op, int count, std::string path_part) {
  MutexLock lock(&mu_);
  faults_[static_cast<int>(op)] = Fault{count, std::move(path_part)};
}

int FaultInjectionEnv::armed() const {
  MutexLock lock(&mu_);
  int n = 0;
  for (const Fault& f : faults_) n += f.count;
  return n;
}

int FaultInjectionEnv::injected() const {
  MutexLock lock(&mu_);
  return injected_;
}

void FaultInjectionEnv::FailAt(int n) {
  MutexLock lock(&mu_);
  ops_ = 0;
  fail_at_ = n;
  crash_ = false;
  fired_ = false;
}

void FaultInjectionEnv::CrashAt(int n) {
  MutexLock lock(&mu_);
  ops_ = 0;
  fail_at_ = n;
  crash_ = true;
  fired_ = false;
}

int FaultInjectionEnv::ops() const {
  MutexLock lock(&mu_);
  return ops_;
}

bool FaultInjectionEnv::fired() const {
  MutexLock lock(&mu_);
  return fired_;
}

void FaultInjectionEnv::FailListDir(int count) {
  MutexLock lock(&mu_);
  list_failures_ = count;
}

bool FaultInjectionEnv::CountOp() {
  MutexLock lock(&mu_);
  ++ops_;
  if (fail_at_ <= 0) return false;
  if (ops_ == fail_at_ || (crash_ && ops_ > fail_at_)) {
    fired_ = true;
    return true;
  }
  return false;
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  if (CountOp()) return Status::IoError("cannot rename " + from + ": injected fault");
  return base_->RenameFile(from, to);
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  if (CountOp()) return Status::IoError("cannot remove " + path + ": injected fault");
  return base_->RemoveFile(path);
}

Result<std::vector<std::string>> FaultInjectionEnv::ListDir(const std::string& dir) {
  {
    MutexLock lock(&mu_);
    if (list_failures_ > 0) {
      --list_failures_;
      ++injected_;
      return Status::IoError("cannot list directory " + dir + ": Input/output error (injected)");
    }
  }
  return base_->ListDir(dir);
}

Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  if (CountOp()) return Status::IoError("cannot create directory " + dir + ": injected fault");
  return base_->CreateDir(dir);
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  if (CountOp()) return Status::IoError("cannot fsync directory " + dir + ": injected fault");
  return base_->SyncDir(dir);
}

bool FaultInjectionEnv::ShouldFail(Op op, const std::string& path) {
  MutexLock lock(&mu_);
  Fault& f = faults_[static_cast<int>(op)];
  if (f.count <= 0 || path.find(f.path_part) == std::string::npos) return false;
  --f.count;
  ++injected_;
  return true;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  if (CountOp()) return Status::IoError("cannot create " + path + ": injected fault");
  if (ShouldFail(Op::kCreate, path))
    return Status::IoError("cannot create " + path + ": No space left on device (injected)");
  ARIADNE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, base_->NewWritableFile(path));
  return std::unique_ptr<WritableFile>(new FaultyFile(this, path, std::move(file)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  if (CountOp()) return Status::IoError("cannot open " + path + ": injected fault");
  if (ShouldFail(Op::kCreate, path))
    return Status::IoError("cannot create " + path + ": No space left on device (injected)");
  ARIADNE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, base_->NewAppendableFile(path));
  return std::unique_ptr<WritableFile>(new FaultyFile(this, path, std::move(file)));
}

}  // namespace ariadne::testing
