#include "store/embedded/block_maintenance.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <set>
#include <unordered_map>
#include <utility>

#include "query/exec/pre_aggregates.h"
#include "store/embedded/trace_summary_file.h"

namespace ariadne::store::embedded {

using columnar::Block;
using columnar::BlockBuilder;
using columnar::BlockMeta;
using columnar::DecodeBlockFile;
using columnar::EncodeBlockFile;
using columnar::kCompactionZstdLevel;
namespace {

uint64_t WallClockNano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Oldest first: by the end of the time range, then by id.
bool Older(const BlockRecord& a, const BlockRecord& b) {
  return a.max_end_unix_nano != b.max_end_unix_nano ? a.max_end_unix_nano < b.max_end_unix_nano
                                                    : a.id < b.id;
}

std::string Bytes(uint64_t n) {
  char text[32];
  if (n >= (1ULL << 30))
    std::snprintf(text, sizeof(text), "%.2f GiB", static_cast<double>(n) / (1ULL << 30));
  else
    std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(n) / (1ULL << 20));
  return text;
}

}  // namespace

uint64_t RetentionConfig::RetentionOf(const std::string& environment) const {
  auto it = environments.find(environment);
  if (it != environments.end() && it->second.retention_nanos != 0)
    return it->second.retention_nanos;
  return global.retention_nanos;
}

bool RetentionConfig::empty() const {
  if (global.retention_nanos != 0 || global.max_disk_bytes != 0) return false;
  for (const auto& [env, policy] : environments)
    if (policy.retention_nanos != 0 || policy.max_disk_bytes != 0) return false;
  return true;
}

std::vector<uint64_t> PlanRetention(const ManifestState& state, const RetentionConfig& config,
                                    uint64_t now_unix_nano, std::vector<std::string>* why) {
  std::vector<BlockRecord> kept;
  for (const auto& [id, b] : state.blocks) kept.push_back(b);
  std::sort(kept.begin(), kept.end(), Older);
  std::vector<uint64_t> removed;
  auto remove_if = [&](auto predicate, const std::string& reason) {
    std::vector<BlockRecord> rest;
    for (BlockRecord& b : kept) {
      if (predicate(b)) {
        removed.push_back(b.id);
        why->push_back(reason);
      } else {
        rest.push_back(std::move(b));
      }
    }
    kept = std::move(rest);
  };
  // 1. Age.
  remove_if(
      [&](const BlockRecord& b) {
        const uint64_t retention = config.RetentionOf(b.environment);
        return retention != 0 && now_unix_nano > retention &&
               b.max_end_unix_nano < now_unix_nano - retention;
      },
      "older than the retention");
  // 2. Each environment's max-disk, oldest of that environment first.
  for (const auto& entry : config.environments) {
    const std::string& env = entry.first;
    const uint64_t max_disk = entry.second.max_disk_bytes;
    if (max_disk == 0) continue;
    uint64_t total = 0;
    for (const BlockRecord& b : kept)
      if (b.environment == env) total += b.file_bytes;
    remove_if(
        [&](const BlockRecord& b) {
          if (b.environment != env || total <= max_disk) return false;
          total -= b.file_bytes;
          return true;
        },
        "environment over its max-disk");
  }
  // 3. The global max-disk over all blocks, oldest first.
  if (config.global.max_disk_bytes != 0) {
    uint64_t total = 0;
    for (const BlockRecord& b : kept) total += b.file_bytes;
    remove_if(
        [&](const BlockRecord& b) {
          if (total <= config.global.max_disk_bytes) return false;
          total -= b.file_bytes;
          return true;
        },
        "store over its max-disk");
  }
  return removed;
}

std::vector<uint64_t> PlanCompaction(const ManifestState& state, const CompactionOptions& options,
                                     uint64_t now_unix_nano) {
  if (!options.enabled || options.window_nanos == 0) return {};
  // (environment, window) → small blocks, ascending id.
  std::map<std::pair<std::string, uint64_t>, std::vector<const BlockRecord*>> groups;
  for (const auto& [id, b] : state.blocks) {
    const uint64_t window = b.min_start_unix_nano / options.window_nanos;
    const uint64_t window_end = (window + 1) * options.window_nanos;
    const bool settled = window_end + options.settle_nanos <= now_unix_nano;
    if (!settled && !options.merge_open_windows) continue;  // still filling
    if (b.num_rows < options.target_spans / 2) groups[{b.environment, window}].push_back(&b);
  }
  for (const auto& [key, blocks] : groups) {
    std::vector<uint64_t> picked;
    uint64_t rows = 0;
    for (const BlockRecord* b : blocks) {
      if (rows + b->num_rows > options.target_spans) break;
      rows += b->num_rows;
      picked.push_back(b->id);
    }
    if (picked.size() >= 2) return picked;
  }
  return {};
}

