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
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ariadne::receivers {

Result<std::string> Decompress(std::string_view encoding, std::string_view body,
                               size_t max_output_bytes);

// A request body with its Content-Encoding undone, or the HTTP answer for why it cannot be:
// 413 (over `max_bytes` decoded, or sent that large), 415 (unknown encoding), 400 (corrupt).
struct RequestBody {
  std::shared_ptr<const std::string> bytes;  // null when error_status is set
  int error_status = 0;
  std::string error;
};

// Every HTTP receiver's first step. An identity body is returned without a copy.
RequestBody DecodeRequestBody(std::optional<std::string_view> content_encoding,
                              std::shared_ptr<const std::string> body, size_t max_bytes);

// gzip-compresses `data` (used by tests and by clients we ship).
std::string GzipCompress(std::string_view data);

}  // namespace ariadne::receivers
