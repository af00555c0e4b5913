// Block format 5 (docs/formats/block.md): span ids in byte planes and string attribute values coded
// against the span name. Round trips through EncodeBlockFile / DecodeBlockFile and through
// ReadBlockColumns (which must read the "name" section for such an attribute), with edge cases.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "columnar/block.h"
#include "columnar/coding.h"
#include "common/env.h"
#include "tests/common/random_spans.h"
#include "tests/common/span_equality.h"
#include "tests/store/store_test_util.h"

namespace ariadne::columnar {
namespace {

// Every span of `original` comes back from `block`, field for field.
void ExpectHolds(const Block& block, const model::SpanBatch& original) {
  std::vector<uint32_t> all(block.num_rows);
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  model::SpanBatch out;
  block.Materialize(all, &out);
  ASSERT_EQ(out.spans.size(), original.spans.size());
  std::map<std::pair<model::TraceId, model::SpanId>, size_t> index;
  for (size_t i = 0; i < original.spans.size(); ++i)
    index[{original.spans[i].trace_id, original.spans[i].span_id}] = i;
  for (const model::Span& s : out.spans) {
    auto it = index.find({s.trace_id, s.span_id});
    ASSERT_NE(it, index.end());
    testing::ExpectSameSpan(original, original.spans[it->second], out, s);
  }
}

struct Options {
  size_t spans = 1000;
  size_t names = 10;
  size_t exceptions_every = 0;  // every k-th span's route is not its name's (0: none)
  bool empty_route = false;     // the route of name 0 is ""
  bool mixed_types = false;     // every 7th span's route is an int
  bool max_ids = false;         // span ids all 0xFF bytes, parents absent from the block
};

// Spans whose "http.route" follows from the span name (route k for "op-k").
model::SpanBatch Spans(const Options& o) {
  model::SpanBatch b;
  auto text = [&](std::string_view s) { return b.arena.Copy(s); };
  b.attributes.push_back({text("service.name"), model::Value::String(text("svc"))});
  b.resources.push_back(model::Resource{{0, 1}, 0, {}});
  b.scopes.push_back(model::Scope{text("scope"), text("1"), {0, 0}, 0, {}});
  for (size_t i = 0; i < o.spans; ++i) {
    model::Span s;
    s.trace_id.bytes[0] = static_cast<uint8_t>(1 + i / 5);
    s.trace_id.bytes[15] = static_cast<uint8_t>(i / 5 >> 8);
    uint64_t sid = o.max_ids ? ~uint64_t{0} - i : 0x1000 + i * 7919;
    std::memcpy(s.span_id.bytes.data(), &sid, 8);
    if (o.max_ids) {
      uint64_t parent = 0xABCDEF00 + i;  // not a span of the block: stored explicitly
      std::memcpy(s.parent_span_id.bytes.data(), &parent, 8);
    } else if (i % 5 != 0) {
      s.parent_span_id = b.spans[i - 1].span_id;
    }
    const size_t name = i * 31 % o.names;
    s.name = text("op-" + std::to_string(name));
    s.start_time_unix_nano = o.max_ids ? ~uint64_t{0} - 1000 : 1'700'000'000'000'000'000 + i * 1000;
    s.end_time_unix_nano = o.max_ids ? ~uint64_t{0} : s.start_time_unix_nano + i * 17;
    s.attributes.begin = static_cast<uint32_t>(b.attributes.size());
    std::string route = "/route/" + std::to_string(name);
    if (o.empty_route && name == 0) route.clear();
    if (o.exceptions_every != 0 && i % o.exceptions_every == 0)
      route = "/other/" + std::to_string(i % 3);
    if (o.mixed_types && i % 7 == 3)
      b.attributes.push_back({text("http.route"), model::Value::Int(static_cast<int64_t>(i))});
    else
      b.attributes.push_back({text("http.route"), model::Value::String(text(route))});
    b.attributes.push_back(
        {text("user.id"), model::Value::String(text("u" + std::to_string(i % 3)))});
    s.attributes.count = 2;
    b.spans.push_back(s);
  }
  return b;
}

struct Written {
  std::shared_ptr<const Block> sealed;
  std::string file;
  BlockMeta meta;
};

Written Write(const model::SpanBatch& batch) {
  BlockBuilder builder("env");
  builder.Append(batch);
  Written w;
  w.sealed = builder.Seal();
  BlockMeta meta = w.sealed->ComputeMeta();
  w.file = EncodeBlockFile(*w.sealed, meta, kCompactionZstdLevel);
  Result<BlockMeta> read = DecodeBlockMeta(w.file);
  EXPECT_TRUE(read.ok());
  if (read.ok()) w.meta = *read;
  return w;
}

uint64_t SectionBytes(const BlockMeta& meta, const std::string& name) {
  for (const SectionInfo& s : meta.sections)
    if (s.name == name) return s.raw;
  ADD_FAILURE() << "no section " << name;
  return 0;
}

void ExpectRoundTrip(const Options& o) {
  model::SpanBatch batch = Spans(o);
  Written w = Write(batch);
  EXPECT_EQ(w.meta.format_version, 5u);
  Result<std::shared_ptr<const Block>> decoded = DecodeBlockFile(w.file);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectHolds(**decoded, batch);
}

TEST(BlockFormatFiveTest, RouteGivenTheSpanNameTakesNoCodesAndRoundTrips) {
  Options o;
  model::SpanBatch batch = Spans(o);
  Written w = Write(batch);
  Result<std::shared_ptr<const Block>> decoded = DecodeBlockFile(w.file);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectHolds(**decoded, batch);
  // Coded against the name, 1,000 routes of 10 values need no codes at all (an int column of
  // equal values): the raw section is the row deltas (1 bit a row), types, the 10 predictions and
  // the strings. Coded as before, the codes alone would be 4 bits a row (500 bytes) on top.
  EXPECT_LT(SectionBytes(w.meta, "attr:http.route"), 400u);
  // user.id (3 values) does not follow from the name: coded as before, 2 bits a row of codes.
  EXPECT_GT(SectionBytes(w.meta, "attr:user.id"), 350u);
}

TEST(BlockFormatFiveTest, ExceptionsToTheNamesRouteRoundTrip) {
  Options o;
  o.exceptions_every = 5;  // 80 % follow the name: still coded against it
  ExpectRoundTrip(o);
  o.exceptions_every = 2;  // 50 %: coded as before
  ExpectRoundTrip(o);
}

TEST(BlockFormatFiveTest, EdgeCasesRoundTrip) {
  Options one;
  one.spans = 1;
  one.names = 1;
  ExpectRoundTrip(one);
  Options empty;
  empty.empty_route = true;
  ExpectRoundTrip(empty);
  Options mixed;
  mixed.mixed_types = true;  // ints among the strings: only the strings are coded by name
  ExpectRoundTrip(mixed);
  Options max;
  max.max_ids = true;  // span ids of 0xFF bytes, parents not in the block, max timestamps
  ExpectRoundTrip(max);
}

TEST(BlockFormatFiveTest, ReadingOnlyTheAttributeReadsTheNamesItIsCodedAgainst) {
  model::SpanBatch batch = Spans(Options{});
  Written w = Write(batch);
  testing::TempDir dir;
  const std::string path = dir.path() + "/1.blk";
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, w.file).ok());
  Result<BlockMeta> meta = ReadBlockMeta(Env::Default(), path);
  ASSERT_TRUE(meta.ok());
  ColumnSet route;
  route.attributes.insert("http.route");
  Result<std::shared_ptr<const Block>> read = ReadBlockColumns(Env::Default(), path, *meta, route);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const Block& b = **read;
  ASSERT_EQ(b.attributes.size(), 1u);
  const AttributeColumn& column = b.attributes[0];
  ASSERT_EQ(column.rows.size(), b.num_rows);
  const Block& full = *w.sealed;
  for (size_t i = 0; i < column.rows.size(); ++i) {
    const uint32_t row = column.rows[i];
    EXPECT_EQ(std::string(column.ValueAt(i).str),
              "/route/" + std::string(full.name.at(row)).substr(3));
  }
}

