// Reads of one trace's rows from a sealed block's column parts (store/embedded/trace_rows.h)
// against the path they replace: the column cache's assembled Block (ColumnCache::Get) and
// Block::Materialize over the trace's rows, the oracle. Over many random traces of blocks whose
// parts are narrowed (start times as offsets with exceptions, end times as durations, byte
// indices, dictionary codes, 16- and 32-bit attribute values, keys on every row) and blocks where nothing can be narrowed; every attribute type, events and links with
// attributes, several resources and scopes; with a cache that keeps everything, one too small to
// keep anything, and one holding some of the units. The spans must be identical field for field,
// tables and order included. Then through EmbeddedStore: traces read back from sealed blocks equal
// what the head answered before the seal (both cache sizes), and a block whose other sections are
// damaged is quarantined while the trace-id section still reads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "columnar/block.h"
#include "common/env.h"
#include "store/embedded/column_cache.h"
#include "store/embedded/embedded_store.h"
#include "store/embedded/trace_rows.h"
#include "tests/common/random_spans.h"
#include "tests/common/span_equality.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

using columnar::Block;
using columnar::BlockBuilder;
using columnar::BlockMeta;
using columnar::ColumnSet;

constexpr uint64_t kBase = 1'700'000'000'000'000'000ULL;

// Random traces of 1–12 spans with every column filled. `wide`: more than 256 span names and
// resources and many spans ending before they start, so no fixed unit can be narrowed.
model::SpanBatch MakeBatch(uint64_t seed, size_t traces, bool wide) {
  std::mt19937_64 rng(seed);
  model::SpanBatch b;
  auto text = [&](const std::string& s) { return b.arena.Copy(s); };
  const int services = wide ? 300 : 8;
  for (int r = 0; r < services; ++r) {
    const uint32_t begin = static_cast<uint32_t>(b.attributes.size());
    b.attributes.push_back(
        {text("service.name"), model::Value::String(text("svc-" + std::to_string(r)))});
    b.attributes.push_back({text("host.id"), model::Value::Int(r * 7)});
    b.resources.push_back(model::Resource{{begin, 2}, static_cast<uint32_t>(r % 2), {}});
  }
  for (int k = 0; k < 3; ++k) {
    const uint32_t begin = static_cast<uint32_t>(b.attributes.size());
    b.attributes.push_back({text("scope.k"), model::Value::Bool(k == 1)});
    b.scopes.push_back(model::Scope{text("lib-" + std::to_string(k)),
                                    text("1." + std::to_string(k)),
                                    {begin, static_cast<uint32_t>(k % 2)},
                                    0,
                                    {}});
  }
  const int names = wide ? 400 : 40;
  for (size_t t = 0; t < traces; ++t) {
    model::TraceId trace;
    const uint64_t hi = rng(), lo = rng() | 1;
    std::memcpy(trace.bytes.data(), &hi, 8);
    std::memcpy(trace.bytes.data() + 8, &lo, 8);
    const int spans = 1 + static_cast<int>(rng() % 12);
    std::vector<model::SpanId> ids;
    for (int i = 0; i < spans; ++i) {
      model::Span s;
      s.trace_id = trace;
      const uint64_t sid = rng() | 1;
      std::memcpy(s.span_id.bytes.data(), &sid, 8);
      if (i > 0) s.parent_span_id = ids[rng() % ids.size()];
      ids.push_back(s.span_id);
      s.resource_index = static_cast<uint32_t>(rng() % services);
      s.scope_index = static_cast<uint32_t>(rng() % 3);
      s.name = text("op-" + std::to_string(rng() % names));
      s.kind = static_cast<model::SpanKind>(rng() % 6);
      s.status_code = static_cast<model::StatusCode>(rng() % 3);
      if (s.status_code == model::StatusCode::kError)
        s.status_message = text("failed-" + std::to_string(rng() % 3));
      if (rng() % 4 == 0) s.trace_state = text("k=v" + std::to_string(rng() % 3));
      s.start_time_unix_nano = kBase + t * 1'000'000 + static_cast<uint64_t>(i) * 1000;
      // A few starts 2^32 ns or more past the block's first: exceptions of narrowed start times.
      if (rng() % 500 == 0) s.start_time_unix_nano += 10'000'000'000ULL;
      s.end_time_unix_nano = s.start_time_unix_nano + rng() % 50'000'000;
      const uint64_t odd = rng() % 1000;
      if (odd < (wide ? 100u : 5u)) s.end_time_unix_nano = s.start_time_unix_nano - 5;
      if (odd >= 995) s.end_time_unix_nano = s.start_time_unix_nano + (6ULL << 30);
      s.flags = static_cast<uint32_t>(rng() % 3);
      s.dropped_attributes_count = static_cast<uint32_t>(rng() % 2);
      s.dropped_events_count = static_cast<uint32_t>(rng() % 2);
      s.dropped_links_count = static_cast<uint32_t>(rng() % 2);
      s.attributes.begin = static_cast<uint32_t>(b.attributes.size());
      auto add = [&](const char* key, model::Value v) { b.attributes.push_back({text(key), v}); };
      if (rng() % 3 != 0) add("flag", model::Value::Bool(rng() % 2));
      if (rng() % 2 == 0) add("code", model::Value::Int(200 + static_cast<int64_t>(rng() % 4)));
      add("big", model::Value::Int(rng() % 50 == 0 ? 70000 : static_cast<int64_t>(rng() % 9)));
      if (rng() % 2 == 0) {
        add("mixed", model::Value::Int(5));
      } else {
        add("mixed", model::Value::String(text("five")));
      }
      if (rng() % 3 == 0) add("ratio", model::Value::Double(static_cast<double>(rng() % 1000) / 7));
      if (rng() % 5 == 0) add("blob", model::Value::Bytes(text(std::string("\0\x01z", 3))));
      if (rng() % 5 == 0) add("list", model::Value::Array(text("[\"a\",1]")));
      if (rng() % 5 == 0) add("kv", model::Value::KvList(text("{\"k\":\"v\"}")));
      if (rng() % 2 == 0) add("user", model::Value::String(text("u" + std::to_string(rng()))));
      if (rng() % 7 == 0) add("nothing", model::Value());
      s.attributes.count = static_cast<uint32_t>(b.attributes.size()) - s.attributes.begin;
      const uint32_t events = rng() % 3 == 0 ? 1 + static_cast<uint32_t>(rng() % 2) : 0;
      s.events = {static_cast<uint32_t>(b.events.size()), events};
      for (uint32_t e = 0; e < events; ++e) {
        const uint32_t begin = static_cast<uint32_t>(b.attributes.size());
        b.attributes.push_back(
            {text("exception.message"), model::Value::String(text("boom" + std::to_string(e)))});
        b.events.push_back(model::Event{
            s.start_time_unix_nano + e, text("exception"), {begin, 1}, static_cast<uint32_t>(e)});
      }
      if (rng() % 5 == 0) {
        model::Link l;
        l.trace_id = trace;
        l.span_id = ids[0];
        l.trace_state = text("lk=1");
        l.flags = 1;
        const uint32_t begin = static_cast<uint32_t>(b.attributes.size());
        b.attributes.push_back({text("link.kind"), model::Value::Int(3)});
        l.attributes = {begin, 1};
        s.links = {static_cast<uint32_t>(b.links.size()), 1};
        b.links.push_back(l);
      }
      b.spans.push_back(s);
    }
  }
  return b;
}

