// Durable whole-file replacement: write to `path`.tmp, fsync it, rename it over `path`, fsync the
// directory. After OK the new contents survive a crash; after an error the old file is untouched.
// Used for small state files (checkpoint records, block files, keys, X-Ray config); they are
// owner-only (0600) unless a caller asks otherwise.
//
// Threads: reentrant; callers serialize writes to the same path.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace ariadne {

Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode = 0600);

}  // namespace ariadne
