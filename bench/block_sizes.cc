// Where a data directory's block bytes go, per column section (read only: nothing is written).
//
//   block_sizes DATA_DIR [--reencode [--level N] [--dump-pre FILE]] [--limit N]
//
// For every block file (or the first N): the compressed bytes of each section, the meta (with and
// without the pre-aggregates) and the directory/footer, summed over the blocks and printed as bytes
// per span. With --reencode each block is also decoded and encoded again with the current encoder
// (compaction's zstd level, fresh meta and pre-aggregates, as bench/block_rewrite writes it) and
// both sizes are printed side by side, with the time to decode every section of the old and the
// new files (DecodeBlockFile, best of three per block, summed over blocks).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "block_files.h"
#include "columnar/block.h"
#include "columnar/block_internal.h"  // EncodeMeta: the pre-aggregates' stored size
#include "common/env.h"
#include "query/exec/pre_aggregates.h"

using namespace ariadne;

namespace {

struct Sizes {
  std::map<std::string, uint64_t> sections;  // name → compressed bytes
  uint64_t meta = 0, pre_aggregates = 0, other = 0, total = 0;
  double decode_seconds = 0;
};

// Adds the section sizes of one file to `sizes`.
// `pre_aggregates` (stored, compressed, in the meta) is counted by the caller, which knows it.
bool Account(const std::string& file, Sizes* sizes) {
  auto meta = columnar::DecodeBlockMeta(file);
  if (!meta.ok()) return false;
  uint64_t in_sections = 0;
  for (const columnar::SectionInfo& s : meta->sections) {
    // Attribute sections are summed by key; the fixed ones by name.
    sizes->sections[s.name] += s.compressed;
    in_sections += s.compressed;
  }
  sizes->other += file.size() - in_sections;
  sizes->total += file.size();
  return true;
}

double DecodeSeconds(const std::string& file) {
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto block = columnar::DecodeBlockFile(file);
    const auto t1 = std::chrono::steady_clock::now();
    if (!block.ok()) return 0;
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Bytes per span of a data directory's block files, per column section"};
  std::string data_dir;
  bool reencode = false;
  size_t limit = SIZE_MAX;
  int level = columnar::kCompactionZstdLevel;
  std::string dump;
  app.add_option("data_dir", data_dir, "the store's data directory")->required();
  app.add_flag("--reencode", reencode, "also encode each block again with the current encoder");
  app.add_option("--level", level, "zstd level of the re-encoding (default: compaction's)");
  app.add_option("--dump-pre", dump, "write the first block's raw pre-aggregates to this file");
  app.add_option("--limit", limit, "read only the first N block files");
  CLI11_PARSE(app, argc, argv);
  auto paths = bench::BlockFilesOf(data_dir, limit);
  if (!paths.ok()) {
    std::fprintf(stderr, "%s\n", paths.status().ToString().c_str());
    return 1;
  }
  Sizes before, after;
  uint64_t spans = 0;
  size_t blocks = 0;
  double encode_seconds = 0;
  for (const std::string& name : *paths) {
    std::ifstream in(name, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string file = buffer.str();
    auto meta = columnar::DecodeBlockMeta(file);
    if (!meta.ok() || !Account(file, &before)) {
      std::fprintf(stderr, "%s: cannot read, skipped\n", name.c_str());
      continue;
    }
    ++blocks;
    spans += meta->num_rows;
    if (!reencode) continue;
    auto block = columnar::DecodeBlockFile(file);
    if (!block.ok()) {
      std::fprintf(stderr, "%s: cannot decode: %s\n", name.c_str(),
                   block.status().ToString().c_str());
      return 1;
    }
    columnar::BlockMeta fresh = (*block)->ComputeMeta();
    fresh.id = meta->id;
    fresh.checkpoint = meta->checkpoint;
    fresh.pre_aggregates = query::exec::BuildPreAggregates(**block);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string out = columnar::EncodeBlockFile(**block, fresh, level);
    encode_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Account(out, &after);
    columnar::BlockMeta without_pre = fresh;
    without_pre.pre_aggregates = nullptr;
    std::string with_bytes, without_bytes;  // the meta with and without them
    const int pre_level = level >= columnar::kCompactionZstdLevel
                              ? columnar::block_internal::kStrongZstdLevel
                              : columnar::kSealZstdLevel;  // as EncodeBlockFile does
    columnar::block_internal::EncodeMeta(fresh, &with_bytes, pre_level);
    columnar::block_internal::EncodeMeta(without_pre, &without_bytes, pre_level);
    const size_t pre = with_bytes.size() - without_bytes.size();
    if (!dump.empty() && blocks == 1) {
      std::ofstream o(dump, std::ios::binary);
      o << *fresh.pre_aggregates;
    }
    after.pre_aggregates += pre;
    after.other -= pre;
    before.decode_seconds += DecodeSeconds(file);
    after.decode_seconds += DecodeSeconds(out);
    std::fprintf(stderr, "%s: %zu spans, %zu -> %zu bytes\n", name.c_str(), (*block)->num_rows,
                 file.size(), out.size());
  }
  if (spans == 0) return 0;
  const double n = static_cast<double>(spans);
  std::printf("%zu blocks, %llu spans; bytes per span%s\n", blocks,
              static_cast<unsigned long long>(spans), reencode ? " (as read | re-encoded)" : "");
  std::map<std::string, uint64_t> all = before.sections;
  for (const auto& [k, v] : after.sections) all.emplace(k, 0);
  std::vector<std::pair<std::string, uint64_t>> rows(all.begin(), all.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  auto line = [&](const std::string& what, uint64_t a, uint64_t b) {
    if (reencode)
      std::printf("  %-28s %8.3f | %8.3f\n", what.c_str(), a / n, b / n);
    else
      std::printf("  %-28s %8.3f\n", what.c_str(), a / n);
  };
  for (const auto& [name, bytes] : rows) {
    const auto it = after.sections.find(name);
    line(name, bytes, it == after.sections.end() ? 0 : it->second);
  }
  line("pre-aggregates (meta)", before.pre_aggregates, after.pre_aggregates);
  line("meta, directory, footer", before.other, after.other);
  line("total", before.total, after.total);
  if (reencode)
    std::printf("decode every section (DecodeBlockFile, best of 3, summed): %.1f ms | %.1f ms\n",
                before.decode_seconds * 1e3, after.decode_seconds * 1e3);
  if (reencode)
    std::printf("encode (EncodeBlockFile at level %d, once): %.2f us/span\n", level,
                encode_seconds * 1e6 / n);
  return 0;
}
