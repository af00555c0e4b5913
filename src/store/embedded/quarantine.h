// Quarantine: where the embedded store puts damaged files instead of failing or deleting them.
//
// A block file that fails its checksums is moved to <data-dir>/quarantine/ (and taken out of the
// block set) so every other block stays queryable; a WAL segment in which replay stepped over
// damaged records is copied there before the normal seal retires it. Nothing in quarantine/ is
// read again; an operator may inspect or delete it.
//
// Threads: safe for concurrent use (each call is independent; names are made unique).
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "common/env.h"
#include "common/status.h"

namespace ariadne::store::embedded {

class Quarantine {
 public:
  // `env` must outlive this object.
  Quarantine(Env* env, std::string data_dir);

  std::string dir() const { return dir_; }

  // Moves `path` into quarantine/ under its own file name (with a ".N" suffix when the name is
  // taken). Returns the new path.
  Result<std::string> MoveIn(const std::string& path);
  // Writes `data` into quarantine/ as `name` (suffixed likewise). Returns the new path.
  Result<std::string> Keep(const std::string& name, std::string_view data);

 private:
  Result<std::string> FreePath(const std::string& name);

  Env* env_;
  std::string dir_;
  std::atomic<uint64_t> suffix_{0};
};

}  // namespace ariadne::store::embedded
