// Decompress(): zlib (gzip, zlib-wrapped deflate, raw deflate) and zstd, streaming into a buffer
// that never grows past the caller's cap. When the output buffer is full, one more step decodes
// into a small stack buffer: any byte there means the body is over the cap.

#include "receivers/compression.h"

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cctype>

namespace ariadne::receivers {
namespace {

constexpr size_t kInitialOutput = 64 * 1024;

std::string Lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Trim surrounding whitespace (header values may carry it).
  size_t b = out.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = out.find_last_not_of(" \t");
  return out.substr(b, e - b + 1);
}

Status OverCap(std::string_view encoding, size_t max_output_bytes) {
  return Status::ResourceExhausted(std::string(encoding) + " body decompresses to more than " +
                                   std::to_string(max_output_bytes) + " bytes (the limit)");
}

// Grows `out` (geometrically, up to `cap`) so that there is free space after `used`. Returns false
// when `used` already equals the cap.
bool Grow(std::string& out, size_t used, size_t cap, size_t input_size) {
  if (used < out.size()) return true;
  if (used >= cap) return false;
  size_t want = out.empty() ? std::max(kInitialOutput, input_size * 4) : out.size() * 2;
  want = std::min(want, cap);
  // Not out.resize(want): libstdc++ would round the capacity up to twice the old one, past the cap.
  // An empty string's reserve() allocates exactly what is asked.
  std::string bigger;
  bigger.reserve(want);
  bigger.append(out, 0, used);
  bigger.resize(want);
  out.swap(bigger);
  return true;
}

// `window_bits` as for inflateInit2. Returns kInvalidArgument with `*early_failure` set when the
// stream failed before producing any output (the caller may retry as raw deflate).
Result<std::string> Inflate(std::string_view encoding, std::string_view body, int window_bits,
                            size_t cap, bool* early_failure) {
  *early_failure = false;
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) {
    return Status::Internal("zlib inflateInit2 failed");
  }
  std::string out;
  size_t used = 0;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(std::min<size_t>(body.size(), UINT32_MAX));
  size_t input_left = body.size() - zs.avail_in;
  Status status;
  bool finished = false;
  while (!finished) {
    if (zs.avail_in == 0 && input_left > 0) {
      zs.avail_in = static_cast<uInt>(std::min<size_t>(input_left, UINT32_MAX));
      input_left -= zs.avail_in;
    }
    unsigned char probe[64];
    bool probing = !Grow(out, used, cap, body.size());
    if (probing) {
      zs.next_out = probe;
      zs.avail_out = sizeof(probe);
    } else {
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - used, UINT32_MAX));
    }
    uInt before_out = zs.avail_out;
    uInt before_in = zs.avail_in;
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = before_out - zs.avail_out;
    if (probing && produced > 0) {
      status = OverCap(encoding, cap);
      break;
    }
    if (!probing) used += produced;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && input_left == 0) {
        finished = true;
      } else if (window_bits > 0) {
        // Another gzip member (concatenated gzip is legal) or zlib stream follows.
        if (inflateReset(&zs) != Z_OK) {
          status = Status::Internal("zlib inflateReset failed");
          break;
        }
      } else {
        status = Status::InvalidArgument(std::string(encoding) +
                                         " body has trailing bytes after the compressed stream");
        break;
      }
    } else if (rc == Z_OK) {
      continue;
    } else if (rc == Z_BUF_ERROR) {
      if (zs.avail_in == 0 && input_left == 0) {
        status = Status::InvalidArgument(std::string(encoding) +
                                         " body is truncated: the compressed stream ends early");
        break;
      }
      if (produced == 0 && before_in == zs.avail_in && !probing) {
        status = Status::Internal("zlib made no progress");
        break;
      }
    } else if (rc == Z_MEM_ERROR) {
      status = Status::ResourceExhausted("out of memory while inflating the body");
      break;
    } else {  // Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR
      *early_failure = used == 0;
      status = Status::InvalidArgument(std::string(encoding) + " body is corrupt: " +
                                       (zs.msg != nullptr ? zs.msg : "bad compressed data") +
                                       " (at compressed byte " + std::to_string(zs.total_in) + ")");
      break;
    }
  }
  inflateEnd(&zs);
  if (!status.ok()) return status;
  out.resize(used);
  return out;
}

int CeilLog2(size_t n) {
  int bits = 0;
  while (bits < 63 && (size_t{1} << bits) < n) ++bits;
  return bits;
}

