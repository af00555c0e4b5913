// The block digest of a trace-summary side file (store/embedded/trace_block_digest.h, format
// version 4 in docs/formats/trace-summaries.md): it rules a block out for an X-Ray filter's
// annotation needs only when no part of it can match (every operator of the filter language,
// checked against Filter::Decide on each part), never when a part's annotations were capped; it
// round-trips, reads by range through the Env (one read, two for a large digest), and an older
// side file (version 3) still reads, with an unknown digest that never skips.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/env_wrapper.h"
#include "query/xray_filter/filter.h"
#include "store/embedded/trace_block_digest.h"
#include "store/embedded/trace_summary_file.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

using query::xray_filter::AnnotationFact;
using query::xray_filter::Filter;

AnnotationFact Str(const std::string& key, const std::string& value) {
  AnnotationFact a;
  a.type = AnnotationFact::Type::kString;
  a.key = key;
  a.str = value;
  return a;
}
AnnotationFact Num(const std::string& key, double value, bool integer = true) {
  AnnotationFact a;
  a.type = integer ? AnnotationFact::Type::kInt : AnnotationFact::Type::kDouble;
  a.key = key;
  a.number = value;
  return a;
}
AnnotationFact Bool(const std::string& key, bool value) {
  AnnotationFact a;
  a.type = AnnotationFact::Type::kBool;
  a.key = key;
  a.boolean = value;
  return a;
}

TraceSummary Part(uint8_t id, std::vector<AnnotationFact> annotations) {
  TraceSummary s;
  s.trace_id.bytes[15] = id;
  s.start_unix_nano = 1000 + id;
  s.last_span_start_unix_nano = s.start_unix_nano;
  s.xray.has_root = true;
  s.xray.annotations_complete = true;
  s.xray.annotations = std::move(annotations);
  return s;
}

// Two traces: tier "gold" and count 3; flag true and a NaN ratio.
std::vector<TraceSummary> Parts() {
  return {Part(1, {Str("tier", "gold"), Num("count", 3)}),
          Part(2, {Bool("flag", true), Num("ratio", std::nan(""), false)})};
}

bool MayMatch(const TraceBlockDigest& digest, const std::string& text) {
  Result<Filter> filter = Filter::Parse(text);
  EXPECT_TRUE(filter.ok()) << text;
  return digest.MayMatch(filter->AnnotationNeeds());
}

TEST(TraceBlockDigestTest, RulesABlockOutOnlyWhenNoPartCanMatch) {
  const std::vector<TraceSummary> parts = Parts();
  const TraceBlockDigest digest = TraceBlockDigest::Build(parts);
  struct Case {
    const char* text;
    bool may_match;
  };
  const Case cases[] = {
      {"annotation.tier = \"gold\"", true},
      {"annotation.tier = \"silver\"", false},
      {"annotation.tier IN (\"bronze\", \"gold\")", true},
      {"annotation.tier IN (\"bronze\", \"silver\")", false},
      {"annotation.tier != \"gold\"", true},  // not ruled out by values (only by key and type)
      {"annotation.tier CONTAINS \"ol\"", true},
      {"annotation.tier BEGINSWITH \"x\"", true},
      {"annotation.tier ENDSWITH \"d\"", true},
      {"annotation.tier = 3", false},  // a string annotation never equals a number
      {"annotation.count = 3", true},
      {"annotation.count = 4", false},
      {"annotation.count != 3", true},
      {"annotation.count < 3", true},  // a strict bound at the edge: kept (conservative)
      {"annotation.count < 2.9", false},
      {"annotation.count <= 3", true},
      {"annotation.count > 3.1", false},
      {"annotation.count >= 3", true},
      {"annotation.count > 2.5", true},
      {"annotation.count IN (1, 2)", false},
      {"annotation.count IN (1, 3)", true},
      {"annotation.count = \"3\"", false},
      {"annotation.flag", true},
      {"annotation.flag = true", true},
      {"annotation.flag = false", true},  // a bool's value is not kept: conservative
      {"annotation.ratio", true},         // NaN is "set"
      {"annotation.ratio > 0", false},    // and compares to nothing
      {"annotation.missing", false},
      {"annotation.missing = \"x\"", false},
      {"annotation.missing != \"x\"", false},
      {"annotation.tier = \"gold\" AND annotation.count > 1", true},
      {"annotation.tier = \"gold\" AND annotation.missing", false},
      {"annotation.tier = \"gold\" annotation.count > 5", false},  // adjacency is AND
      {"annotation.missing OR fault", true},                       // not ANDed: no need
      {"!annotation.missing", true},
      {"service(\"a\") { annotation.missing }", true},  // inside a block: no need
      {"fault", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(MayMatch(digest, c.text), c.may_match);
    // Never a match dropped: a block ruled out has no part the summary evaluation accepts.
    if (!c.may_match) {
      Result<Filter> filter = Filter::Parse(c.text);
      for (const TraceSummary& part : parts)
        EXPECT_EQ(filter->Decide(part.xray), Filter::Verdict::kNo);
    }
  }
}

TEST(TraceBlockDigestTest, CappedAnnotationsOrAnUnknownDigestNeverSkip) {
  std::vector<TraceSummary> parts = Parts();
  parts[1].xray.annotations_complete = false;
  EXPECT_TRUE(MayMatch(TraceBlockDigest::Build(parts), "annotation.missing = \"x\""));
  EXPECT_TRUE(MayMatch(TraceBlockDigest{}, "annotation.missing = \"x\""));
  // An empty block has no annotation at all.
  EXPECT_FALSE(MayMatch(TraceBlockDigest::Build({}), "annotation.tier"));
}

TEST(TraceBlockDigestTest, RoundTripsAndRefusesDamage) {
  const TraceBlockDigest digest = TraceBlockDigest::Build(Parts());
  std::string bytes;
  digest.EncodeTo(&bytes);
  Result<TraceBlockDigest> back = TraceBlockDigest::Decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->known);
  EXPECT_TRUE(back->annotations_complete);
  ASSERT_EQ(back->keys.size(), 4u);
  EXPECT_EQ(back->keys[0].key, "count");
  EXPECT_EQ(back->keys[0].number_min, 3);
  EXPECT_EQ(back->bloom, digest.bloom);
  EXPECT_FALSE(MayMatch(*back, "annotation.tier = \"silver\""));
  EXPECT_EQ(back->trace_ids, digest.trace_ids);
  // The trace-id filter holds every trace of the block (a seal's confirmation never misses one)
  // and few others.
  std::vector<TraceSummary> many;
  for (int t = 0; t < 2000; ++t) {
    TraceSummary s = Part(0, {});
    s.trace_id.bytes[0] = static_cast<uint8_t>(t);
    s.trace_id.bytes[1] = static_cast<uint8_t>(t >> 8);
    many.push_back(s);
  }
  const TraceBlockDigest ids = TraceBlockDigest::Build(many);
  for (const TraceSummary& s : many)
    EXPECT_TRUE(ids.MayHoldTrace(TraceBlockDigest::HashTraceId(s.trace_id)));
  int false_hits = 0;
  for (int t = 0; t < 20000; ++t) {
    model::TraceId other;
    other.bytes[2] = static_cast<uint8_t>(t);
    other.bytes[3] = static_cast<uint8_t>(t >> 8);
    other.bytes[4] = 1;
    false_hits += ids.MayHoldTrace(TraceBlockDigest::HashTraceId(other));
  }
  EXPECT_LT(false_hits, 40);  // ≈ 0.05 % expected: 10
  EXPECT_TRUE(TraceBlockDigest{}.MayHoldTrace(TraceBlockDigest::HashTraceId(model::TraceId())));
  for (size_t cut = 0; cut < bytes.size(); ++cut)
    EXPECT_FALSE(TraceBlockDigest::Decode(bytes.substr(0, cut)).ok()) << cut;
  EXPECT_FALSE(TraceBlockDigest::Decode(bytes + "x").ok());
}

