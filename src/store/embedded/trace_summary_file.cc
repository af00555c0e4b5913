#include "store/embedded/trace_summary_file.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "columnar/coding.h"
#include "store/embedded/trace_block_digest.h"

namespace ariadne::store::embedded {
namespace {

using columnar::ByteReader;
using columnar::PutDouble;
using columnar::PutFixed32;
using columnar::PutVarint;
using query::xray_filter::AnnotationFact;
using query::xray_filter::NodeFact;
using query::xray_filter::SegmentKey;
using query::xray_filter::TraceFacts;

constexpr std::string_view kMagic = "ATSM";
// Version 1: the summaries uncompressed; version 2: zstd-compressed; version 3: compressed, a
// flags byte (bit 0: whole) before each summary; version 4: version 3 with the block's digest
// (trace_block_digest.h) in front, checksummed on its own so it reads by range; version 5 (written
// now): version 4 whose summaries end with the trace's per-node facts (TraceFacts::nodes).
constexpr uint64_t kPlainVersion = 1;
constexpr uint64_t kUnflaggedVersion = 2;
constexpr uint64_t kFlaggedVersion = 3;
constexpr uint64_t kDigestVersion = kTraceSummaryVersionWithoutNodes;
constexpr uint64_t kVersion = kTraceSummaryVersion;
constexpr uint64_t kNodesCompleteFlag = uint64_t{1} << 9;  // in a version 5 summary's fact flags
// The first read of a digest: most digests fit (a larger one costs a second read).
constexpr size_t kDigestFirstRead = 32 << 10;
constexpr uint64_t kMaxDigestBytes = uint64_t{1} << 24;
constexpr uint8_t kWholeFlag = 1;
// The zstd level of side files: the blocks' seal level (fast; side files are written per seal).
constexpr int kZstdLevel = 3;
// A decompressed body larger than this is a damaged size field, not a side file.
constexpr uint64_t kMaxBodyBytes = uint64_t{1} << 32;
// Sanity bounds for a decoder facing a damaged file (a count larger than the bytes left is a lie).
constexpr uint64_t kMaxListItems = 1 << 20;

uint32_t Crc(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

void PutStr(std::string* out, std::string_view s) { columnar::PutString(out, s); }

// Version 5's node entries: each node's identity, caller and user as indexes (+1, 0 = none), its
// flags, HTTP status, start (as a delta from the previous node's) and duration in nanoseconds.
void PutNodes(std::string* out, const std::vector<NodeFact>& nodes) {
  PutVarint(out, nodes.size());
  uint64_t previous_start = 0;
  for (const NodeFact& n : nodes) {
    PutVarint(out, n.segment);
    PutVarint(out, static_cast<uint64_t>(static_cast<int64_t>(n.parent) + 1));
    PutVarint(out, static_cast<uint64_t>(static_cast<int64_t>(n.user) + 1));
    out->push_back(static_cast<char>(n.error | n.fault << 1 | n.throttle << 2 | n.inferred << 3));
    PutVarint(out, columnar::ZigZag(n.http_status));
    PutVarint(out, columnar::ZigZag(static_cast<int64_t>(n.start_unix_nano - previous_start)));
    PutVarint(out, columnar::ZigZag(static_cast<int64_t>(n.end_unix_nano - n.start_unix_nano)));
    previous_start = n.start_unix_nano;
  }
}

void PutFacts(std::string* out, const TraceFacts& f, bool with_nodes) {
  PutDouble(out, f.start);
  PutDouble(out, f.end);
  uint64_t flags = 0;
  int bit = 0;
  for (bool b : {f.partial, f.has_root, f.root_error, f.root_fault, f.root_throttle, f.any_error,
                 f.any_fault, f.any_throttle, f.annotations_complete})
    flags |= static_cast<uint64_t>(b) << bit++;
  if (with_nodes && f.nodes_complete) flags |= kNodesCompleteFlag;
  PutVarint(out, flags);
  PutStr(out, f.root_name);
  PutStr(out, f.root_type);
  PutDouble(out, f.root_start);
  PutDouble(out, f.root_end);
  PutStr(out, f.http_method);
  PutStr(out, f.http_url);
  PutStr(out, f.http_user_agent);
  PutStr(out, f.http_client_ip);
  PutVarint(out, columnar::ZigZag(f.http_status));
  PutVarint(out, f.users.size());
  for (const std::string& u : f.users) PutStr(out, u);
  PutVarint(out, f.segments.size());
  for (const SegmentKey& k : f.segments) {
    PutStr(out, k.name);
    PutStr(out, k.type);
    PutStr(out, k.account);
  }
  PutVarint(out, f.annotations.size());
  for (const AnnotationFact& a : f.annotations) {
    PutVarint(out, static_cast<uint64_t>(a.type));
    PutStr(out, a.key);
    PutStr(out, a.str);
    PutDouble(out, a.number);
    out->push_back(a.boolean ? 1 : 0);
  }
  if (with_nodes) PutNodes(out, f.nodes_complete ? f.nodes : std::vector<NodeFact>());
}

// `with_nodes`: version 5 (the per-node facts); earlier versions end with the annotations.
void PutSummary(std::string* out, const TraceSummary& s, bool with_nodes) {
  out->append(reinterpret_cast<const char*>(s.trace_id.bytes.data()), s.trace_id.bytes.size());
  PutStr(out, s.environment);
  PutStr(out, s.root_service);
  PutStr(out, s.root_name);
  PutVarint(out, s.start_unix_nano);
  PutVarint(out, s.duration_nano);
  PutVarint(out, s.span_count);
  PutVarint(out, s.error_count);
  PutVarint(out, s.end_unix_nano);
  PutVarint(out, s.last_span_start_unix_nano);
  PutVarint(out, s.services.size());
  for (const std::string& service : s.services) PutStr(out, service);
  PutFacts(out, s.xray, with_nodes);
}

// Reads a string into `out`; false (reader failed) at the end of the input.
bool GetStr(ByteReader* r, std::string* out) {
  std::string_view view;
  if (!r->GetString(&view)) return false;
  out->assign(view);
  return true;
}

// A list length that the remaining bytes can hold (each item takes at least one byte).
bool GetCount(ByteReader* r, uint64_t* n) {
  return r->GetVarint(n) && *n <= kMaxListItems && *n <= r->remaining();
}

bool GetNodes(ByteReader* r, TraceFacts* f) {
  uint64_t n = 0;
  if (!GetCount(r, &n)) return false;
  f->nodes.resize(n);
  uint64_t previous_start = 0;
  for (NodeFact& node : f->nodes) {
    uint64_t segment = 0, parent = 0, user = 0, status = 0, start = 0, duration = 0;
    uint8_t flags = 0;
    if (!r->GetVarint(&segment) || !r->GetVarint(&parent) || !r->GetVarint(&user) ||
        !r->GetByte(&flags) || !r->GetVarint(&status) || !r->GetVarint(&start) ||
        !r->GetVarint(&duration))
      return false;
    // Indexes into the lists read before, within the node cap: out of range is damage.
    const int64_t zig_status = columnar::UnZigZag(status);
    if (n > TraceFacts::kMaxNodes || segment >= f->segments.size() || parent > n ||
        user > f->users.size() || user > TraceFacts::kMaxNodes || zig_status < INT16_MIN ||
        zig_status > INT16_MAX)
      return false;
    node.segment = static_cast<uint8_t>(segment);
    node.parent = static_cast<int8_t>(static_cast<int>(parent) - 1);
    node.user = static_cast<int8_t>(static_cast<int>(user) - 1);
    node.error = flags & 1;
    node.fault = flags & 2;
    node.throttle = flags & 4;
    node.inferred = flags & 8;
    node.http_status = static_cast<int16_t>(zig_status);
    node.start_unix_nano = previous_start + static_cast<uint64_t>(columnar::UnZigZag(start));
    node.end_unix_nano = node.start_unix_nano + static_cast<uint64_t>(columnar::UnZigZag(duration));
    previous_start = node.start_unix_nano;
  }
  return true;
}

bool GetFacts(ByteReader* r, TraceFacts* f, bool with_nodes) {
  uint64_t flags = 0, zig = 0, n = 0;
  if (!r->GetDouble(&f->start) || !r->GetDouble(&f->end) || !r->GetVarint(&flags)) return false;
  bool* bits[] = {&f->partial,    &f->has_root,      &f->root_error,
                  &f->root_fault, &f->root_throttle, &f->any_error,
                  &f->any_fault,  &f->any_throttle,  &f->annotations_complete};
  for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); ++i) *bits[i] = (flags >> i) & 1;
  if (!GetStr(r, &f->root_name) || !GetStr(r, &f->root_type) || !r->GetDouble(&f->root_start) ||
      !r->GetDouble(&f->root_end) || !GetStr(r, &f->http_method) || !GetStr(r, &f->http_url) ||
      !GetStr(r, &f->http_user_agent) || !GetStr(r, &f->http_client_ip) || !r->GetVarint(&zig))
    return false;
  f->http_status = columnar::UnZigZag(zig);
  if (!GetCount(r, &n)) return false;
  f->users.resize(n);
  for (std::string& u : f->users)
    if (!GetStr(r, &u)) return false;
  if (!GetCount(r, &n)) return false;
  f->segments.resize(n);
  for (SegmentKey& k : f->segments)
    if (!GetStr(r, &k.name) || !GetStr(r, &k.type) || !GetStr(r, &k.account)) return false;
  if (!GetCount(r, &n)) return false;
  f->annotations.resize(n);
  for (AnnotationFact& a : f->annotations) {
    uint64_t type = 0;
    uint8_t boolean = 0;
    if (!r->GetVarint(&type) || type > static_cast<uint64_t>(AnnotationFact::Type::kOther) ||
        !GetStr(r, &a.key) || !GetStr(r, &a.str) || !r->GetDouble(&a.number) ||
        !r->GetByte(&boolean))
      return false;
    a.type = static_cast<AnnotationFact::Type>(type);
    a.boolean = boolean != 0;
  }
  // Before version 5 no node facts: block terms answer "unknown" (TraceFacts::nodes_complete).
  f->nodes_complete = with_nodes && (flags & kNodesCompleteFlag) != 0;
  return !with_nodes || GetNodes(r, f);
}

bool GetSummary(ByteReader* r, TraceSummary* s, bool with_nodes) {
  std::string_view id;
  uint64_t n = 0;
  if (!r->GetBytes(s->trace_id.bytes.size(), &id)) return false;
  std::copy(id.begin(), id.end(), s->trace_id.bytes.begin());
  if (!GetStr(r, &s->environment) || !GetStr(r, &s->root_service) || !GetStr(r, &s->root_name) ||
      !r->GetVarint(&s->start_unix_nano) || !r->GetVarint(&s->duration_nano) ||
      !r->GetVarint(&s->span_count) || !r->GetVarint(&s->error_count) ||
      !r->GetVarint(&s->end_unix_nano) || !r->GetVarint(&s->last_span_start_unix_nano) ||
      !GetCount(r, &n))
    return false;
  s->services.resize(n);
  for (std::string& service : s->services)
    if (!GetStr(r, &service)) return false;
  return GetFacts(r, &s->xray, with_nodes);
}

Status Damaged(const std::string& why) {
  return Status::DataLoss("trace-summary side file: " + why +
                          " (it is derived data: delete it and the next open rebuilds it from "
                          "its block)");
}

}  // namespace

