// The fields section of a block digest (store/embedded/trace_block_digest.h, "Digest" in
// docs/formats/trace-summaries.md) and the filter's field needs (query/xray_filter/field_need.h):
// over random blocks of random trace facts and many generated filters, a block is ruled out only
// when Filter::Decide answers kNo for every part of it, and each need holds for every part Decide
// does not reject; filters no trace matches rule every block out; the section round-trips, and a
// digest written before it (no flag bit 2) still reads and never rules a block out by fields.
#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "query/xray_filter/filter.h"
#include "store/embedded/trace_block_digest.h"

namespace ariadne::store::embedded {
namespace {

using query::xray_filter::Filter;
using query::xray_filter::NeedHolds;
using query::xray_filter::SegmentKey;
using query::xray_filter::TraceFacts;

TraceSummary RandomPart(std::mt19937_64& rng, uint8_t id) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  TraceSummary s;
  s.trace_id.bytes[15] = id;
  TraceFacts& f = s.xray;
  f.start = 100 + pick(10);
  f.end = f.start + 0.01 * pick(50);
  f.partial = pick(8) == 0;
  f.has_root = pick(10) != 0;
  f.root_name = pick(6) == 0 ? "" : "svc-" + std::to_string(pick(4));
  f.root_type = pick(2) ? "AWS::EC2::Instance" : "";
  f.root_start = f.start;
  f.root_end = f.start + 0.01 * pick(40);
  f.root_error = pick(5) == 0;
  f.root_fault = pick(6) == 0;
  f.root_throttle = pick(9) == 0;
  f.any_error = f.root_error || pick(6) == 0;
  f.any_fault = f.root_fault || pick(6) == 0;
  f.any_throttle = f.root_throttle || pick(12) == 0;
  static const char* kMethods[] = {"", "GET", "POST", "PUT"};
  f.http_method = kMethods[pick(4)];
  f.http_url = pick(3) ? "http://x/" + std::to_string(pick(5)) : "";
  f.http_user_agent = pick(2) ? "curl" : "";
  f.http_client_ip = pick(2) ? "10.0.0.1" : "";
  static const int kStatus[] = {0, 200, 200, 404, 429, 500, 503};
  f.http_status = kStatus[pick(7)];
  for (int u = pick(3); u > 0; --u) f.users.push_back(pick(2) ? "alice" : "bob");
  for (int n = pick(4); n > 0; --n)
    f.segments.push_back(SegmentKey{"svc-" + std::to_string(pick(6)),
                                    pick(2) ? "AWS::EC2::Instance" : "", pick(4) ? "" : "123"});
  return s;
}

// Terms over every field; the last ones no random part meets.
const char* const kTerms[] = {
    "ok", "error", "fault", "throttle", "partial", "root", "!fault", "fault = false",
    "error != true", "inferred", "remote = false", "duration > 0.3", "duration <= 0.05",
    "duration = 0.2", "responsetime < 0.05", "responsetime >= 0.35", "responsetime != 0.1",
    "http.status = 500", "http.status IN (404, 429)", "http.status >= 500", "http.status != 200",
    "http.method = \"POST\"", "http.method IN (\"PUT\", \"DELETE\")",
    "http.method BEGINSWITH \"P\"", "http.url CONTAINS \"/3\"", "http.useragent = \"curl\"",
    "http.clientip != \"x\"", "user = \"alice\"", "user != \"bob\"", "user IN (\"carol\", \"bob\")",
    "name = \"svc-2\"", "type = \"AWS::EC2::Instance\"", "name ENDSWITH \"3\"",
    "service(\"svc-4\")", "service(\"svc-5\") { fault }", "service() { error }",
    "service(id(name: \"svc-1\", type: \"AWS::EC2::Instance\"))",
    "service(id(account.id: \"123\"))", "edge(\"svc-1\", \"svc-2\")",
    "rootcause.fault.service { name = \"svc-2\" }", "rootcause.error.entity",
    "rootcause.responsetime.service", "fault OR throttle", "!(error AND duration > 0.2)",
    "annotation.tier = \"gold\"",
    // No part meets these.
    "responsetime > 2", "duration > 100", "http.status = 599", "service(\"nope\")",
    "service(\"nope\") { fault }", "user = \"nobody\"", "http.method = \"PATCH\"",
    "name = \"nope\"", "service(id(type: \"AWS::Lambda\"))", "first"};
constexpr size_t kNoMatchTerms = 10;

std::vector<std::string> Filters(std::mt19937_64& rng) {
  std::vector<std::string> out(std::begin(kTerms), std::end(kTerms));
  const size_t n = std::size(kTerms);
  for (int i = 0; i < 400; ++i) {
    std::string text = kTerms[rng() % n];
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) {
      const char* joins[] = {" AND ", " ", " OR "};
      text = (rng() % 4 == 0 ? "!(" + text + ")" : text) + joins[rng() % 3] + kTerms[rng() % n];
    }
    out.push_back(text);
  }
  return out;
}