std::string ValueText(const model::Value& v) {
  std::string out = std::to_string(static_cast<int>(v.type)) + ":";
  switch (v.type) {
    case model::ValueType::kEmpty:
      return out;
    case model::ValueType::kBool:
      return out + (v.bool_value ? "true" : "false");
    case model::ValueType::kInt:
      return out + std::to_string(v.int_value);
    case model::ValueType::kDouble: {
      uint64_t bits = 0;
      std::memcpy(&bits, &v.double_value, 8);
      return out + std::to_string(bits);
    }
    default:
      return out + std::string(v.str);
  }
}

std::string RangeText(model::Range r) {
  return "[" + std::to_string(r.begin) + "+" + std::to_string(r.count) + "]";
}

// Everything in `b`, in order: the batches must be identical, tables and indices included.
std::string Render(const model::SpanBatch& b) {
  std::string out;
  for (const model::Span& s : b.spans) {
    out += "span " + s.trace_id.ToHex() + " " + s.span_id.ToHex() + " " + s.parent_span_id.ToHex() +
           " " + std::string(s.trace_state) + "|" + std::string(s.name) + "|" +
           std::to_string(static_cast<int>(s.kind)) + " " +
           std::to_string(static_cast<int>(s.status_code)) + " " + std::string(s.status_message) +
           "|" + std::to_string(s.start_time_unix_nano) + " " +
           std::to_string(s.end_time_unix_nano) + " " + std::to_string(s.flags) + " " +
           std::to_string(s.dropped_attributes_count) + " " +
           std::to_string(s.dropped_events_count) + " " + std::to_string(s.dropped_links_count) +
           " r" + std::to_string(s.resource_index) + " s" + std::to_string(s.scope_index) + " a" +
           RangeText(s.attributes) + " e" + RangeText(s.events) + " l" + RangeText(s.links) + "\n";
  }
  for (const model::Resource& r : b.resources)
    out += "resource " + RangeText(r.attributes) + " " +
           std::to_string(r.dropped_attributes_count) + " " + std::string(r.schema_url) + "\n";
  for (const model::Scope& s : b.scopes)
    out += "scope " + std::string(s.name) + " " + std::string(s.version) + " " +
           RangeText(s.attributes) + "\n";
  for (const model::KeyValue& kv : b.attributes)
    out += "attribute " + std::string(kv.key) + "=" + ValueText(kv.value) + "\n";
  for (const model::Event& e : b.events)
    out += "event " + std::to_string(e.time_unix_nano) + " " + std::string(e.name) + " " +
           RangeText(e.attributes) + " " + std::to_string(e.dropped_attributes_count) + "\n";
  for (const model::Link& l : b.links)
    out += "link " + l.trace_id.ToHex() + " " + l.span_id.ToHex() + " " +
           std::string(l.trace_state) + " " + RangeText(l.attributes) + " " +
           std::to_string(l.flags) + "\n";
  return out;
}