std::string TraceSummaryPath(const std::string& block_path) {
  return block_path + std::string(kTraceSummarySuffix);
}

std::vector<TraceSummary> SummarizeBlockTraces(const std::string& environment,
                                               const columnar::Block& block) {
  std::unordered_map<model::TraceId, std::vector<uint32_t>, model::TraceIdHash> rows;
  for (size_t row = 0; row < block.num_rows; ++row)
    rows[block.trace_id[row]].push_back(static_cast<uint32_t>(row));
  std::vector<TraceSummary> parts;
  parts.reserve(rows.size());
  for (const auto& [id, trace_rows] : rows) {
    TraceResult trace;
    block.Materialize(trace_rows, &trace.spans);
    // As GetTrace returns a trace (by start time, stable), so a whole-trace part equals the
    // summary of the fetched trace.
    std::stable_sort(trace.spans.spans.begin(), trace.spans.spans.end(),
                     [](const model::Span& a, const model::Span& b) {
                       return a.start_time_unix_nano < b.start_time_unix_nano;
                     });
    trace.environments.assign(trace.spans.spans.size(), environment);
    parts.push_back(SummarizeTrace(trace));
  }
  std::sort(parts.begin(), parts.end(), [](const TraceSummary& a, const TraceSummary& b) {
    if (a.start_unix_nano != b.start_unix_nano) return a.start_unix_nano < b.start_unix_nano;
    return a.trace_id < b.trace_id;
  });
  return parts;
}