// An attribute coded against the span name cannot be decoded without the "name" section: a
// directory that lacks it is refused as damage (kDataLoss), not a crash or wrong values.
TEST(BlockFormatFiveTest, NameCodedAttributeWithoutTheNameSectionIsDataLoss) {
  Written w = Write(Spans(Options{}));
  BlockMeta no_name = w.meta;
  std::erase_if(no_name.sections, [](const SectionInfo& x) { return x.name == "name"; });
  testing::TempDir dir;
  const std::string path = dir.path() + "/2.blk";
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, w.file).ok());
  ColumnSet route;
  route.attributes.insert("http.route");
  Result<std::shared_ptr<const Block>> read =
      ReadBlockColumns(Env::Default(), path, no_name, route);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss);
}

// Format 4 (the fixture tests/store/testdata/block_v4.blk, RandomSpans(1104), 300 spans, with
// pre-aggregates, written by the format-4 encoder) still reads; rewritten it is format 5.
TEST(BlockFormatFiveTest, VersionFourFileStillReadsAndRewritesAsFive) {
  const std::string path = std::string(ARIADNE_SOURCE_DIR) + "/tests/store/testdata/block_v4.blk";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path;
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(file.size(), 12u);
  EXPECT_EQ(DecodeFixed32(file.data() + 8), 4u);
  testing::RandomSpans gen(1104);
  model::SpanBatch batch = gen.Batch(300);
  Result<std::shared_ptr<const Block>> whole = DecodeBlockFile(file);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ExpectHolds(**whole, batch);
  Result<BlockMeta> meta = ReadBlockMeta(Env::Default(), path);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->format_version, 4u);
  EXPECT_EQ(meta->id, 10u);
  EXPECT_EQ(meta->environment, "legacy4");
  EXPECT_NE(meta->pre_aggregates, nullptr);
  Result<std::shared_ptr<const Block>> all =
      ReadBlockColumns(Env::Default(), path, *meta, ColumnSet::All());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ExpectHolds(**all, batch);
  const std::string again = EncodeBlockFile(**whole, (*whole)->ComputeMeta());
  EXPECT_EQ(DecodeFixed32(again.data() + 8), 5u);
  Result<std::shared_ptr<const Block>> rewritten = DecodeBlockFile(again);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  ExpectHolds(**rewritten, batch);
}

}  // namespace
}  // namespace ariadne::columnar