struct FileBlock {
  uint64_t id = 0;
  std::string path;
  BlockMeta meta;
  std::vector<model::TraceId> traces;  // distinct, in block order
};

FileBlock WriteBlock(const std::string& dir, uint64_t id, size_t traces, bool wide) {
  BlockBuilder builder("prod");
  builder.Append(MakeBatch(id, traces, wide));
  std::shared_ptr<const Block> sealed = builder.Seal();
  BlockMeta meta = sealed->ComputeMeta();
  meta.id = id;
  FileBlock f;
  f.id = id;
  f.path = dir + "/" + std::to_string(id) + ".blk";
  EXPECT_TRUE(WriteFileAtomically(Env::Default(), f.path, EncodeBlockFile(*sealed, meta)).ok());
  f.meta = *columnar::ReadBlockMeta(Env::Default(), f.path);
  for (size_t r = 0; r < sealed->num_rows; ++r)
    if (r == 0 || !(sealed->trace_id[r] == sealed->trace_id[r - 1]))
      f.traces.push_back(sealed->trace_id[r]);
  return f;
}

ColumnCache::Loader LoaderOf(const FileBlock& f, int* loads) {
  return [&f, loads](const ColumnSet& c) {
    ++*loads;
    return columnar::ReadBlockColumns(Env::Default(), f.path, f.meta, c);
  };
}

// Some traces of `f` (its first and last, then random ones) and ids it does not hold.
std::vector<model::TraceId> Sample(const FileBlock& f, std::mt19937_64* rng, size_t n) {
  std::vector<model::TraceId> ids = {f.traces.front(), f.traces.back()};
  for (size_t i = 0; i < n; ++i) ids.push_back(f.traces[(*rng)() % f.traces.size()]);
  for (int i = 0; i < 10; ++i) {
    model::TraceId absent;
    const uint64_t a = (*rng)(), b = (*rng)();
    std::memcpy(absent.bytes.data(), &a, 8);
    std::memcpy(absent.bytes.data() + 8, &b, 8);
    ids.push_back(absent);
  }
  return ids;
}

// For each id: TraceRows over GetParts against Block::Materialize over Get (the oracle), both on
// `cache`. Returns how many parts GetParts found narrowed (over all lookups).
size_t ExpectSameAsAssembled(ColumnCache* cache, const FileBlock& f, const ColumnSet& columns,
                             const std::vector<model::TraceId>& ids) {
  int loads = 0;
  size_t narrowed = 0;
  for (const model::TraceId& id : ids) {
    SCOPED_TRACE(id.ToHex());
    Result<BlockColumnParts> parts = cache->GetParts(f.id, columns, LoaderOf(f, &loads));
    EXPECT_TRUE(parts.ok()) << parts.status().ToString();
    if (!parts.ok()) return narrowed;
    for (const auto& part : parts->cached)
      narrowed += part && part->narrowed != CachedPart::Narrowed::kNone;
    TraceRows rows(*parts);
    const auto [begin, end] = rows.RowsOfTrace(id);
    model::SpanBatch got;
    rows.Materialize(begin, end, &got);

    Result<std::shared_ptr<const Block>> block = cache->Get(f.id, columns, LoaderOf(f, &loads));
    EXPECT_TRUE(block.ok()) << block.status().ToString();
    if (!block.ok()) return narrowed;
    model::SpanBatch want;
    (*block)->Materialize((*block)->SortedRowsOfTrace(id), &want);
    EXPECT_EQ(end - begin, want.spans.size());
    EXPECT_EQ(Render(got), Render(want));
  }
  return narrowed;
}