namespace {

// "ATSM", `version`, [the digest section,] the body's size, the body zstd-compressed, the CRC.
std::string Compressed(uint64_t version, const std::string& body,
                       const TraceBlockDigest* digest = nullptr) {
  std::string out(kMagic);
  PutVarint(&out, version);
  if (digest != nullptr) {
    std::string section;
    digest->EncodeTo(&section);
    PutVarint(&out, section.size());
    out.append(section);
    PutFixed32(&out, Crc(out));
  }
  PutVarint(&out, body.size());
  const size_t header = out.size();
  out.resize(header + ZSTD_compressBound(body.size()));
  const size_t n =
      ZSTD_compress(out.data() + header, out.size() - header, body.data(), body.size(), kZstdLevel);
  // Compression into a buffer of ZSTD_compressBound bytes cannot fail.
  out.resize(header + (ZSTD_isError(n) ? 0 : n));
  PutFixed32(&out, Crc(out));
  return out;
}

}  // namespace

// The body of versions 3 to 5: the part count, then each part's flag byte and summary.
std::string FlaggedBody(const std::vector<TraceSummary>& parts, const std::vector<uint8_t>& whole,
                        bool with_nodes) {
  std::string body;
  PutVarint(&body, parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    body.push_back(static_cast<char>(i < whole.size() && whole[i] ? kWholeFlag : 0));
    PutSummary(&body, parts[i], with_nodes);
  }
  return body;
}