// Counts side-file reads and the bytes they asked for.
class RangeCountingEnv final : public EnvWrapper {
 public:
  Result<std::string> ReadFile(const std::string& path) override {
    ++whole_reads;
    return target()->ReadFile(path);
  }
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset,
                                    size_t length) override {
    ++range_reads;
    return target()->ReadFileRange(path, offset, length);
  }
  std::atomic<int> whole_reads{0}, range_reads{0};
};

TEST(TraceBlockDigestTest, SideFileVersion4ReadsItsDigestByRangeAndVersion3StillReads) {
  testing::TempDir dir;
  const std::string block = dir.path() + "/000000000001.blk";
  std::vector<TraceSummary> parts = Parts();
  ASSERT_TRUE(WriteTraceSummaryFile(Env::Default(), block, parts, {1, 1}).ok());
  RangeCountingEnv env;
  Result<TraceBlockDigest> digest = ReadTraceBlockDigest(&env, block);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_TRUE(digest->known);
  EXPECT_FALSE(MayMatch(*digest, "annotation.missing"));
  EXPECT_EQ(env.range_reads.load(), 1);
  EXPECT_EQ(env.whole_reads.load(), 0);
  Result<TraceSummaryParts> read = ReadTraceSummaryParts(Env::Default(), block);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->version, kTraceSummaryVersion);
  EXPECT_EQ(read->parts.size(), 2u);
  EXPECT_EQ(read->whole, (std::vector<uint8_t>{1, 1}));

  // A digest larger than the first read (many keys): a second read of its exact size.
  std::vector<AnnotationFact> many;
  for (int k = 0; k < 2000; ++k) many.push_back(Num("key_" + std::to_string(k), k));
  parts.push_back(Part(3, many));
  ASSERT_TRUE(WriteTraceSummaryFile(Env::Default(), block, parts, {1, 1, 0}).ok());
  env.range_reads = 0;
  digest = ReadTraceBlockDigest(&env, block);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_EQ(digest->keys.size(), 2004u);
  EXPECT_EQ(env.range_reads.load(), 2);
  EXPECT_TRUE(MayMatch(*digest, "annotation.key_1999 >= 1999"));
  EXPECT_FALSE(MayMatch(*digest, "annotation.key_1999 > 1999.5"));

  // A damaged digest byte: kDataLoss for the digest and the whole file alike.
  Result<std::string> data = Env::Default()->ReadFile(TraceSummaryPath(block));
  ASSERT_TRUE(data.ok());
  std::string damaged = *data;
  damaged[12] ^= 0x40;
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), TraceSummaryPath(block), damaged).ok());
  EXPECT_EQ(ReadTraceBlockDigest(Env::Default(), block).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ReadTraceSummaryParts(Env::Default(), block).status().code(), StatusCode::kDataLoss);

  // Version 3 (flags, no digest), as the previous release wrote: parts and flags read, the
  // digest is unknown (never skipped).
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), TraceSummaryPath(block),
                                  EncodeTraceSummariesVersion3(Parts(), {1, 0}))
                  .ok());
  digest = ReadTraceBlockDigest(Env::Default(), block);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_FALSE(digest->known);
  EXPECT_TRUE(MayMatch(*digest, "annotation.missing"));
  read = ReadTraceSummaryParts(Env::Default(), block);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->version, 3u);
  EXPECT_EQ(read->whole, (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(read->parts[0].xray.annotations.size(), 2u);
}

}  // namespace
}  // namespace ariadne::store::embedded