ColumnSet FixedAndKeys(std::vector<std::string> keys) {
  ColumnSet c;
  c.fixed = ColumnSet::kAllFixed;
  c.attributes.insert(keys.begin(), keys.end());
  return c;
}

TEST(TraceRowsTest, TraceRowsEqualTheAssembledBlockWhetherPartsAreCachedNarrowedOrRead) {
  testing::TempDir dir;
  std::mt19937_64 rng(7);
  const FileBlock narrow = WriteBlock(dir.path(), 1, 1500, /*wide=*/false);
  const FileBlock wide = WriteBlock(dir.path(), 2, 1500, /*wide=*/true);
  const ColumnSet keys = FixedAndKeys({"flag", "code", "big", "mixed", "ratio", "user", "absent"});
  for (const FileBlock* f : {&narrow, &wide}) {
    SCOPED_TRACE(f == &narrow ? "narrowable block" : "wide block");
    const std::vector<model::TraceId> ids = Sample(*f, &rng, 80);
    {
      SCOPED_TRACE("cache that keeps everything, every attribute");
      ColumnCache cache(1ULL << 30);
      const size_t narrowed = ExpectSameAsAssembled(&cache, *f, ColumnSet::All(), ids);
      // The first lookup read the file; every later one took the kept parts.
      // Narrowed: start, end, resource/scope, and the three dictionaries; in the wide block only
      // start and the status message's and trace state's dictionaries.
      EXPECT_EQ(narrowed, (f == &narrow ? 6u : 3u) * (ids.size() - 1));
    }
    {
      SCOPED_TRACE("cache that keeps everything, some attribute keys (narrowed ones too)");
      ColumnCache cache(1ULL << 30);
      ExpectSameAsAssembled(&cache, *f, keys, ids);
    }
    {
      SCOPED_TRACE("cache too small to keep anything");
      ColumnCache cache(1);
      EXPECT_EQ(ExpectSameAsAssembled(&cache, *f, ColumnSet::All(), ids), 0u);
      EXPECT_EQ(ExpectSameAsAssembled(&cache, *f, keys, ids), 0u);
      EXPECT_EQ(cache.Stats().entries, 0u);
    }
    {
      SCOPED_TRACE("some units cached, the rest read");
      int loads = 0;
      ColumnSet some;
      some.fixed = ColumnSet::kEnd | ColumnSet::kName | ColumnSet::kResourceScope;
      some.attributes = {"flag", "mixed"};
      ColumnCache mixed(1ULL << 30);
      ASSERT_TRUE(mixed.Get(f->id, some, LoaderOf(*f, &loads)).ok());
      Result<BlockColumnParts> parts = mixed.GetParts(f->id, keys, LoaderOf(*f, &loads));
      ASSERT_TRUE(parts.ok());
      ASSERT_NE(parts->loaded, nullptr);
      size_t cached = 0;
      for (const auto& part : parts->cached) cached += part != nullptr;
      EXPECT_EQ(cached, 6u);  // kStart (kEnd needs it), kEnd, kName, kResourceScope, flag, mixed
      TraceRows rows(*parts);
      std::shared_ptr<const Block> oracle =
          *columnar::ReadBlockColumns(Env::Default(), f->path, f->meta, keys);
      for (const model::TraceId& id : ids) {
        const auto [begin, end] = rows.RowsOfTrace(id);
        model::SpanBatch got;
        rows.Materialize(begin, end, &got);
        model::SpanBatch want;
        oracle->Materialize(oracle->SortedRowsOfTrace(id), &want);
        ASSERT_EQ(Render(got), Render(want)) << id.ToHex();
      }
    }
  }
}

// ---- Through the store ----

