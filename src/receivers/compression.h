// Request-body decompression with a hard cap on the decompressed size, so that a small gzip bomb
// cannot exhaust memory: decoding stops as soon as the output would pass `max_output_bytes`.
//
// Encodings: "" / "identity" (returned as is), "gzip", "deflate" (zlib stream, raw deflate also
// accepted), "zstd" (and Honeycomb's "zst" spelling). Case-insensitive.
// Errors: kResourceExhausted when the cap is hit (answer 413), kInvalidArgument for a corrupt
// stream (400), kUnimplemented for an unknown encoding (415).
//
// Threads: reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ariadne::receivers {

Result<std::string> Decompress(std::string_view encoding, std::string_view body,
                               size_t max_output_bytes);

// gzip-compresses `data` (used by tests and by clients we ship).
std::string GzipCompress(std::string_view data);

}  // namespace ariadne::receivers