std::string EncodeTraceSummaries(const std::vector<TraceSummary>& parts,
                                 const std::vector<uint8_t>& whole) {
  const std::string body = FlaggedBody(parts, whole, /*with_nodes=*/true);
  const TraceBlockDigest digest = TraceBlockDigest::Build(parts);
  return Compressed(kVersion, body, &digest);
}

std::string EncodeTraceSummariesVersion4(const std::vector<TraceSummary>& parts,
                                         const std::vector<uint8_t>& whole) {
  const TraceBlockDigest digest = TraceBlockDigest::Build(parts);
  return Compressed(kDigestVersion, FlaggedBody(parts, whole, false), &digest);
}

std::string EncodeTraceSummariesVersion3(const std::vector<TraceSummary>& parts,
                                         const std::vector<uint8_t>& whole) {
  return Compressed(kFlaggedVersion, FlaggedBody(parts, whole, false));
}

std::string EncodeTraceSummariesVersion2(const std::vector<TraceSummary>& parts) {
  std::string body;
  PutVarint(&body, parts.size());
  for (const TraceSummary& s : parts) PutSummary(&body, s, false);
  return Compressed(kUnflaggedVersion, body);
}

std::string EncodeTraceSummariesVersion1(const std::vector<TraceSummary>& parts) {
  std::string out(kMagic);
  PutVarint(&out, kPlainVersion);
  PutVarint(&out, parts.size());
  for (const TraceSummary& s : parts) PutSummary(&out, s, false);
  PutFixed32(&out, Crc(out));
  return out;
}

