#include "store/embedded/wal_replay.h"

#include <cstdio>
#include <filesystem>

#include "columnar/batch_codec.h"
#include "columnar/coding.h"
#include "store/embedded/wal.h"

namespace ariadne::store::embedded {

using columnar::ByteReader;
using columnar::DecodeSpanBatch;

Result<WalReplayCounts> ReplayWalSegment(
    Env* env, Quarantine* quarantine, const std::string& path,
    const std::function<void(std::string_view environment, const model::SpanBatch&)>& apply) {
  ARIADNE_ASSIGN_OR_RETURN(std::string data, env->ReadFile(path));
  auto replay = [&](WalRecordType, std::string_view payload) -> Status {
    ByteReader in(payload);
    std::string_view environment;
    if (!in.GetString(&environment)) return Status::DataLoss("WAL record lacks its environment");
    ARIADNE_ASSIGN_OR_RETURN(model::SpanBatch batch,
                             DecodeSpanBatch(payload.substr(in.position())));
    apply(environment, batch);
    return Status::Ok();
  };
  ARIADNE_ASSIGN_OR_RETURN(WalReadSummary summary, DecodeWalSegment(data, replay));
  WalReplayCounts counts;
  counts.records = summary.records;
  if (summary.bytes_dropped > 0)
    std::fprintf(stderr,
                 "ariadne: WAL segment %s: ignored %llu bytes after the last intact record "
                 "(%s); a write cut short by a crash, never acknowledged\n",
                 path.c_str(), static_cast<unsigned long long>(summary.bytes_dropped),
                 summary.drop_reason.c_str());
  if (summary.skipped.empty()) {
    counts.empty = summary.records == 0;
    return counts;
  }
  for (const WalSkip& skip : summary.skipped) {
    counts.corrupt_records++;
    counts.skipped_bytes += skip.bytes;
    if (skip.spans > 0) counts.skipped_spans += static_cast<uint64_t>(skip.spans);
    std::string spans = skip.spans >= 0 ? std::to_string(skip.spans) + " spans"
                                        : "an unknown number of spans (record header damaged)";
    std::fprintf(stderr,
                 "ariadne: WAL segment %s: skipped a damaged record at offset %llu (%llu bytes, "
                 "%s: %s); replay went on with the next intact record\n",
                 path.c_str(), static_cast<unsigned long long>(skip.offset),
                 static_cast<unsigned long long>(skip.bytes), spans.c_str(), skip.reason.c_str());
  }
  Result<std::string> kept =
      quarantine->Keep("wal-" + std::filesystem::path(path).filename().string(), data);
  if (kept.ok())
    std::fprintf(stderr, "ariadne: a copy of damaged WAL segment %s is in %s\n", path.c_str(),
                 kept->c_str());
  else
    std::fprintf(stderr, "ariadne: cannot keep a copy of damaged WAL segment %s: %s\n",
                 path.c_str(), kept.status().ToString().c_str());
  return counts;
}

}  // namespace ariadne::store::embedded