TEST(TraceBlockFieldsTest, RulesABlockOutOnlyWhenDecideRejectsEveryPart) {
  std::mt19937_64 rng(15);
  std::vector<std::vector<TraceSummary>> blocks;
  for (int b = 0; b < 60; ++b) {
    std::vector<TraceSummary> parts;
    for (int p = 1 + static_cast<int>(rng() % 12); p > 0; --p)
      parts.push_back(RandomPart(rng, static_cast<uint8_t>(p)));
    blocks.push_back(std::move(parts));
  }
  blocks.push_back({});  // a block with no parts: nothing to match
  size_t ruled_out = 0, kept_with_match = 0;
  const std::vector<std::string> filters = Filters(rng);
  for (size_t i = 0; i < filters.size(); ++i) {
    SCOPED_TRACE(filters[i]);
    Result<Filter> filter = Filter::Parse(filters[i]);
    ASSERT_TRUE(filter.ok()) << filter.status().ToString();
    const auto needs = filter->FieldNeeds();
    for (const std::vector<TraceSummary>& parts : blocks) {
      const TraceBlockDigest digest = TraceBlockDigest::Build(parts);
      std::string bytes;
      digest.EncodeTo(&bytes);
      Result<TraceBlockDigest> read = TraceBlockDigest::Decode(bytes);
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      const bool may = read->MayMatchFields(needs);
      EXPECT_EQ(may, digest.MayMatchFields(needs));
      bool any = false;
      for (const TraceSummary& part : parts) {
        const bool rejected = filter->Decide(part.xray) == Filter::Verdict::kNo;
        any = any || !rejected;
        if (rejected) continue;
        for (const auto& need : needs) EXPECT_TRUE(NeedHolds(need, part.xray));
      }
      if (!may) {
        EXPECT_FALSE(any) << "a block with a possible match was ruled out";
        ++ruled_out;
      }
      kept_with_match += may && any;
    }
    // The filters made of one no-match term rule every block out.
    if (i >= std::size(kTerms) - kNoMatchTerms && i < std::size(kTerms)) {
      for (const std::vector<TraceSummary>& parts : blocks)
        EXPECT_FALSE(TraceBlockDigest::Build(parts).MayMatchFields(needs));
    }
  }
  EXPECT_GT(ruled_out, 2000u);
  EXPECT_GT(kept_with_match, 2000u);
}

TEST(TraceBlockFieldsTest, RoundTripsAndAnOlderDigestNeverRulesOutByFields) {
  std::mt19937_64 rng(3);
  std::vector<TraceSummary> parts;
  for (uint8_t p = 1; p < 30; ++p) parts.push_back(RandomPart(rng, p));
  const TraceBlockDigest digest = TraceBlockDigest::Build(parts);
  ASSERT_TRUE(digest.fields_known);
  std::string bytes;
  digest.EncodeTo(&bytes);
  Result<TraceBlockDigest> back = TraceBlockDigest::Decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->fields_known);
  EXPECT_EQ(back->fact_bits, digest.fact_bits);
  EXPECT_EQ(back->response_time.min, digest.response_time.min);
  EXPECT_EQ(back->duration.max, digest.duration.max);
  EXPECT_EQ(back->http_status.min, 200);
  EXPECT_EQ(back->http_status.max, 503);
  EXPECT_EQ(back->field_bloom, digest.field_bloom);
  for (size_t cut = 0; cut < bytes.size(); ++cut)
    EXPECT_FALSE(TraceBlockDigest::Decode(bytes.substr(0, cut)).ok()) << cut;

  // A digest as h7/xindex wrote it (flags 1: annotations complete; no keys, no value filter, an
  // 8-byte trace-id filter; no fields section).
  const std::string older("\x01\x00\x00\x08\x01\x02\x04\x08\x10\x20\x40\x80", 12);
  Result<TraceBlockDigest> old = TraceBlockDigest::Decode(older);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_FALSE(old->fields_known);
  EXPECT_EQ(old->trace_ids.size(), 8u);
  for (const char* text : {"responsetime > 2", "service(\"nope\")", "first", "user = \"x\""}) {
    Result<Filter> filter = Filter::Parse(text);
    ASSERT_TRUE(filter.ok());
    EXPECT_TRUE(old->MayMatchFields(filter->FieldNeeds())) << text;
    EXPECT_FALSE(digest.MayMatchFields(filter->FieldNeeds())) << text;
  }
}

}  // namespace
}  // namespace ariadne::store::embedded
