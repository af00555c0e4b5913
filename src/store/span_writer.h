// SpanWriter: the write role of the store seam (span_store.h) — durable append.
//
// Durability: an append is reported OK only once the batch would survive a crash of this process
// (embedded: the WAL is fsynced; ClickHouse: the INSERT was answered 200); the pipeline
// acknowledges clients on that signal and not before.
// Errors: kResourceExhausted (disk budget spent or the write queue is full: shed load and tell the
// client to retry later), kUnavailable (an I/O failure or the database is unreachable; a retry may
// succeed), kInvalidArgument (the batch itself is bad; never retry).
// Threads: every method may be called concurrently from any thread.
#pragma once

#include <functional>
#include <string>

#include "common/status.h"
#include "model/span_batch.h"

namespace ariadne::store {

class SpanWriter {
 public:
  using AppendCallback = std::function<void(Status)>;

  virtual ~SpanWriter() = default;

  // Stores `batch` under `environment` and calls `done` exactly once, from an internal thread, when
  // the batch is durable (OK) or has failed (error). Never blocks for the durability wait.
  virtual void AppendAsync(std::string environment, model::SpanBatch batch,
                           AppendCallback done) = 0;

  // Blocking form of AppendAsync.
  Status Append(std::string environment, model::SpanBatch batch);
};

}  // namespace ariadne::store