BlockMaintenance::BlockMaintenance(Env* env, std::string blocks_dir, Manifest* manifest,
                                   BlockSetHost* host, MaintenanceOptions options)
    : env_(env),
      blocks_dir_(std::move(blocks_dir)),
      manifest_(manifest),
      host_(host),
      options_(std::move(options)) {}

BlockMaintenance::~BlockMaintenance() { Stop(); }

void BlockMaintenance::Start() {
  if (options_.background) thread_ = std::thread([this] { Loop(); });
}

void BlockMaintenance::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  UnlinkDue(/*all=*/true);
}

void BlockMaintenance::Kick() {
  {
    MutexLock lock(&mu_);
    if (stop_) return;
    kicked_ = true;
  }
  cv_.notify_all();
}

MaintenanceStats BlockMaintenance::stats() const {
  MutexLock lock(&stats_mu_);
  return stats_;
}

void BlockMaintenance::Loop() {
  for (;;) {
    {
      MutexLock lock(&mu_);
      cv_.wait_for(mu_, options_.interval,
                   [this]() ARIADNE_NO_THREAD_SAFETY_ANALYSIS { return stop_ || kicked_; });
      if (stop_) return;
      kicked_ = false;
    }
    Status s = RunOnce();
    if (!s.ok()) {
      MutexLock lock(&stats_mu_);
      stats_.failures++;
      std::fprintf(stderr, "ariadne: block maintenance: %s (will retry)\n", s.ToString().c_str());
    }
  }
}

Status BlockMaintenance::RunOnce() {
  MutexLock run(&run_mu_);
  UnlinkDue(/*all=*/false);
  Status status = RetentionPass();
  for (int merges = 0; status.ok() && merges < 64; ++merges) {
    {
      MutexLock lock(&mu_);
      if (stop_) break;
    }
    bool done = false;
    status = CompactOnce(&done);
    if (!done) break;
  }
  UnlinkDue(/*all=*/false);
  return status;
}

Status BlockMaintenance::RetentionPass() {
  if (options_.retention.empty()) return Status::Ok();
  ManifestState state = manifest_->state();
  for (const auto& [id, bytes] : host_->BlockFileBytes()) {
    auto it = state.blocks.find(id);
    if (it != state.blocks.end()) it->second.file_bytes = bytes;
  }
  std::vector<std::string> why;
  std::vector<uint64_t> ids = PlanRetention(state, options_.retention, WallClockNano(), &why);
  if (ids.empty()) return Status::Ok();
  VersionEdit edit;
  edit.removed = ids;
  ARIADNE_RETURN_IF_ERROR(manifest_->Apply(edit).WithContext("retention"));
  host_->ReplaceBlocks(ids, {});
  host_->AfterRetention();
  MutexLock lock(&stats_mu_);
  for (size_t i = 0; i < ids.size(); ++i) {
    const BlockRecord& b = state.blocks.at(ids[i]);
    stats_.retention_blocks_removed++;
    stats_.retention_spans_removed += b.num_rows;
    stats_.retention_bytes_removed += b.file_bytes;
    std::fprintf(stderr,
                 "ariadne: retention removed block %s (%s): %llu spans of environment \"%s\" "
                 "from %llu to %llu (Unix ns), %s\n",
                 BlockFileName(b.id).c_str(), why[i].c_str(),
                 static_cast<unsigned long long>(b.num_rows), b.environment.c_str(),
                 static_cast<unsigned long long>(b.min_start_unix_nano),
                 static_cast<unsigned long long>(b.max_end_unix_nano), Bytes(b.file_bytes).c_str());
  }
  ScheduleUnlink(ids);
  return Status::Ok();
}

