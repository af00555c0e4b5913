// EmbeddedStore write path (embedded_store_impl.h): appends are framed as WAL records on the
// caller's thread and queued; the commit thread writes each group to the WAL with one sync, applies
// it to the heads and answers the callers; full heads go to the seal thread, which writes block
// files and one manifest edit (seal_writer.h) and then makes the blocks visible.
#include <cstdio>

#include "columnar/batch_codec.h"
#include "columnar/coding.h"
#include "store/embedded/embedded_store_impl.h"
#include "store/embedded/wal.h"

namespace ariadne::store::embedded {

using columnar::BlockBuilder;
using columnar::EncodeSpanBatch;
using columnar::PutString;

void EmbeddedStore::AppendAsync(std::string environment, model::SpanBatch batch,
                                AppendCallback done) {
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
    MutexLock lock(&queue_mu_);
    if (closed_) {
      pending.done(Status::Unavailable("store is shutting down"));
      return;
    }
    if (queued_spans_ + spans > options_.max_pending_spans) {
      append_errors_++;
      refused_behind_++;
      pending.done(
          Status::ResourceExhausted("the store is behind: " + std::to_string(queued_spans_) +
                                    " spans are waiting to be written; retry shortly"));
      return;
    }
    if (options_.max_head_spans_while_sealing != 0 && sealing_spans_.load() != 0 &&
        head_spans_.load() + queued_spans_ + spans > options_.max_head_spans_while_sealing) {
      append_errors_++;
      refused_sealing_++;
      pending.done(Status::ResourceExhausted(
          "the store is sealing a full head and the next one is full too; retry shortly"));
      return;
    }
    const size_t record_bytes = pending.framed.capacity();
    const uint64_t waiting_bytes = wal_buffer_bytes_.load();
    if (options_.max_wal_buffer_bytes != 0 && waiting_bytes != 0 &&
        waiting_bytes + record_bytes > options_.max_wal_buffer_bytes) {
      append_errors_++;
      refused_wal_buffer_++;
      pending.done(Status::ResourceExhausted(
          "the store's WAL buffers are full (" + std::to_string(waiting_bytes) +
          " bytes wait for the group commit; the --memory-limit ingest share bounds them); retry "
          "shortly"));
      return;
    }
    queued_spans_ += spans;
    wal_buffer_bytes_ += record_bytes;
    queue_.push_back(std::move(pending));
  }
  queue_cv_.notify_one();
}

Status EmbeddedStore::Flush() {
  MutexLock lock(&queue_mu_);
  if (closed_) return Status::FailedPrecondition("store is closed");
  uint64_t ticket = ++flush_requested_;
  queue_cv_.notify_one();
  flush_done_cv_.wait(queue_mu_,
                      [&]() ARIADNE_REQUIRES(queue_mu_) { return flush_completed_ >= ticket; });
  return flush_status_;
}

void EmbeddedStore::ApplyToHead(const std::string& environment, const model::SpanBatch& batch) {
  WriterMutexLock lock(&state_mu_);
  auto& head = heads_[environment];
  if (!head) head = std::make_unique<BlockBuilder>(environment);
  head->Append(batch);
  graph_.Observe(environment, batch, WallClockNano());
  head_spans_ += batch.spans.size();
  if (options_.trace_index) trace_index_.NoteBatch(environment, batch);
}