std::unique_ptr<EmbeddedSpanStore> Open(const std::string& dir, uint64_t cache_bytes) {
  EmbeddedStoreOptions options;
  options.data_dir = dir;
  options.sync = false;
  options.column_cache_bytes = cache_bytes;
  auto store = OpenEmbeddedStore(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

void ExpectSameTrace(const TraceResult& a, const TraceResult& b) {
  ASSERT_EQ(a.spans.spans.size(), b.spans.spans.size());
  EXPECT_EQ(a.environments, b.environments);
  for (size_t i = 0; i < a.spans.spans.size(); ++i)
    testing::ExpectSameSpan(a.spans, a.spans.spans[i], b.spans, b.spans.spans[i]);
}

TEST(TraceRowsTest, SealedTracesReadBackAsTheHeadAnsweredThem) {
  for (const uint64_t cache_bytes : {uint64_t{256} << 20, uint64_t{1}}) {
    SCOPED_TRACE("column cache bytes " + std::to_string(cache_bytes));
    testing::TempDir dir;
    auto store = Open(dir.path(), cache_bytes);
    ASSERT_NE(store, nullptr);
    testing::RandomSpanOptions options;
    options.event_probability = 0.3;
    options.link_probability = 0.2;
    testing::RandomSpans gen(11, options);
    std::vector<model::TraceId> ids;
    std::vector<TraceResult> from_head;
    for (int batch = 0; batch < 3; ++batch) {
      model::SpanBatch spans = gen.Batch(3000);
      std::set<model::TraceId> seen;
      for (const model::Span& s : spans.spans)
        if (seen.insert(s.trace_id).second && seen.size() % 7 == 0) ids.push_back(s.trace_id);
      ASSERT_TRUE(store->Append(batch == 1 ? "staging" : "prod", std::move(spans)).ok());
    }
    for (const model::TraceId& id : ids) {
      Result<TraceResult> trace = store->GetTrace(id);
      ASSERT_TRUE(trace.ok()) << trace.status().ToString();
      from_head.push_back(std::move(*trace));
    }
    ASSERT_TRUE(store->Flush().ok());
    ASSERT_GE(store->Stats().blocks, 2u);
    for (int round = 0; round < 2; ++round) {  // the second round from the cached parts
      for (size_t i = 0; i < ids.size(); ++i) {
        Result<TraceResult> trace = store->GetTrace(ids[i]);
        ASSERT_TRUE(trace.ok()) << trace.status().ToString();
        ExpectSameTrace(*trace, from_head[i]);
      }
    }
    // An environment the trace is not in, and a trace that is nowhere.
    EXPECT_TRUE(store->GetTrace(ids[0], "nowhere").status().IsNotFound());
    model::TraceId absent;
    absent.bytes[0] = 1;
    EXPECT_TRUE(store->GetTrace(absent).status().IsNotFound());
  }
}

// The trace-id section reads, another section of the block is damaged: the read of the trace's
// rows quarantines the block and the trace reads as absent, the other block's traces still read.
TEST(TraceRowsTest, BlockDamagedPastItsTraceIdsIsQuarantinedByATraceRead) {
  testing::TempDir dir;
  testing::RandomSpans gen(12);
  model::SpanBatch first = gen.Batch(500), second = gen.Batch(500);
  const model::TraceId damaged_trace = first.spans[0].trace_id;
  const model::TraceId intact_trace = second.spans[0].trace_id;
  {
    auto store = Open(dir.path(), 256 << 20);
    ASSERT_TRUE(store->Append("prod", std::move(first)).ok());
    ASSERT_TRUE(store->Flush().ok());
    ASSERT_TRUE(store->Append("prod", std::move(second)).ok());
    ASSERT_TRUE(store->Flush().ok());
  }
  std::vector<std::string> blocks;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/blocks"))
    if (e.path().extension() == ".blk") blocks.push_back(e.path().string());
  std::sort(blocks.begin(), blocks.end());
  ASSERT_EQ(blocks.size(), 2u);
  Result<BlockMeta> meta = columnar::ReadBlockMeta(Env::Default(), blocks[0]);
  ASSERT_TRUE(meta.ok());
  uint64_t offset = 0;
  for (const columnar::SectionInfo& section : meta->sections)
    if (section.name == "span_id") offset = section.offset + section.compressed / 2;
  ASSERT_NE(offset, 0u);
  {
    std::fstream f(blocks[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(c ^ 0x20));
  }
  auto store = Open(dir.path(), 256 << 20);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->GetTrace(damaged_trace).status().IsNotFound());
  EXPECT_EQ(store->Stats().blocks_quarantined, 1u);
  EXPECT_EQ(store->Stats().blocks, 1u);
  EXPECT_TRUE(store->GetTrace(intact_trace).ok());
}

}  // namespace
}  // namespace ariadne::store::embedded
