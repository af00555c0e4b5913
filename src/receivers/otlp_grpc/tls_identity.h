// The certificate and key of the OTLP/gRPC listener as gRPC's file watcher reads them: one PEM
// file holding the certificate chain followed by the private key, so a single rename replaces both
// at once and the watcher can never pair a new certificate with an old key.
//
// Threads: plain functions; callers serialize writes to the same path.
#pragma once

#include <string>

#include "common/status.h"

namespace ariadne::receivers::otlp_grpc {

// Reads `cert_file` (PEM chain, leaf first) and `key_file` (PEM private key) and checks that the
// key belongs to the leaf certificate. The combined PEM text, or kInvalidArgument saying which
// file is wrong.
Result<std::string> LoadIdentityPem(const std::string& cert_file, const std::string& key_file);

// Writes `contents` to `path` through a temporary file in the same directory and a rename, mode
// 0600, so readers see the old file or the new one, never a mix.
Status WriteFileAtomically(const std::string& path, const std::string& contents);

}  // namespace ariadne::receivers::otlp_grpc
