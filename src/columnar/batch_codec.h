// Binary serialization of a model::SpanBatch, used for WAL records and the events/links column of
// block files. The format (docs/formats/wal.md) is self-delimiting and versioned by its first byte.
//
// DecodeSpanBatch returns a batch whose string_views point into `data`; the caller must keep
// `data` alive as long as the batch (usually via batch.arena.Retain).
//
// Threads: reentrant.
#pragma once

#include <string>
#include <string_view>

#include "columnar/coding.h"
#include "common/status.h"
#include "model/span_batch.h"

namespace ariadne::columnar {

void EncodeSpanBatch(const model::SpanBatch& batch, std::string* out);
Result<model::SpanBatch> DecodeSpanBatch(std::string_view data);

// Attribute lists, events and links on their own, for block columns. `attributes` receives the
// decoded key/values; the returned Range points into it.
void EncodeAttributes(const model::SpanBatch& batch, model::Range range, std::string* out);
bool DecodeAttributes(ByteReader* in, std::vector<model::KeyValue>* attributes,
                      model::Range* range);

// A span's events then its links (the `events_links` section of block files uses it per row).
// DecodeEventsAndLinks appends to batch->events/links/attributes with views into the input.
void EncodeEventsAndLinks(const model::SpanBatch& batch, model::Range events, model::Range links,
                          std::string* out);
bool DecodeEventsAndLinks(ByteReader* in, model::SpanBatch* batch, model::Range* events,
                          model::Range* links);

}  // namespace ariadne::columnar
