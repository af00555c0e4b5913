#include "store/embedded/quarantine.h"

#include <filesystem>

namespace ariadne::store::embedded {

Quarantine::Quarantine(Env* env, std::string data_dir)
    : env_(env), dir_(std::move(data_dir) + "/quarantine") {}

Result<std::string> Quarantine::FreePath(const std::string& name) {
  ARIADNE_RETURN_IF_ERROR(env_->CreateDir(dir_));
  std::string path = dir_ + "/" + name;
  while (env_->FileExists(path)) path = dir_ + "/" + name + "." + std::to_string(++suffix_);
  return path;
}

Result<std::string> Quarantine::MoveIn(const std::string& path) {
  ARIADNE_ASSIGN_OR_RETURN(std::string target,
                           FreePath(std::filesystem::path(path).filename().string()));
  ARIADNE_RETURN_IF_ERROR(env_->RenameFile(path, target));
  (void)env_->SyncDir(dir_);
  (void)env_->SyncDir(std::filesystem::path(path).parent_path().string());
  return target;
}

Result<std::string> Quarantine::Keep(const std::string& name, std::string_view data) {
  ARIADNE_ASSIGN_OR_RETURN(std::string target, FreePath(name));
  ARIADNE_RETURN_IF_ERROR(WriteFileAtomically(env_, target, data));
  return target;
}

}  // namespace ariadne::store::embedded
