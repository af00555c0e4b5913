#include "store/embedded/seal_writer.h"

#include "query/exec/pre_aggregates.h"
#include "store/embedded/trace_summary_file.h"
#include "store/embedded/wal.h"

namespace ariadne::store::embedded {

using columnar::Block;
using columnar::BlockBuilder;
using columnar::BlockMeta;
using columnar::EncodeBlockFile;

std::string ServiceGraphPath(const std::string& data_dir, uint64_t seal) {
  return data_dir + "/servicegraph-" + std::to_string(seal) + ".dat";
}

BlockRecord RecordOfBlock(const BlockMeta& meta) {
  BlockRecord r;
  r.id = meta.id;
  r.environment = meta.environment;
  r.min_start_unix_nano = meta.min_start_unix_nano;
  r.max_end_unix_nano = meta.max_end_unix_nano;
  r.num_rows = meta.num_rows;
  r.file_bytes = meta.file_bytes;
  return r;
}

Status WriteSeal(Env* env, Manifest* manifest, const std::string& data_dir,
                 const std::string& blocks_dir, const std::vector<const BlockBuilder*>& heads,
                 SealJob* job, const SealTraceHooks* traces, std::atomic<uint64_t>* copy_bytes) {
  auto follow = [copy_bytes](int64_t delta) {
    if (copy_bytes != nullptr) *copy_bytes += static_cast<uint64_t>(delta);  // wraps back on −
  };
  for (size_t i = job->heads_done; i < heads.size(); ++i) {
    const BlockBuilder& head = *heads[i];
    if (head.num_rows() == 0) {
      ++job->heads_done;
      continue;
    }
    std::shared_ptr<const Block> sealed = head.Seal();
    BlockMeta meta = sealed->ComputeMeta();
    meta.pre_aggregates = query::exec::BuildPreAggregates(*sealed);
    meta.id = manifest->NewBlockId();
    meta.checkpoint = job->seal;
    std::string file = EncodeBlockFile(*sealed, meta);
    meta.file_bytes = file.size();
    std::string path = blocks_dir + "/" + BlockFileName(meta.id);
    // The side file first: a block the manifest names always has one (a failure here leaves at
    // most an orphan side file, removed at open).
    std::vector<TraceSummary> parts;
    std::vector<uint8_t> whole;
    if (traces != nullptr) {
      parts = SummarizeBlockTraces(meta.environment, *sealed);
      std::vector<model::TraceId> ids;
      ids.reserve(parts.size());
      for (const TraceSummary& part : parts) ids.push_back(part.trace_id);
      const std::vector<uint8_t> earlier = traces->have_sealed_spans(meta.environment, ids);
      whole.resize(parts.size());
      for (size_t p = 0; p < parts.size(); ++p) whole[p] = !earlier[p];
      ARIADNE_ASSIGN_OR_RETURN(uint64_t side_bytes, WriteTraceSummaryFile(env, path, parts, whole));
      meta.file_bytes += side_bytes;  // counted with its block (--max-disk, /metrics)
    }
    const int64_t sealed_bytes = static_cast<int64_t>(ApproximateBytes(*sealed));
    const int64_t file_bytes = static_cast<int64_t>(file.capacity());
    follow(sealed_bytes + file_bytes);
    Status wrote = WriteFileAtomically(env, path, file);
    follow(wrote.ok() ? -file_bytes : -(sealed_bytes + file_bytes));
    ARIADNE_RETURN_IF_ERROR(wrote);
    job->written.push_back(SealedBlock{std::move(meta), std::move(path), std::move(sealed),
                                       std::move(parts), std::move(whole)});
    ++job->heads_done;
  }
  if (traces != nullptr) {
    // The traces these blocks split, durable before the manifest names the blocks: after a crash
    // the list may name a trace too many (kept resident), never one too few.
    std::vector<SplitTrace> split;
    for (const SealedBlock& b : job->written)
      for (size_t p = 0; p < b.parts.size(); ++p)
        if (!b.whole[p])
          split.push_back(SplitTrace{b.meta.environment, b.parts[p].trace_id,
                                     b.parts[p].start_unix_nano,
                                     b.parts[p].last_span_start_unix_nano});
    ARIADNE_RETURN_IF_ERROR(traces->persist_splits(split));
  }
  ARIADNE_RETURN_IF_ERROR(
      WriteFileAtomically(env, ServiceGraphPath(data_dir, job->seal), job->graph_snapshot));
  VersionEdit edit;
  for (const SealedBlock& b : job->written) edit.added.push_back(RecordOfBlock(b.meta));
  edit.covered_segment = job->covered_segment;
  edit.seal = job->seal;
  // Failing here leaves the written blocks in place: the retry names them in its edit.
  return manifest->Apply(edit);
}

Status RetireAfterSeal(Env* env, const std::string& data_dir, const std::string& wal_dir,
                       const SealJob& job) {
  if (job.seal > 1) (void)env->RemoveFile(ServiceGraphPath(data_dir, job.seal - 1));
  ARIADNE_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListWalSegments(env, wal_dir));
  for (uint64_t segment : segments)
    if (segment <= job.covered_segment) (void)env->RemoveFile(WalSegmentPath(wal_dir, segment));
  return Status::Ok();
}

}  // namespace ariadne::store::embedded