Status BlockMaintenance::CompactOnce(bool* done) {
  *done = false;
  ManifestState state = manifest_->state();
  for (uint64_t id : skip_ids_) state.blocks.erase(id);
  std::vector<uint64_t> inputs = PlanCompaction(state, options_.compaction, WallClockNano());
  if (inputs.empty()) return Status::Ok();
  const std::string environment = state.blocks.at(inputs[0]).environment;
  BlockBuilder builder(environment);
  uint64_t bytes_in = 0;
  uint32_t level = 0;
  // Per trace: how many inputs hold it (a merged part is whole when one did: a trace in two
  // inputs, or in a block outside this compaction, is in the split list since its later seal).
  std::unordered_map<model::TraceId, std::pair<size_t, uint32_t>, model::TraceIdHash> inputs_of;
  size_t input = 0;
  for (uint64_t id : inputs) {
    ++input;
    const std::string path = blocks_dir_ + "/" + BlockFileName(id);
    Result<std::string> data = env_->ReadFile(path);
    Result<std::shared_ptr<const Block>> block =
        data.ok() ? DecodeBlockFile(*data) : Result<std::shared_ptr<const Block>>(data.status());
    if (!block.ok()) {
      // Damaged or gone (a query quarantined it): leave it to the read path.
      skip_ids_.push_back(id);
      *done = true;
      return block.status().WithContext("compaction cannot read " + path + "; skipping it");
    }
    if (options_.trace_summaries) {
      for (size_t row = 0; row < (*block)->num_rows; ++row) {
        auto [it, inserted] = inputs_of.try_emplace((*block)->trace_id[row], input, 1);
        if (!inserted && it->second.first != input) {
          it->second.first = input;
          ++it->second.second;
        }
      }
    }
    std::vector<uint32_t> rows((*block)->num_rows);
    std::iota(rows.begin(), rows.end(), 0);
    model::SpanBatch batch;
    (*block)->Materialize(rows, &batch);
    builder.Append(batch);
    bytes_in += data->size();
    level = std::max(level, state.blocks.at(id).level);
  }
  std::shared_ptr<const Block> merged = builder.Seal();
  BlockMeta meta = merged->ComputeMeta();
  meta.pre_aggregates = query::exec::BuildPreAggregates(*merged);
  meta.id = manifest_->NewBlockId();
  meta.checkpoint = state.seal;
  std::string file = EncodeBlockFile(*merged, meta, kCompactionZstdLevel);
  meta.file_bytes = file.size();
  const std::string path = blocks_dir_ + "/" + BlockFileName(meta.id);
  // The merged block's trace summaries first (trace_summary_file.h), then the block.
  if (options_.trace_summaries) {
    std::vector<TraceSummary> parts = SummarizeBlockTraces(meta.environment, *merged);
    std::vector<uint8_t> whole(parts.size());
    for (size_t p = 0; p < parts.size(); ++p) whole[p] = inputs_of[parts[p].trace_id].second == 1;
    Result<uint64_t> side_bytes = WriteTraceSummaryFile(env_, path, parts, whole);
    if (!side_bytes.ok()) return side_bytes.status().WithContext("compaction");
    meta.file_bytes += *side_bytes;  // counted with its block (--max-disk, /metrics)
  }
  ARIADNE_RETURN_IF_ERROR(WriteFileAtomically(env_, path, file).WithContext("compaction"));
  VersionEdit edit;
  BlockRecord record;
  record.id = meta.id;
  record.environment = meta.environment;
  record.min_start_unix_nano = meta.min_start_unix_nano;
  record.max_end_unix_nano = meta.max_end_unix_nano;
  record.num_rows = meta.num_rows;
  record.file_bytes = meta.file_bytes;
  record.level = level + 1;
  edit.added.push_back(record);
  edit.removed = inputs;
  // On failure the merged file is an orphan (removed at the next open); the inputs stay.
  ARIADNE_RETURN_IF_ERROR(manifest_->Apply(edit).WithContext("compaction"));
  std::vector<NewBlockFile> added;
  added.push_back(NewBlockFile{std::move(meta), path});
  host_->ReplaceBlocks(inputs, std::move(added));
  ScheduleUnlink(inputs);
  MaintenanceStats progress;
  {
    MutexLock lock(&stats_mu_);
    stats_.compactions++;
    stats_.compaction_input_blocks += inputs.size();
    stats_.compaction_bytes_in += bytes_in;
    stats_.compaction_bytes_out += file.size();
    progress = stats_;
  }
  if (options_.on_compaction) options_.on_compaction(progress);
  *done = true;
  return Status::Ok();
}

void BlockMaintenance::ScheduleUnlink(const std::vector<uint64_t>& ids) {
  MutexLock lock(&mu_);
  const auto due = std::chrono::steady_clock::now() + options_.unlink_delay;
  for (uint64_t id : ids) unlinks_.emplace_back(due, blocks_dir_ + "/" + BlockFileName(id));
}

void BlockMaintenance::UnlinkDue(bool all) {
  std::vector<std::string> paths;
  {
    MutexLock lock(&mu_);
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> later;
    for (auto& [due, path] : unlinks_) {
      if (all || due <= now)
        paths.push_back(std::move(path));
      else
        later.emplace_back(due, std::move(path));
    }
    unlinks_ = std::move(later);
  }
  for (const std::string& path : paths) {
    (void)env_->RemoveFile(TraceSummaryPath(path));  // an orphan side file goes at open anyway
    Status s = env_->RemoveFile(path);
    if (!s.ok() && env_->FileExists(path))
      std::fprintf(stderr, "ariadne: %s; the next open removes it\n", s.ToString().c_str());
  }
}

}  // namespace ariadne::store::embedded
