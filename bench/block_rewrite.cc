// Rewrites every block file of a data directory in the current block format, with
// pre-aggregates (src/query/exec/pre_aggregates.h), keeping each block's id, checkpoint and
// rows — for measuring queries over data written by an older binary (e.g. a copy of a benchmark's
// kept data directory; never the original). Run it while no server uses the directory.
//
//   block_rewrite DATA_DIR
//
// Prints, per block and in total, the file bytes before and after and the pre-aggregates' share
// (compressed, in the meta). The manifest keeps the old file sizes (only statistics use them).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "columnar/block.h"
#include "common/env.h"
#include "query/exec/pre_aggregates.h"

using namespace ariadne;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: block_rewrite DATA_DIR (a copy: files are rewritten in place)\n");
    return 2;
  }
  const std::string dir = std::string(argv[1]) + "/blocks";
  Env* env = Env::Default();
  auto names = env->ListDir(dir);
  if (!names.ok()) {
    std::fprintf(stderr, "%s\n", names.status().ToString().c_str());
    return 1;
  }
  uint64_t before = 0, after = 0, spans = 0, pre_bytes = 0;
  for (const std::string& name : *names) {
    if (name.size() < 4 || name.substr(name.size() - 4) != ".blk") continue;
    const std::string path = dir + "/" + name;
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string file = buffer.str();
    auto meta = columnar::DecodeBlockMeta(file);
    auto block = columnar::DecodeBlockFile(file);
    if (!meta.ok() || !block.ok()) {
      std::fprintf(stderr, "%s: cannot read, left alone\n", path.c_str());
      continue;
    }
    columnar::BlockMeta fresh = (*block)->ComputeMeta();
    fresh.id = meta->id;
    fresh.checkpoint = meta->checkpoint;
    fresh.pre_aggregates = query::exec::BuildPreAggregates(**block);
    const std::string without = [&] {
      columnar::BlockMeta m = fresh;
      m.pre_aggregates = nullptr;
      return columnar::EncodeBlockFile(**block, m, columnar::kCompactionZstdLevel);
    }();
    const std::string out =
        columnar::EncodeBlockFile(**block, fresh, columnar::kCompactionZstdLevel);
    const std::string tmp = path + ".rewrite";
    {
      std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
      o.write(out.data(), static_cast<std::streamsize>(out.size()));
      if (!o) {
        std::fprintf(stderr, "%s: write failed\n", tmp.c_str());
        return 1;
      }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::perror("rename");
      return 1;
    }
    before += file.size();
    after += out.size();
    spans += (*block)->num_rows;
    pre_bytes += out.size() - without.size();
    std::printf("%s: %zu spans, %zu -> %zu bytes, pre-aggregates %zu bytes (%.3f B/span)\n",
                name.c_str(), (*block)->num_rows, file.size(), out.size(),
                out.size() - without.size(),
                static_cast<double>(out.size() - without.size()) / (*block)->num_rows);
  }
  if (spans == 0) return 0;
  std::printf("total: %llu spans, %.3f -> %.3f B/span, pre-aggregates %.3f B/span\n",
              static_cast<unsigned long long>(spans), static_cast<double>(before) / spans,
              static_cast<double>(after) / spans, static_cast<double>(pre_bytes) / spans);
  return 0;
}
