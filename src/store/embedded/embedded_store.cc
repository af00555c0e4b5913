#include "store/embedded/embedded_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <list>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <shared_mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "query/exec/block_pruning.h"
#include "query/exec/bubbleup_scan.h"
#include "query/exec/column_needs.h"
#include "query/exec/executor.h"
#include "query/xray_filter/filter.h"
#include "store/embedded/batch_codec.h"
#include "store/embedded/block.h"
#include "store/embedded/block_set_recovery.h"
#include "store/embedded/column_cache.h"
#include "store/embedded/env.h"
#include "store/embedded/manifest.h"
#include "store/embedded/quarantine.h"
#include "store/embedded/seal_writer.h"
#include "store/embedded/wal.h"
#include "store/embedded/wal_log.h"
#include "store/embedded/wal_replay.h"
#include "store/service_graph.h"

namespace ariadne::store::embedded {
namespace {

namespace fs = std::filesystem;

uint64_t WallClockNano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

struct PendingAppend {
  std::string environment;
  model::SpanBatch batch;
  std::string framed;  // the WAL record, encoded by the caller's thread
  SpanStore::AppendCallback done;
};

struct BlockEntry {
  BlockMeta meta;
  std::string path;
};

class EmbeddedStore final : public SpanStore, public BlockSetHost {
 public:
  explicit EmbeddedStore(EmbeddedStoreOptions options)
      : options_(WithEnv(std::move(options))),
        env_(options_.env),
        quarantine_(options_.env, options_.data_dir),
        wal_(options_.env, options_.data_dir + "/wal"),
        column_cache_(options_.column_cache_bytes) {
    wal_dir_ = options_.data_dir + "/wal";
    blocks_dir_ = options_.data_dir + "/blocks";
  }

  ~EmbeddedStore() override { (void)Close(); }

  Status Open() {
    Status created = env_->CreateDir(wal_dir_);
    if (created.ok()) created = env_->CreateDir(blocks_dir_);
    if (!created.ok())
      return created.WithContext("cannot create data directory " + options_.data_dir +
                                 " (check the path and its permissions)");
    lock_fd_ = ::open((options_.data_dir + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0 || ::lockf(lock_fd_, F_TLOCK, 0) != 0)
      return Status::FailedPrecondition("data directory " + options_.data_dir +
                                        " is in use by another ariadne process; stop it or "
                                        "choose another --data-dir");

    ARIADNE_RETURN_IF_ERROR(OpenBlockSet());

    // Replay the WAL segments the blocks do not cover. A segment without a record (the one the
    // last run opened and never wrote to) is removed, so restarts do not pile up empty files.
    const uint64_t covered = manifest_->state().covered_segment;
    ARIADNE_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListWalSegments(env_, wal_dir_));
    uint64_t last_segment = covered;
    for (uint64_t segment : segments) {
      std::string path = WalSegmentPath(wal_dir_, segment);
      if (segment <= covered) {
        (void)env_->RemoveFile(path);
        continue;
      }
      ARIADNE_ASSIGN_OR_RETURN(bool empty, ReplaySegment(path));
      if (empty && env_->RemoveFile(path).ok()) continue;
      last_segment = std::max(last_segment, segment);
    }
    ARIADNE_RETURN_IF_ERROR(wal_.Start(last_segment + 1));
    maintenance_ = std::make_unique<BlockMaintenance>(env_, blocks_dir_, manifest_.get(), this,
                                                      options_.maintenance);
    maintenance_->Start();
    maintenance_->Kick();
    seal_thread_ = std::thread([this] { SealLoop(); });
    commit_thread_ = std::thread([this] { CommitLoop(); });
    return Status::Ok();
  }

  // Finds the manifest (upgrading a checkpoint-era directory), removes orphans, restores the
  // service map and reads the meta of every block the manifest names.
  Status OpenBlockSet() {
    BlockSetRecoveryOptions recovery;
    recovery.env = env_;
    recovery.data_dir = options_.data_dir;
    recovery.blocks_dir = blocks_dir_;
    recovery.recover = options_.recover_manifest;
    recovery.read_meta = [this](const std::string& path) {
      return ReadMetaOfBlockFile(env_, path);
    };
    ARIADNE_ASSIGN_OR_RETURN(RecoveredBlockSet recovered, RecoverBlockSet(recovery));
    manifest_ = std::move(recovered.manifest);
    orphans_removed_ += recovered.orphans_removed;
    for (const auto& [path, why] : recovered.damaged) QuarantineBlockFile(path, nullptr, why);
    for (const BlockRecord& r : recovered.missing)
      std::fprintf(stderr,
                   "ariadne: block file %s named by the manifest is missing (moved to quarantine/ "
                   "or deleted by hand?): %llu spans of environment \"%s\" are no longer "
                   "queryable; the manifest no longer names it\n",
                   (blocks_dir_ + "/" + BlockFileName(r.id)).c_str(),
                   static_cast<unsigned long long>(r.num_rows), r.environment.c_str());
    const uint64_t seal = manifest_->state().seal;
    last_seal_ = seal;
    if (seal > 0) {
      Result<std::string> snapshot = env_->ReadFile(ServiceGraphPath(options_.data_dir, seal));
      if (snapshot.ok()) {
        Status restored = graph_.Restore(*snapshot);
        if (!restored.ok())
          std::fprintf(stderr, "ariadne: %s; the service map restarts empty\n",
                       restored.ToString().c_str());
      }
    }
    VersionEdit damaged;
    for (const BlockRecord& record : recovered.present) {
      const std::string path = blocks_dir_ + "/" + BlockFileName(record.id);
      Result<BlockMeta> meta = ReadMetaOfBlockFile(env_, path);
      if (!meta.ok()) {
        if (meta.status().code() != StatusCode::kDataLoss) return meta.status().WithContext(path);
        QuarantineBlockFile(path, nullptr, meta.status());
        damaged.removed.push_back(record.id);
        continue;
      }
      meta->id = record.id;
      stats_block_bytes_ += meta->file_bytes;
      stats_block_spans_ += meta->num_rows;
      blocks_.push_back(BlockEntry{std::move(*meta), path});
    }
    if (!damaged.removed.empty()) ARIADNE_RETURN_IF_ERROR(manifest_->Apply(damaged));
    blocks_count_ = blocks_.size();
    return Status::Ok();
  }

