// zstd level of block files: bytes per span, encode time and decode time of one realistic block
// at each level, to choose the levels of seals and compaction (block.h: kSealZstdLevel,
// kCompactionZstdLevel).
//
//   block_level_bench [SPANS] [LEVEL...]
//
// Builds one sealed block of SPANS realistic spans (default 262,144: a compacted block of the
// default target size; tools/gen/realistic_spans.h), encodes it at each LEVEL (default 3 9 19),
// checks that the file decodes to the same block, and prints one line per level: bytes per span,
// encode and decode time (best of three). Not a timed test.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "columnar/block.h"
#include "tools/gen/realistic_spans.h"

using namespace ariadne;
using columnar::Block;

namespace {

double Millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  const size_t spans = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 262'144;
  std::vector<int> levels;
  for (int i = 2; i < argc; ++i) levels.push_back(std::atoi(argv[i]));
  if (levels.empty()) levels = {3, 9, 19};
  gen::RealisticOptions options;
  options.start_unix_nano = 1'700'000'000'000'000'000ULL;
  gen::RealisticSpans gen(42, options);
  columnar::BlockBuilder builder("prod");
  while (builder.num_rows() < spans) builder.Append(gen.Batch(512));
  std::shared_ptr<const Block> sealed = builder.Seal();
  columnar::BlockMeta meta = sealed->ComputeMeta();
  meta.id = 1;
  std::printf("block of %zu spans\n", sealed->num_rows);
  for (int level : levels) {
    std::string file;
    double encode_ms = 1e18, decode_ms = 1e18;
    for (int run = 0; run < 3; ++run) {
      auto t0 = std::chrono::steady_clock::now();
      file = columnar::EncodeBlockFile(*sealed, meta, level);
      auto t1 = std::chrono::steady_clock::now();
      auto decoded = columnar::DecodeBlockFile(file);
      auto t2 = std::chrono::steady_clock::now();
      if (!decoded.ok() || (*decoded)->num_rows != sealed->num_rows ||
          (*decoded)->trace_id != sealed->trace_id ||
          (*decoded)->start_unix_nano != sealed->start_unix_nano ||
          (*decoded)->attributes.size() != sealed->attributes.size()) {
        std::fprintf(stderr, "level %d: the file does not decode to the block\n", level);
        return 1;
      }
      encode_ms = std::min(encode_ms, Millis(t1 - t0));
      decode_ms = std::min(decode_ms, Millis(t2 - t1));
    }
    std::printf(
        "level %2d: %9zu bytes  %6.2f bytes/span  encode %8.1f ms (%6.0f ns/span)  "
        "decode %6.1f ms\n",
        level, file.size(), static_cast<double>(file.size()) / sealed->num_rows, encode_ms,
        encode_ms * 1e6 / sealed->num_rows, decode_ms);
  }
  return 0;
}