namespace {

// `count` then the summaries (each after a flags byte when `flagged`), exactly filling `body`.
Status DecodeBody(std::string_view body, bool flagged, TraceSummaryParts* out) {
  ByteReader r(body);
  uint64_t count = 0;
  if (!r.GetVarint(&count) || count > r.remaining()) return Damaged("bad trace count");
  out->parts.resize(count);
  out->whole.assign(count, 0);
  for (size_t i = 0; i < count; ++i) {
    uint8_t flags = 0;
    if (flagged && !r.GetByte(&flags)) return Damaged("truncated part flags");
    out->whole[i] = (flags & kWholeFlag) != 0;
    if (!GetSummary(&r, &out->parts[i], out->version >= kVersion))
      return Damaged("truncated or malformed summary");
  }
  if (!r.empty()) return Damaged("trailing bytes after the last summary");
  return Status::Ok();
}

}  // namespace

Result<TraceSummaryParts> DecodeTraceSummaryParts(std::string_view data) {
  if (data.size() < kMagic.size() + 4 || data.substr(0, kMagic.size()) != kMagic)
    return Damaged("not a side file (bad magic or too short)");
  const std::string_view checked = data.substr(0, data.size() - 4);
  if (Crc(checked) != columnar::DecodeFixed32(data.data() + checked.size()))
    return Damaged("checksum mismatch (torn or damaged)");
  ByteReader r(checked.substr(kMagic.size()));
  TraceSummaryParts out;
  if (!r.GetVarint(&out.version)) return Damaged("no version");
  if (out.version == kPlainVersion) {
    ARIADNE_RETURN_IF_ERROR(
        DecodeBody(checked.substr(checked.size() - r.remaining()), false, &out));
    return out;
  }
  if (out.version != kVersion && out.version != kDigestVersion && out.version != kFlaggedVersion &&
      out.version != kUnflaggedVersion)
    return Damaged("unknown version " + std::to_string(out.version) +
                   " (written by a newer release)");
  if (out.version >= kDigestVersion) {
    // The digest section (checked by the whole file's CRC here; its own CRC serves range reads).
    uint64_t digest_size = 0;
    std::string_view section, crc;
    if (!r.GetVarint(&digest_size) || digest_size > r.remaining() ||
        !r.GetBytes(static_cast<size_t>(digest_size), &section) || !r.GetBytes(4, &crc))
      return Damaged("bad digest section");
    if (!TraceBlockDigest::Decode(section).ok()) return Damaged("malformed digest");
  }
  uint64_t body_size = 0;
  if (!r.GetVarint(&body_size) || body_size > kMaxBodyBytes) return Damaged("bad body size");
  const std::string_view frame = checked.substr(checked.size() - r.remaining());
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content == ZSTD_CONTENTSIZE_ERROR || content != body_size)
    return Damaged("bad compressed body");
  std::string body(body_size, '\0');
  const size_t n = ZSTD_decompress(body.data(), body.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != body_size) return Damaged("compressed body does not decompress");
  ARIADNE_RETURN_IF_ERROR(DecodeBody(body, out.version >= kFlaggedVersion, &out));
  return out;
}

Result<std::vector<TraceSummary>> DecodeTraceSummaries(std::string_view data) {
  ARIADNE_ASSIGN_OR_RETURN(TraceSummaryParts decoded, DecodeTraceSummaryParts(data));
  return std::move(decoded.parts);
}