  // The one place Open reads a block file's meta.
  // Footer, meta and section directory only (positional reads; the column sections stay unread).
  static Result<BlockMeta> ReadMetaOfBlockFile(Env* env, const std::string& path) {
    return ReadBlockMeta(env, path);
  }

  void AppendAsync(std::string environment, model::SpanBatch batch, AppendCallback done) override {
    if (batch.spans.empty()) {
      done(Status::Ok());
      return;
    }
    PendingAppend pending;
    std::string payload;
    PutString(&payload, environment);
    EncodeSpanBatch(batch, &payload);
    if (payload.size() > kWalMaxRecordBytes) {
      done(Status::InvalidArgument("batch too large for one WAL record; send smaller batches"));
      return;
    }
    FrameWalRecord(WalRecordType::kSpanBatch, payload, static_cast<uint32_t>(batch.spans.size()),
                   &pending.framed);
    pending.environment = std::move(environment);
    pending.done = std::move(done);
    const size_t spans = batch.spans.size();
    pending.batch = std::move(batch);
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (closed_) {
        pending.done(Status::Unavailable("store is shutting down"));
        return;
      }
      if (queued_spans_ + spans > options_.max_pending_spans) {
        append_errors_++;
        pending.done(
            Status::ResourceExhausted("the store is behind: " + std::to_string(queued_spans_) +
                                      " spans are waiting to be written; retry shortly"));
        return;
      }
      queued_spans_ += spans;
      queue_.push_back(std::move(pending));
    }
    queue_cv_.notify_one();
  }

  Result<TraceResult> GetTrace(const model::TraceId& id, std::string_view environment) override {
    TraceResult result;
    std::vector<BlockEntry> candidates;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      for (const auto& [env, head] : AllHeads()) {
        if (!environment.empty() && env != environment) continue;
        std::vector<uint32_t> rows = head->RowsOfTrace(id);
        if (rows.empty()) continue;
        head->block().Materialize(rows, &result.spans);
        result.environments.resize(result.spans.spans.size(), std::string(env));
      }
      for (const BlockEntry& entry : blocks_) {
        if (!environment.empty() && entry.meta.environment != environment) continue;
        if (!entry.meta.bloom.MayContain(id)) continue;
        candidates.push_back(ReadRef(entry));
      }
    }
    ColumnSet ids;
    ids.fixed = ColumnSet::kTraceId;
    for (const BlockEntry& entry : candidates) {
      // The trace-id column (usually cached) says whether the bloom filter was right; only then
      // is the whole block read. It is cached like any columns (bounded in bytes), since trace
      // search and X-Ray filters read many traces of the same blocks in a row.
      ARIADNE_ASSIGN_OR_RETURN(std::shared_ptr<const Block> id_block, LoadBlock(entry, ids));
      if (id_block->SortedRowsOfTrace(id).empty()) continue;
      ARIADNE_ASSIGN_OR_RETURN(std::shared_ptr<const Block> block,
                               LoadBlock(entry, ColumnSet::All()));
      std::vector<uint32_t> rows = block->SortedRowsOfTrace(id);
      if (rows.empty()) continue;
      block->Materialize(rows, &result.spans);
      result.environments.resize(result.spans.spans.size(), entry.meta.environment);
    }
    if (result.spans.spans.empty())
      return Status::NotFound("no span of trace " + id.ToHex() + " is stored");
    SortByStartTime(&result);
    return result;
  }