void EmbeddedStore::CommitLoop() {
  std::vector<PendingAppend> work;
  std::string framed;
  for (;;) {
    uint64_t flush_ticket = 0;
    bool closing = false;
    {
      MutexLock lock(&queue_mu_);
      queue_cv_.wait(queue_mu_, [&]() ARIADNE_REQUIRES(queue_mu_) {
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
      MutexLock lock(&queue_mu_);
      flush_status_ = s;
      flush_completed_ = flush_ticket;
      flush_completed_snapshot_ = flush_ticket;
      flush_done_cv_.notify_all();
    } else if (head_spans_ >= options_.head_max_spans) {
      StartSeal();  // in the background; appends go on into fresh heads
    }
    if (closing) {
      MutexLock lock(&queue_mu_);
      if (queue_.empty()) return;
    }
  }
}

void EmbeddedStore::CommitGroup(std::vector<PendingAppend>* work, std::string* framed) {
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
    MutexLock lock(&queue_mu_);
    queued_spans_ -= spans;
  }
  // The group's records leave the WAL buffers before any append is answered: a client that sends
  // its next request as soon as this one is acknowledged must not find them still counted (it was
  // refused with 503 "WAL buffers are full" with nothing else in flight).
  uint64_t records = 0;
  for (const PendingAppend& p : *work) records += p.framed.capacity();
  wal_buffer_bytes_ -= records;
  for (PendingAppend& p : *work) p.done(status);
  work->clear();
  // The group's concatenation keeps its capacity for the next group: counted, not given back.
  commit_buffer_bytes_ = framed->capacity();
}

bool EmbeddedStore::StartSeal() {
  MutexLock seal_lock(&seal_mu_);
  if (seal_running_) return false;
  if (seal_job_) {  // a failed job: retry it as it was
    seal_running_ = true;
    seal_cv_.notify_all();
    return true;
  }
  {
    ReaderMutexLock lock(&state_mu_);
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
    WriterMutexLock lock(&state_mu_);
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

Status EmbeddedStore::WaitForSeal() {
  MutexLock lock(&seal_mu_);
  seal_cv_.wait(seal_mu_, [&]() ARIADNE_REQUIRES(seal_mu_) { return !seal_running_; });
  return seal_job_ ? last_seal_status_ : Status::Ok();
}

void EmbeddedStore::SealLoop() {
  for (;;) {
    SealJob* job = nullptr;  // only this thread touches it while seal_running_
    {
      MutexLock lock(&seal_mu_);
      seal_cv_.wait(seal_mu_,
                    [&]() ARIADNE_REQUIRES(seal_mu_) { return seal_stop_ || seal_running_; });
      if (!seal_running_) return;
      job = &*seal_job_;
    }
    Status s = Seal(job);
    MutexLock lock(&seal_mu_);
    last_seal_status_ = s;
    if (s.ok()) {
      seal_job_.reset();
      seal_copy_bytes_ = 0;  // the job held the sealed copies
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
      MutexLock queue_lock(&queue_mu_);
      seal_finished_recheck_ = true;
    }
    queue_cv_.notify_one();
  }
}

Status EmbeddedStore::Seal(SealJob* job) {
  // The sealing heads are immutable and only this thread removes them: the builders stay valid
  // after the lock is released.
  std::vector<const BlockBuilder*> heads;
  {
    ReaderMutexLock lock(&state_mu_);
    for (const auto& [env, head] : sealing_heads_) heads.push_back(head.get());
  }
  SealTraceHooks hooks;
  hooks.have_sealed_spans = [this](const std::string& environment,
                                   const std::vector<model::TraceId>& ids) {
    return HaveSealedSpans(environment, ids);
  };
  hooks.persist_splits = [this](const std::vector<SplitTrace>& split) {
    // Only the seal thread (and open, before it starts) writes the list. Not at all when open
    // could not decide every side file (its presence would say they are). Written when the seal
    // adds to it, or when traces left it since the last write (found gone: retention), so it
    // shrinks; a drop that races this write only leaves an entry too many until the next.
    const uint64_t drops = trace_index_.split_drops();
    if (split_list_blocked_ ||
        (split.empty() && split_list_written_ && drops == split_drops_written_)) {
      if (!split.empty()) (void)trace_index_.AddSplits(split);
      return Status::Ok();
    }
    ARIADNE_RETURN_IF_ERROR(
        WriteTraceSplitFile(env_, options_.data_dir, trace_index_.AddSplits(split)));
    split_list_written_ = true;
    split_drops_written_ = drops;
    return Status::Ok();
  };
  ARIADNE_RETURN_IF_ERROR(WriteSeal(env_, manifest_.get(), options_.data_dir, blocks_dir_, heads,
                                    job, options_.trace_index ? &hooks : nullptr,
                                    &seal_copy_bytes_));
  std::vector<std::string> environments;
  for (const SealedBlock& b : job->written) environments.push_back(b.meta.environment);
  {
    WriterMutexLock lock(&state_mu_);
    for (SealedBlock& b : job->written) {
      stats_block_bytes_ += b.meta.file_bytes;
      stats_block_spans_ += b.meta.num_rows;
      // Not put into the column cache: ingest alone must not fill it (and evict the columns
      // queries use); the first query over the block reads it from the file.
      blocks_.push_back(BlockEntry{std::move(b.meta), std::move(b.path)});
    }
    sealing_heads_.clear();
    sealing_spans_ = 0;
    blocks_count_ = blocks_.size();
  }
  // The blocks are listed: the traces they hold whole need no resident entry any more.
  for (size_t i = 0; i < job->written.size(); ++i)
    trace_index_.Sealed(environments[i], job->written[i].parts, job->written[i].whole);
  // The seal is done: what is left to retire is removed at the next open anyway.
  Status retired = RetireAfterSeal(env_, options_.data_dir, wal_dir_, *job);
  if (!retired.ok())
    std::fprintf(stderr, "ariadne: after sealing: %s (the next open removes them)\n",
                 retired.ToString().c_str());
  return Status::Ok();
}

}  // namespace ariadne::store::embedded