Result<std::string> ZstdDecompress(std::string_view body, size_t cap) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return Status::Internal("ZSTD_createDCtx failed");
  // The window is memory zstd allocates itself; bound it by the cap (at least 1 MiB so ordinary
  // streaming compressors still work, at most zstd's default 128 MiB).
  const int window_log = std::clamp(CeilLog2(cap), 20, 27);
  const size_t max_window_bytes = size_t{1} << window_log;
  ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, window_log);
  std::string out;
  size_t used = 0;
  ZSTD_inBuffer in{body.data(), body.size(), 0};
  Status status;
  while (true) {
    unsigned char probe[64];
    bool probing = !Grow(out, used, cap, body.size());
    ZSTD_outBuffer ob = probing ? ZSTD_outBuffer{probe, sizeof(probe), 0}
                                : ZSTD_outBuffer{out.data() + used, out.size() - used, 0};
    size_t in_before = in.pos;
    size_t rc = ZSTD_decompressStream(ctx, &ob, &in);
    if (ZSTD_isError(rc) && ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge) {
      status = Status::ResourceExhausted("zstd body needs a decompression window larger than the " +
                                         std::to_string(max_window_bytes) + "-byte limit");
      break;
    }
    if (ZSTD_isError(rc)) {
      status =
          Status::InvalidArgument(std::string("zstd body is corrupt: ") + ZSTD_getErrorName(rc) +
                                  " (at compressed byte " + std::to_string(in.pos) + ")");
      break;
    }
    if (probing && ob.pos > 0) {
      status = OverCap("zstd", cap);
      break;
    }
    if (!probing) used += ob.pos;
    // 0 = the current frame is complete and fully flushed.
    if (rc == 0 && in.pos == in.size) break;
    if (in.pos == in.size && ob.pos < ob.size) {
      // All input consumed mid-frame and zstd had room to spare: nothing more can come out.
      status = Status::InvalidArgument("zstd body is truncated: the frame ends early");
      break;
    }
    if (ob.pos == 0 && in.pos == in_before) {
      // No progress with output space available: done only if the last frame ended.
      if (rc != 0) status = Status::InvalidArgument("zstd body is truncated: the frame ends early");
      break;
    }
  }
  ZSTD_freeDCtx(ctx);
  if (!status.ok()) return status;
  out.resize(used);
  return out;
}

}  // namespace

Result<std::string> Decompress(std::string_view encoding, std::string_view body,
                               size_t max_output_bytes) {
  std::string name = Lowercase(encoding);
  if (name.empty() || name == "identity" || name == "none") {
    if (body.size() > max_output_bytes) return OverCap("uncompressed", max_output_bytes);
    return std::string(body);
  }
  if (name == "gzip" || name == "x-gzip") {
    bool early;
    return Inflate("gzip", body, 15 + 32, max_output_bytes, &early);
  }
  if (name == "deflate") {
    bool early;
    auto wrapped = Inflate("deflate", body, 15 + 32, max_output_bytes, &early);
    if (wrapped.ok() || !early) return wrapped;
    // Not a zlib (or gzip) stream from the first byte: some clients send raw deflate.
    auto raw = Inflate("deflate", body, -15, max_output_bytes, &early);
    if (raw.ok() || raw.status().code() != StatusCode::kInvalidArgument) return raw;
    return wrapped;  // report the zlib-stream error, which is what the header promised
  }
  if (name == "zstd" || name == "zst") return ZstdDecompress(body, max_output_bytes);
  return Status::Unimplemented("unsupported Content-Encoding \"" + std::string(encoding) +
                               "\" (supported: gzip, deflate, zstd, identity)");
}

std::string GzipCompress(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return "";
  }
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return "";
  out.resize(produced);
  return out;
}

RequestBody DecodeRequestBody(std::optional<std::string_view> content_encoding,
                              std::shared_ptr<const std::string> body, size_t max_bytes) {
  RequestBody out;
  const std::string encoding = Lowercase(content_encoding.value_or(""));
  if (encoding.empty() || encoding == "identity" || encoding == "none") {
    if (body->size() > max_bytes) {
      out.error_status = 413;
      out.error = "request body exceeds the limit of " + std::to_string(max_bytes) + " bytes";
      return out;
    }
    out.bytes = std::move(body);
    return out;
  }
  Result<std::string> decompressed = Decompress(encoding, *body, max_bytes);
  if (decompressed.ok()) {
    out.bytes = std::make_shared<const std::string>(std::move(decompressed).value());
    return out;
  }
  const Status& status = decompressed.status();
  switch (status.code()) {
    case StatusCode::kResourceExhausted:
      out.error_status = 413;
      out.error = "decompressed request body exceeds the limit of " + std::to_string(max_bytes) +
                  " bytes; send smaller batches";
      break;
    case StatusCode::kUnimplemented:
      out.error_status = 415;
      out.error = std::string(status.message());
      break;
    default:
      out.error_status = 400;
      out.error = std::string(status.message());
  }
  return out;
}

}  // namespace ariadne::receivers