  Status ForEachTrace(uint64_t start_unix_nano, uint64_t end_unix_nano,
                      std::string_view environment,
                      const std::function<bool(const TraceResult&)>& visit) override {
    // Earliest in-window start per trace, then whole traces in that order.
    std::unordered_map<model::TraceId, uint64_t, model::TraceIdHash> first_start;
    auto note = [&](const Block& block, size_t row) {
      uint64_t start = block.start_unix_nano[row];
      if (start < start_unix_nano || start >= end_unix_nano) return;
      auto [it, inserted] = first_start.try_emplace(block.trace_id[row], start);
      if (!inserted) it->second = std::min(it->second, start);
    };
    std::vector<BlockEntry> candidates;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      for (const auto& [env, head] : AllHeads()) {
        if (!environment.empty() && env != environment) continue;
        for (size_t row = 0; row < head->num_rows(); ++row) note(head->block(), row);
      }
      for (const BlockEntry& entry : blocks_) {
        if (!environment.empty() && entry.meta.environment != environment) continue;
        if (entry.meta.min_start_unix_nano >= end_unix_nano ||
            entry.meta.max_end_unix_nano < start_unix_nano)
          continue;
        candidates.push_back(ReadRef(entry));
      }
    }
    ColumnSet needed;
    needed.fixed = ColumnSet::kTraceId | ColumnSet::kStart;
    for (const BlockEntry& entry : candidates) {
      ARIADNE_ASSIGN_OR_RETURN(std::shared_ptr<const Block> block, LoadBlock(entry, needed));
      for (size_t row = 0; row < block->num_rows; ++row) note(*block, row);
    }
    std::vector<std::pair<uint64_t, model::TraceId>> order;
    order.reserve(first_start.size());
    for (const auto& [id, start] : first_start) order.emplace_back(start, id);
    std::sort(order.begin(), order.end());
    for (const auto& [start, id] : order) {
      Result<TraceResult> trace = GetTrace(id, environment);
      if (trace.status().IsNotFound()) continue;  // cannot happen unless retention removed it
      if (!trace.ok()) return trace.status();
      if (!visit(*trace)) break;
    }
    return Status::Ok();
  }

  Result<query::QueryResult> RunQuery(const query::QuerySpec& spec,
                                      const query::ExecContext& context) override {
    query::QueryBudget budget(context);
    query::BudgetCharge trace_charge(&budget);  // released after the executors below
    query::QueryExecutor head_executor(spec, &budget);
    std::shared_ptr<const query::QueryExecutor::TraceIdSet> traces;
    if (!spec.xray_filter.empty()) {
      // X-Ray filter expressions speak about whole traces: pick the matching traces first, then
      // aggregate only their spans.
      ARIADNE_ASSIGN_OR_RETURN(query::xray_filter::Filter filter,
                               query::xray_filter::Filter::Parse(spec.xray_filter));
      auto matching = std::make_shared<query::QueryExecutor::TraceIdSet>();
      Status charged;  // the matching ids, charged per 1024 (id + hash node)
      ARIADNE_RETURN_IF_ERROR(
          ForEachTrace(spec.start_unix_nano, spec.end_unix_nano, spec.environment,
                       [&](const TraceResult& trace) {
                         if (filter.Matches(query::xray_filter::TraceView::Build(trace.spans))) {
                           matching->insert(trace.spans.spans[0].trace_id);
                           if (matching->size() % 1024 == 0) charged = trace_charge.Add(1024 * 64);
                         }
                         return charged.ok() && !budget.cancelled();
                       }));
      ARIADNE_RETURN_IF_ERROR(charged);
      ARIADNE_RETURN_IF_ERROR(budget.CheckCancelled());
      traces = std::move(matching);
      head_executor.RestrictToTraces(traces);
    }
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      for (const auto& [env, head] : AllHeads()) {
        if (!spec.environment.empty() && env != spec.environment) continue;
        ARIADNE_RETURN_IF_ERROR(head_executor.Consume(head->block()));
      }
    }
    uint64_t skipped = 0;
    std::vector<BlockEntry> candidates = CandidateBlocks(spec, &skipped);
    for (uint64_t i = 0; i < skipped; ++i) head_executor.CountSkippedBlock();
    const ColumnSet needed = query::ColumnsForQuery(spec);
    // Two workers (the machine's cores), each over every other block, merged at the end.
    constexpr size_t kWorkers = 2;
    std::vector<query::QueryExecutor> executors;
    std::vector<Status> statuses(kWorkers);
    for (size_t w = 0; w < kWorkers; ++w) {
      executors.emplace_back(spec, &budget);
      if (traces) executors.back().RestrictToTraces(traces);
    }
    auto work = [&](size_t w) {
      for (size_t i = w; i < candidates.size(); i += kWorkers) {
        Result<std::shared_ptr<const Block>> block = LoadBlock(candidates[i], needed);
        if (!block.ok()) {
          statuses[w] = block.status();
          return;
        }
        statuses[w] = executors[w].Consume(**block);
        if (!statuses[w].ok()) return;
      }
    };
    if (candidates.size() > 1) {
      std::thread helper(work, 1);
      work(0);
      helper.join();
    } else {
      work(0);
    }
    for (size_t w = 0; w < kWorkers; ++w) {
      ARIADNE_RETURN_IF_ERROR(statuses[w]);
      ARIADNE_RETURN_IF_ERROR(head_executor.Merge(std::move(executors[w])));
    }
    return head_executor.Finish();
  }

  Result<std::vector<TraceSummary>> SearchTraces(const TraceSearchRequest& request,
                                                 const query::ExecContext& context) override {
    query::QueryBudget budget(context);
    ARIADNE_RETURN_IF_ERROR(budget.CheckCancelled());
    query::QuerySpec spec;
    spec.environment = request.environment;
    spec.start_unix_nano = request.start_unix_nano;
    spec.end_unix_nano = request.end_unix_nano;
    spec.filters = request.filters;
    // Newest matching span start per trace.
    std::unordered_map<model::TraceId, std::pair<uint64_t, std::string>, model::TraceIdHash> latest;
    auto collect = [&](const Block& block, const std::string& env) {
      std::vector<uint8_t> selected = query::SelectRows(spec, block);
      for (size_t r = 0; r < block.num_rows; ++r) {
        if (!selected[r]) continue;
        auto [it, inserted] = latest.try_emplace(block.trace_id[r], block.start_unix_nano[r], env);
        if (!inserted) it->second.first = std::max(it->second.first, block.start_unix_nano[r]);
      }
    };
    std::vector<BlockEntry> candidates = CandidateBlocks(spec, nullptr);
    ColumnSet needed = query::ColumnsForSelect(spec);
    needed.fixed |= ColumnSet::kTraceId | ColumnSet::kStart;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      for (const auto& [env, head] : AllHeads())
        if (spec.environment.empty() || env == spec.environment)
          collect(head->block(), std::string(env));
    }
    // Each matching trace costs an entry in `latest` (id, time, environment, hash node).
    query::BudgetCharge charge(&budget);
    size_t charged_traces = 0;
    auto charge_traces = [&] {
      Status status = charge.Add((latest.size() - charged_traces) * 128);
      charged_traces = latest.size();
      return status;
    };
    ARIADNE_RETURN_IF_ERROR(charge_traces());
    for (const BlockEntry& entry : candidates) {
      ARIADNE_RETURN_IF_ERROR(budget.CheckCancelled());
      ARIADNE_ASSIGN_OR_RETURN(std::shared_ptr<const Block> block, LoadBlock(entry, needed));
      collect(*block, entry.meta.environment);
      ARIADNE_RETURN_IF_ERROR(charge_traces());
    }
    std::vector<std::pair<uint64_t, model::TraceId>> order;
    for (const auto& [id, v] : latest) order.emplace_back(v.first, id);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    if (order.size() > request.limit) order.resize(request.limit);
    std::vector<TraceSummary> out;
    for (const auto& [start, id] : order) {
      Result<TraceResult> trace = GetTrace(id, latest[id].second);
      if (!trace.ok()) continue;
      out.push_back(SummarizeTrace(*trace));
    }
    return out;
  }

  Result<query::BubbleUpCounts> ScanBubbleUp(const query::BubbleUpRequest& request,
                                             const query::ExecContext& context) override {
    query::QueryBudget budget(context);
    ARIADNE_RETURN_IF_ERROR(budget.CheckCancelled());
    const query::QuerySpec& spec = request.base;
    query::exec::BubbleUpScan head_scan(request, &budget);
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      for (const auto& [env, head] : AllHeads()) {
        if (!spec.environment.empty() && env != spec.environment) continue;
        ARIADNE_RETURN_IF_ERROR(head_scan.Consume(head->block()));
      }
    }
    std::vector<BlockEntry> candidates = CandidateBlocks(spec, nullptr);
    ColumnSet needed = query::ColumnsForSelect(spec);
    needed.Add(query::ColumnsOfName(request.column));
    for (const std::string& column : request.columns) needed.Add(query::ColumnsOfName(column));
    needed.fixed |= ColumnSet::kStart;
    needed.Close();
    // Two workers (the machine's cores), each over every other block, as RunQuery.
    constexpr size_t kWorkers = 2;
    std::vector<query::exec::BubbleUpScan> scans;
    std::vector<Status> statuses(kWorkers);
    for (size_t w = 0; w < kWorkers; ++w) scans.emplace_back(request, &budget);
    auto work = [&](size_t w) {
      for (size_t i = w; i < candidates.size(); i += kWorkers) {
        Result<std::shared_ptr<const Block>> block = LoadBlock(candidates[i], needed);
        if (!block.ok()) {
          statuses[w] = block.status();
          return;
        }
        statuses[w] = scans[w].Consume(**block);
        if (!statuses[w].ok()) return;
      }
    };
    if (candidates.size() > 1) {
      std::thread helper(work, 1);
      work(0);
      helper.join();
    } else {
      work(0);
    }
    for (size_t w = 0; w < kWorkers; ++w) {
      ARIADNE_RETURN_IF_ERROR(statuses[w]);
      ARIADNE_RETURN_IF_ERROR(head_scan.Merge(std::move(scans[w])));
    }
    return head_scan.Finish();
  }

  Result<std::vector<ColumnInfo>> ListColumns(std::string_view environment,
                                              uint64_t start_unix_nano,
                                              uint64_t end_unix_nano) override {
    std::map<std::string, BlockMeta::ColumnTypes> merged;
    auto merge = [&](const std::map<std::string, BlockMeta::ColumnTypes>& columns) {
      for (const auto& [name, c] : columns) {
        merged[name].types |= c.types;
        merged[name].sources |= c.sources;
      }
    };
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      for (const auto& [env, head] : AllHeads())
        if (environment.empty() || env == environment) merge(head->block().ComputeColumns());
      for (const BlockEntry& entry : blocks_) {
        if (!environment.empty() && entry.meta.environment != environment) continue;
        if (entry.meta.min_start_unix_nano >= end_unix_nano ||
            entry.meta.max_end_unix_nano < start_unix_nano)
          continue;
        merge(entry.meta.columns);
      }
    }
    std::vector<ColumnInfo> out = {
        {"name", "string", "intrinsic"},          {"service.name", "string", "intrinsic"},
        {"duration_ms", "double", "intrinsic"},   {"span.kind", "string", "intrinsic"},
        {"status_code", "int", "intrinsic"},      {"status_message", "string", "intrinsic"},
        {"error", "bool", "intrinsic"},           {"trace.trace_id", "string", "intrinsic"},
        {"trace.span_id", "string", "intrinsic"}, {"trace.parent_id", "string", "intrinsic"},
        {"span.num_events", "int", "intrinsic"},  {"span.num_links", "int", "intrinsic"},
        {"library.name", "string", "intrinsic"},  {"library.version", "string", "intrinsic"},
    };
    for (const auto& [name, c] : merged) {
      if (name == "service.name") continue;
      static const char* kTypeNames[] = {"empty",  "string", "bool",   "int",
                                         "double", "string", "string", "string"};
      std::string type;
      for (int t = 1; t <= 7; ++t) {
        if (!(c.types & (1u << t))) continue;
        if (type.empty())
          type = kTypeNames[t];
        else if (type != kTypeNames[t])
          type = "mixed";
      }
      if (type.empty()) type = "string";
      out.push_back({name, type, (c.sources & kColumnFromSpan) ? "span" : "resource"});
    }
    return out;
  }

  Result<ServiceGraph> GetServiceGraph(std::string_view environment, uint64_t start_unix_nano,
                                       uint64_t end_unix_nano) override {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    graph_.Expire(WallClockNano());
    return graph_.Get(environment, start_unix_nano, end_unix_nano);
  }

  Result<std::vector<ServiceSummary>> ListServices(std::string_view environment) override {
    std::map<std::pair<std::string, std::string>, ServiceCounts> merged;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      for (const BlockEntry& entry : blocks_) {
        if (!environment.empty() && entry.meta.environment != environment) continue;
        for (const auto& [name, counts] : entry.meta.services)
          merged[{entry.meta.environment, name}].Add(counts);
      }
      for (const auto& [env, head] : AllHeads()) {
        if (!environment.empty() && env != environment) continue;
        for (const auto& [name, counts] : head->services())
          merged[{std::string(env), name}].Add(counts);
      }
    }
    std::vector<ServiceSummary> out;
    for (const auto& [key, c] : merged) {
      ServiceSummary s;
      s.environment = key.first;
      s.name = key.second;
      s.span_count = c.span_count;
      s.trace_root_count = c.root_count;
      s.error_count = c.error_count;
      s.first_seen_unix_nano = c.first_seen;
      s.last_seen_unix_nano = c.last_seen;
      out.push_back(std::move(s));
    }
    return out;
  }

  Status Flush() override {
    std::unique_lock<std::mutex> lock(queue_mu_);
    if (closed_) return Status::FailedPrecondition("store is closed");
    uint64_t ticket = ++flush_requested_;
    queue_cv_.notify_one();
    flush_done_cv_.wait(lock, [&] { return flush_completed_ >= ticket; });
    return flush_status_;
  }

  Status Close() override {
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (closed_) return close_status_;
      closed_ = true;
      ++flush_requested_;
    }
    // No retention or compaction pass starts during shutdown; the next open runs one.
    if (maintenance_) maintenance_->Stop();
    queue_cv_.notify_one();
    if (commit_thread_.joinable()) commit_thread_.join();
    {
      std::lock_guard<std::mutex> lock(seal_mu_);
      seal_stop_ = true;
    }
    seal_cv_.notify_all();
    if (seal_thread_.joinable()) seal_thread_.join();
    close_status_ = wal_.Close();
    if (!flush_status_.ok()) close_status_ = flush_status_;
    if (lock_fd_ >= 0) {
      ::close(lock_fd_);
      lock_fd_ = -1;
    }
    return close_status_;
  }

  StoreStats Stats() const override {
    StoreStats s;
    s.spans_appended = spans_appended_;
    s.batches_appended = batches_appended_;
    s.append_errors = append_errors_;
    s.wal_bytes = wal_bytes_;
    s.wal_syncs = wal_syncs_;
    s.head_spans = head_spans_ + sealing_spans_;
    s.blocks = blocks_count_;
    s.block_bytes = stats_block_bytes_;
    s.block_spans = stats_block_spans_;
    s.wal_write_failures = wal_.write_failures();
    s.wal_corrupt_records = wal_corrupt_records_;
    s.wal_skipped_bytes = wal_skipped_bytes_;
    s.wal_skipped_spans = wal_skipped_spans_;
    s.blocks_quarantined = blocks_quarantined_;
    const ColumnCacheStats cache = column_cache_.Stats();
    s.column_cache_hits = cache.hits;
    s.column_cache_misses = cache.misses;
    s.column_cache_bytes = cache.bytes;
    s.column_cache_capacity_bytes = cache.capacity_bytes;
    s.column_cache_evictions = cache.evictions;
    s.blocks_pruned = blocks_pruned_;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      for (const auto& [env, head] : AllHeads()) s.head_bytes += ApproximateBytes(head->block());
    }
    s.orphan_blocks_removed = orphans_removed_;
    if (maintenance_) {
      MaintenanceStats m = maintenance_->stats();
      s.retention_blocks_removed = m.retention_blocks_removed;
      s.retention_spans_removed = m.retention_spans_removed;
      s.retention_bytes_removed = m.retention_bytes_removed;
      s.compactions = m.compactions;
      s.compaction_input_blocks = m.compaction_input_blocks;
    }
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      s.pending_appends = queued_spans_;
    }
    return s;
  }

  uint64_t replayed_records() const { return replayed_records_; }

  Status RunMaintenance() { return maintenance_->RunOnce(); }

  // BlockSetHost: called by maintenance after its manifest edit is durable.
  void ReplaceBlocks(const std::vector<uint64_t>& removed,
                     std::vector<NewBlockFile> added) override {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    for (uint64_t id : removed) {
      auto it = std::find_if(blocks_.begin(), blocks_.end(),
                             [&](const BlockEntry& e) { return e.meta.id == id; });
      if (it == blocks_.end()) continue;  // quarantined meanwhile
      stats_block_bytes_ -= it->meta.file_bytes;
      stats_block_spans_ -= it->meta.num_rows;
      blocks_.erase(it);
      column_cache_.Erase(id);
    }
    for (NewBlockFile& block : added) {
      stats_block_bytes_ += block.meta.file_bytes;
      stats_block_spans_ += block.meta.num_rows;
      blocks_.push_back(BlockEntry{std::move(block.meta), std::move(block.path)});
    }
    blocks_count_ = blocks_.size();
  }

 private:
  static EmbeddedStoreOptions WithEnv(EmbeddedStoreOptions options) {
    if (options.env == nullptr) options.env = Env::Default();
    return options;
  }

  // Replays one WAL segment into the heads; true when it held no record. REQUIRES: during Open.
  Result<bool> ReplaySegment(const std::string& path) {
    ARIADNE_ASSIGN_OR_RETURN(
        WalReplayCounts counts,
        ReplayWalSegment(env_, &quarantine_, path,
                         [this](std::string_view environment, const model::SpanBatch& batch) {
                           ApplyToHead(std::string(environment), batch);
                         }));
    replayed_records_ += counts.records;
    wal_corrupt_records_ += counts.corrupt_records;
    wal_skipped_bytes_ += counts.skipped_bytes;
    wal_skipped_spans_ += counts.skipped_spans;
    return counts.empty;
  }

  // REQUIRES: called by the commit thread, or during Open before it starts.
  void ApplyToHead(const std::string& environment, const model::SpanBatch& batch) {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    auto& head = heads_[environment];
    if (!head) head = std::make_unique<BlockBuilder>(environment);
    head->Append(batch);
    graph_.Observe(environment, batch, WallClockNano());
    head_spans_ += batch.spans.size();
  }

  void CommitLoop() {
    std::vector<PendingAppend> work;
    std::string framed;
    for (;;) {
      uint64_t flush_ticket = 0;
      bool closing = false;
      {
        std::unique_lock<std::mutex> lock(queue_mu_);
        queue_cv_.wait(lock, [&] {
          return !queue_.empty() || closed_ || flush_requested_ > flush_completed_ ||
                 seal_finished_recheck_;
        });
        seal_finished_recheck_ = false;
        work.clear();
        while (!queue_.empty()) {
          work.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        flush_ticket = flush_requested_;
        closing = closed_;
      }
      if (!work.empty()) CommitGroup(&work, &framed);
      const bool want_flush = flush_ticket > flush_completed_snapshot_;
      if (want_flush) {
        // Everything appended so far must end up in block files: finish a running seal, then seal
        // the rest (a failed earlier seal is retried first).
        Status s = WaitForSeal();
        for (int round = 0; round < 2 && StartSeal(); ++round) s = WaitForSeal();
        std::lock_guard<std::mutex> lock(queue_mu_);
        flush_status_ = s;
        flush_completed_ = flush_ticket;
        flush_completed_snapshot_ = flush_ticket;
        flush_done_cv_.notify_all();
      } else if (head_spans_ >= options_.head_max_spans) {
        StartSeal();  // in the background; appends go on into fresh heads
      }
      if (closing) {
        std::lock_guard<std::mutex> lock(queue_mu_);
        if (queue_.empty()) return;
      }
    }
  }

  void CommitGroup(std::vector<PendingAppend>* work, std::string* framed) {
    framed->clear();
    size_t spans = 0;
    for (const PendingAppend& p : *work) {
      framed->append(p.framed);
      spans += p.batch.spans.size();
    }
    Status status = wal_.Commit(*framed, options_.sync);
    if (options_.sync) wal_syncs_++;
    if (status.ok()) {
      wal_bytes_ += framed->size();
      for (const PendingAppend& p : *work) ApplyToHead(p.environment, p.batch);
      spans_appended_ += spans;
      batches_appended_ += work->size();
    } else {
      append_errors_ += work->size();
    }
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      queued_spans_ -= spans;
    }
    for (PendingAppend& p : *work) p.done(status);
    work->clear();
  }

  // Every readable head: the live ones and those being sealed. REQUIRES: state_mu_ held.
  std::vector<std::pair<std::string_view, const BlockBuilder*>> AllHeads() const {
    std::vector<std::pair<std::string_view, const BlockBuilder*>> all;
    for (const auto& [env, head] : heads_) all.emplace_back(env, head.get());
    for (const auto& [env, head] : sealing_heads_) all.emplace_back(env, head.get());
    return all;
  }

  // Hands the live heads to the seal thread (rotating the WAL so that the sealed spans are exactly
  // the closed segments) unless a seal is still running. Returns false when nothing was started.
  // REQUIRES: commit thread.
  bool StartSeal() {
    std::unique_lock<std::mutex> seal_lock(seal_mu_);
    if (seal_running_) return false;
    if (seal_job_) {  // a failed job: retry it as it was
      seal_running_ = true;
      seal_cv_.notify_all();
      return true;
    }
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      if (heads_.empty()) return false;
    }
    uint64_t covered_segment = 0;
    if (Status rotated = wal_.Rotate(&covered_segment); !rotated.ok()) {
      last_seal_status_ = rotated;
      return false;
    }
    SealJob job;
    job.seal = ++last_seal_;
    job.covered_segment = covered_segment;
    {
      std::unique_lock<std::shared_mutex> lock(state_mu_);
      for (auto& [env, head] : heads_) sealing_heads_.emplace_back(env, std::move(head));
      heads_.clear();
      sealing_spans_ += head_spans_.exchange(0);
      // The graph as of exactly the spans being sealed: later spans are replayed from the WAL.
      job.graph_snapshot = graph_.Snapshot();
    }
    seal_job_ = std::move(job);
    seal_running_ = true;
    seal_cv_.notify_all();
    return true;
  }

  // Blocks until no seal is running; returns the last seal's status.
  Status WaitForSeal() {
    std::unique_lock<std::mutex> lock(seal_mu_);
    seal_cv_.wait(lock, [&] { return !seal_running_; });
    return seal_job_ ? last_seal_status_ : Status::Ok();
  }

  void SealLoop() {
    for (;;) {
      SealJob* job = nullptr;  // only this thread touches it while seal_running_
      {
        std::unique_lock<std::mutex> lock(seal_mu_);
        seal_cv_.wait(lock, [&] { return seal_stop_ || seal_running_; });
        if (!seal_running_) return;
        job = &*seal_job_;
      }
      Status s = Seal(job);
      std::lock_guard<std::mutex> lock(seal_mu_);
      last_seal_status_ = s;
      if (s.ok()) {
        seal_job_.reset();
        maintenance_->Kick();
      } else {
        std::fprintf(stderr, "ariadne: sealing blocks failed: %s (will retry)\n",
                     s.ToString().c_str());
      }
      seal_running_ = false;
      ++seals_finished_;
      seal_cv_.notify_all();
      {
        // The heads may have outgrown the limit while this seal ran: let the commit thread look.
        std::lock_guard<std::mutex> queue_lock(queue_mu_);
        seal_finished_recheck_ = true;
      }
      queue_cv_.notify_one();
    }
  }

  // Writes the sealing heads as block files (those a failed attempt did not write yet), the
  // service-map snapshot, then ONE manifest edit adding the blocks with the WAL segment they cover;
  // then makes the blocks visible and retires the covered WAL segments. REQUIRES: seal thread.
  Status Seal(SealJob* job) {
    // The sealing heads are immutable and only this thread removes them: no lock needed to read.
    std::vector<const BlockBuilder*> heads;
    for (const auto& [env, head] : sealing_heads_) heads.push_back(head.get());
    ARIADNE_RETURN_IF_ERROR(
        WriteSeal(env_, manifest_.get(), options_.data_dir, blocks_dir_, heads, job));
    {
      std::unique_lock<std::shared_mutex> lock(state_mu_);
      for (SealedBlock& b : job->written) {
        stats_block_bytes_ += b.meta.file_bytes;
        stats_block_spans_ += b.meta.num_rows;
        CacheBlock(b.meta.id, b.block);
        blocks_.push_back(BlockEntry{std::move(b.meta), std::move(b.path)});
      }
      sealing_heads_.clear();
      sealing_spans_ = 0;
      blocks_count_ = blocks_.size();
    }
    // The seal is done: what is left to retire is removed at the next open anyway.
    Status retired = RetireAfterSeal(env_, options_.data_dir, wal_dir_, *job);
    if (!retired.ok())
      std::fprintf(stderr, "ariadne: after sealing: %s (the next open removes them)\n",
                   retired.ToString().c_str());
    return Status::Ok();
  }

  // What a reader needs of a block entry: its id, environment, rows, time range, path and section
  // directory (not the bloom filter or statistics, which stay with the block set).
  static BlockEntry ReadRef(const BlockEntry& entry) {
    BlockEntry ref;
    ref.meta.id = entry.meta.id;
    ref.meta.environment = entry.meta.environment;
    ref.meta.num_rows = entry.meta.num_rows;
    ref.meta.min_start_unix_nano = entry.meta.min_start_unix_nano;
    ref.meta.max_end_unix_nano = entry.meta.max_end_unix_nano;
    ref.meta.format_version = entry.meta.format_version;
    ref.meta.sections = entry.meta.sections;
    ref.path = entry.path;
    return ref;
  }

  // Sealed blocks that may hold rows of `spec`: environment, time window, dataset, then the
  // filters against each block's column statistics (query/exec/block_pruning.h). `skipped` counts
  // the blocks left out for any reason but the environment.
  std::vector<BlockEntry> CandidateBlocks(const query::QuerySpec& spec, uint64_t* skipped) {
    std::vector<BlockEntry> candidates;
    uint64_t pruned = 0;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      for (const BlockEntry& entry : blocks_) {
        const BlockMeta& meta = entry.meta;
        if (!spec.environment.empty() && meta.environment != spec.environment) continue;
        if (!query::BlockMayMatch(spec, meta)) {
          ++pruned;
          continue;
        }
        candidates.push_back(ReadRef(entry));
      }
    }
    blocks_pruned_ += pruned;
    if (skipped) *skipped += pruned;
    return candidates;
  }

  // Columns `needed` of a sealed block: from the column cache, else read from its file (only those
  // sections). A block whose file fails its checksums is quarantined and reads as empty, so the
  // caller's answer comes from the other blocks. With keep false a miss is not cached.
  Result<std::shared_ptr<const Block>> LoadBlock(const BlockEntry& entry, const ColumnSet& needed,
                                                 bool keep = true) {
    Result<std::shared_ptr<const Block>> block = column_cache_.Get(
        entry.meta.id, needed,
        [&](const ColumnSet& columns) -> Result<std::shared_ptr<const Block>> {
          if (!entry.meta.sections.empty())
            return ReadBlockColumns(env_, entry.path, entry.meta, columns);
          // A block sealed by this process: its entry has no section directory yet.
          ARIADNE_ASSIGN_OR_RETURN(BlockMeta meta, ReadBlockMeta(env_, entry.path));
          RememberSections(entry.meta.id, meta.sections, meta.format_version);
          return ReadBlockColumns(env_, entry.path, meta, columns);
        },
        keep);
    if (!block.ok()) {
      if (block.status().code() != StatusCode::kDataLoss)
        return block.status().WithContext(entry.path);
      // Damaged on disk: take it out of the block set and answer from the others. Callers see an
      // empty block, so a query over its window still succeeds.
      QuarantineBlock(entry.meta.id, block.status());
      static const std::shared_ptr<const Block> kEmpty = std::make_shared<const Block>();
      return kEmpty;
    }
    return block;
  }

  // Stores the section directory of block `id` in the block set (read once, on first use).
  void RememberSections(uint64_t id, const std::vector<SectionInfo>& sections, uint32_t version) {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    for (BlockEntry& entry : blocks_) {
      if (entry.meta.id != id) continue;
      if (entry.meta.sections.empty()) {
        entry.meta.sections = sections;
        entry.meta.format_version = version;
      }
      return;
    }
  }

  // Removes block `id` from the block set (when it is still there) and quarantines its file.
  void QuarantineBlock(uint64_t id, const Status& why) {
    std::optional<BlockEntry> removed;
    {
      std::unique_lock<std::shared_mutex> lock(state_mu_);
      auto it = std::find_if(blocks_.begin(), blocks_.end(),
                             [&](const BlockEntry& e) { return e.meta.id == id; });
      if (it == blocks_.end()) return;  // another query got there first
      removed = std::move(*it);
      blocks_.erase(it);
      stats_block_bytes_ -= removed->meta.file_bytes;
      stats_block_spans_ -= removed->meta.num_rows;
      blocks_count_ = blocks_.size();
    }
    column_cache_.Erase(id);
    QuarantineBlockFile(removed->path, &removed->meta, why);
  }

  // Moves a damaged block file into quarantine/ and says what became unreadable. `meta` is null
  // when the block's meta itself is unreadable.
  void QuarantineBlockFile(const std::string& path, const BlockMeta* meta, const Status& why) {
    blocks_quarantined_++;
    Result<std::string> moved = quarantine_.MoveIn(path);
    std::string what = "its contents are unknown (the meta is damaged)";
    if (meta != nullptr)
      what = std::to_string(meta->num_rows) + " spans of environment \"" + meta->environment +
             "\" from " + std::to_string(meta->min_start_unix_nano) + " to " +
             std::to_string(meta->max_end_unix_nano) + " (Unix ns) are no longer queryable";
    std::fprintf(stderr, "ariadne: block file %s is damaged (%s): %s; %s\n", path.c_str(),
                 why.ToString().c_str(),
                 moved.ok() ? ("moved to " + *moved).c_str()
                            : ("could not move it aside: " + moved.status().ToString()).c_str(),
                 what.c_str());
  }

  // Keeps a just-sealed block (every column) in the column cache.
  void CacheBlock(uint64_t id, std::shared_ptr<const Block> block) {
    column_cache_.Insert(id, ColumnSet::All(), std::move(block));
  }

  static void SortByStartTime(TraceResult* result) {
    auto& spans = result->spans.spans;
    std::vector<size_t> order(spans.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return spans[a].start_time_unix_nano < spans[b].start_time_unix_nano;
    });
    std::vector<model::Span> sorted;
    std::vector<std::string> envs;
    for (size_t i : order) {
      sorted.push_back(spans[i]);
      envs.push_back(result->environments[i]);
    }
    spans = std::move(sorted);
    result->environments = std::move(envs);
  }

  const EmbeddedStoreOptions options_;
  Env* const env_;  // options_.env, never null
  Quarantine quarantine_;
  std::string wal_dir_;
  std::string blocks_dir_;
  int lock_fd_ = -1;

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable flush_done_cv_;
  std::deque<PendingAppend> queue_;
  size_t queued_spans_ = 0;
  bool closed_ = false;
  bool seal_finished_recheck_ = false;  // set by the seal thread when it finishes
  uint64_t flush_requested_ = 0;
  uint64_t flush_completed_ = 0;
  uint64_t flush_completed_snapshot_ = 0;  // commit thread's copy
  Status flush_status_;
  Status close_status_;
  std::thread commit_thread_;
  WalLog wal_;                                     // commit thread only (and Open/Close)
  uint64_t last_seal_ = 0;                         // commit thread only (and Open)
  std::unique_ptr<Manifest> manifest_;             // set by Open; safe for concurrent use
  std::unique_ptr<BlockMaintenance> maintenance_;  // set by Open

  mutable std::shared_mutex state_mu_;
  std::map<std::string, std::unique_ptr<BlockBuilder>> heads_;
  // Heads handed to the seal thread: immutable, still readable until their blocks are in blocks_.
  std::vector<std::pair<std::string, std::unique_ptr<BlockBuilder>>> sealing_heads_;
  std::vector<BlockEntry> blocks_;
  ServiceGraphBuilder graph_;  // guarded by state_mu_

  ColumnCache column_cache_;
  std::atomic<uint64_t> blocks_pruned_{0};

  std::atomic<uint64_t> spans_appended_{0};
  std::atomic<uint64_t> batches_appended_{0};
  std::atomic<uint64_t> append_errors_{0};
  std::atomic<uint64_t> wal_bytes_{0};
  std::atomic<uint64_t> wal_syncs_{0};
  std::atomic<uint64_t> head_spans_{0};
  std::atomic<uint64_t> sealing_spans_{0};

  // The seal thread. One job at a time; a failed job stays pending and is retried.
  std::thread seal_thread_;
  std::mutex seal_mu_;
  std::condition_variable seal_cv_;
  std::optional<SealJob> seal_job_;  // guarded by seal_mu_
  bool seal_running_ = false;        // guarded by seal_mu_
  bool seal_stop_ = false;           // guarded by seal_mu_
  uint64_t seals_finished_ = 0;      // guarded by seal_mu_
  Status last_seal_status_;          // guarded by seal_mu_
  std::atomic<uint64_t> blocks_count_{0};
  std::atomic<uint64_t> stats_block_bytes_{0};
  std::atomic<uint64_t> stats_block_spans_{0};
  uint64_t replayed_records_ = 0;
  std::atomic<uint64_t> orphans_removed_{0};
  std::atomic<uint64_t> wal_corrupt_records_{0};
  std::atomic<uint64_t> wal_skipped_bytes_{0};
  std::atomic<uint64_t> wal_skipped_spans_{0};
  std::atomic<uint64_t> blocks_quarantined_{0};
};

}  // namespace

Status RunBlockMaintenance(SpanStore* store) {
  auto* embedded = dynamic_cast<EmbeddedStore*>(store);
  if (embedded == nullptr) return Status::InvalidArgument("not an embedded store");
  return embedded->RunMaintenance();
}

Result<std::unique_ptr<SpanStore>> OpenEmbeddedStore(const EmbeddedStoreOptions& options) {
  if (options.data_dir.empty())
    return Status::InvalidArgument("the embedded store needs a data directory (--data-dir)");
  auto store = std::make_unique<EmbeddedStore>(options);
  ARIADNE_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<SpanStore>(std::move(store));
}

}  // namespace ariadne::store::embedded