Result<uint64_t> WriteTraceSummaryFile(Env* env, const std::string& block_path,
                                       const std::vector<TraceSummary>& parts,
                                       const std::vector<uint8_t>& whole, uint64_t version) {
  const std::string data = version == kDigestVersion ? EncodeTraceSummariesVersion4(parts, whole)
                                                     : EncodeTraceSummaries(parts, whole);
  ARIADNE_RETURN_IF_ERROR(WriteFileAtomically(env, TraceSummaryPath(block_path), data)
                              .WithContext("writing the trace summaries of " + block_path));
  return static_cast<uint64_t>(data.size());
}

uint64_t TraceSummaryFileBytes(Env* env, const std::string& block_path) {
  Result<uint64_t> size = env->FileSize(TraceSummaryPath(block_path));
  return size.ok() ? *size : 0;
}

Result<TraceSummaryParts> ReadTraceSummaryParts(Env* env, const std::string& block_path) {
  const std::string path = TraceSummaryPath(block_path);
  if (!env->FileExists(path)) return Status::NotFound(path + " does not exist");
  ARIADNE_ASSIGN_OR_RETURN(std::string data, env->ReadFile(path));
  Result<TraceSummaryParts> parts = DecodeTraceSummaryParts(data);
  if (!parts.ok()) return parts.status().WithContext(path);
  return parts;
}

Result<TraceBlockDigest> DecodeTraceBlockDigest(std::string_view prefix, size_t* needed) {
  *needed = 0;
  if (prefix.size() < kMagic.size() + 1 || prefix.substr(0, kMagic.size()) != kMagic)
    return Damaged("not a side file (bad magic or too short)");
  ByteReader r(prefix.substr(kMagic.size()));
  uint64_t version = 0, digest_size = 0;
  if (!r.GetVarint(&version)) return Damaged("no version");
  // Older: no digest, never skipped.
  if (version != kDigestVersion && version != kVersion) return TraceBlockDigest{};
  if (!r.GetVarint(&digest_size) || digest_size > kMaxDigestBytes)
    return Damaged("bad digest size");
  const size_t header = prefix.size() - r.remaining();
  const size_t end = header + static_cast<size_t>(digest_size);
  if (prefix.size() < end + 4) {
    *needed = end + 4;
    return Status::OutOfRange("side file digest: more bytes needed");
  }
  if (Crc(prefix.substr(0, end)) != columnar::DecodeFixed32(prefix.data() + end))
    return Damaged("digest checksum mismatch (torn or damaged)");
  return TraceBlockDigest::Decode(prefix.substr(header, static_cast<size_t>(digest_size)));
}

Result<TraceBlockDigest> ReadTraceBlockDigest(Env* env, const std::string& block_path) {
  const std::string path = TraceSummaryPath(block_path);
  ARIADNE_ASSIGN_OR_RETURN(std::string prefix, env->ReadFileRange(path, 0, kDigestFirstRead));
  size_t needed = 0;
  Result<TraceBlockDigest> digest = DecodeTraceBlockDigest(prefix, &needed);
  if (!digest.ok() && needed > prefix.size() && prefix.size() == kDigestFirstRead) {
    ARIADNE_ASSIGN_OR_RETURN(prefix, env->ReadFileRange(path, 0, needed));
    digest = DecodeTraceBlockDigest(prefix, &needed);
  }
  if (!digest.ok()) return digest.status().WithContext(path);
  return digest;
}

Result<std::vector<TraceSummary>> ReadTraceSummaryFile(Env* env, const std::string& block_path) {
  ARIADNE_ASSIGN_OR_RETURN(TraceSummaryParts parts, ReadTraceSummaryParts(env, block_path));
  return std::move(parts.parts);
}

}  // namespace ariadne::store::embedded
