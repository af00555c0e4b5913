// SpanStore: the single boundary between the pipeline (writes) and the query side (reads), split
// by role (as Tempo separates its writer, reader and querier) so callers can depend on the part
// they use:
//   SpanWriter   (span_writer.h)   durable append
//   TraceReader  (trace_reader.h)  trace by id (with an optional time hint), trace search
//   SpanQuerier  (span_querier.h)  aggregate queries, BubbleUp, columns, service graph, services
//   StoreAdmin   (store_admin.h)   Flush / Stats, not part of the seam: Admin() offers it when the
//                                  engine has one (embedded), nullptr otherwise (ClickHouse)
// Engines: embedded/ (default, our own WAL + columnar blocks) and clickhouse/ (docs/clickhouse.md).
//
// Threads: every method may be called concurrently from any thread.
#pragma once

#include "common/status.h"
#include "store/span_querier.h"
#include "store/span_writer.h"
#include "store/store_admin.h"
#include "store/trace_reader.h"

namespace ariadne::store {

class SpanStore : public SpanWriter, public TraceReader, public SpanQuerier {
 public:
  ~SpanStore() override = default;

  // The engine's operator role (Flush, Stats), or nullptr when it has none. Owned by the store.
  virtual StoreAdmin* Admin() { return nullptr; }

  // Flushes and stops background work; later calls fail. Idempotent.
  virtual Status Close() = 0;

  // OK when the store takes appends and answers reads. An engine on a server (ClickHouse) that
  // could not reach it yet answers kUnavailable with the reason while it keeps trying; GET
  // /readyz reports it.
  virtual Status Ready() const { return Status::Ok(); }
};

}  // namespace ariadne::store
