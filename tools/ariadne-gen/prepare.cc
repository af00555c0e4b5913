#include "tools/ariadne-gen/prepare.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/gen/clickhouse_rows.h"
#include "tools/gen/otlp_request.h"
#include "tools/gen/realistic_spans.h"

namespace ariadne::gen {
namespace {

bool WriteAll(FILE* f, std::string_view bytes) {
  return std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
}

void PutU32(uint32_t v, std::string* out) {
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}

}  // namespace

int PrepareDataSet(const PrepareOptions& o) {
  ::mkdir(o.dir.c_str(), 0755);
  const std::string otlp_path = o.dir + "/otlp.bin";
  FILE* otlp = std::fopen(otlp_path.c_str(), "wb");
  if (!otlp) {
    std::fprintf(stderr, "ariadne-gen: cannot write %s: %s\n", otlp_path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  RealisticOptions ro;
  ro.start_unix_nano = o.start_unix_nano;
  RealisticSpans gen(o.seed, ro);

  FILE* ch = nullptr;
  int ch_files = 0;
  uint64_t ch_rows_in_file = 0, ch_bytes = 0, otlp_bytes = 0, written = 0, requests = 0;
  uint64_t min_start = UINT64_MAX, max_start = 0, max_end = 0;
  std::vector<std::string> sample_traces;
  std::string record, rows;
  bool ok = true;
  while (ok && written < o.total_spans) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(o.batch_spans, o.total_spans - written));
    model::SpanBatch batch = gen.Batch(want);
    batch.spans.resize(want);
    for (const model::Span& s : batch.spans) {
      min_start = std::min(min_start, s.start_time_unix_nano);
      max_start = std::max(max_start, s.start_time_unix_nano);
      max_end = std::max(max_end, s.end_time_unix_nano);
    }
    // A few trace ids spread over the data set (the first span's trace of some requests).
    if (requests % 997 == 500 || requests == 0)
      sample_traces.push_back(batch.spans[0].trace_id.ToHex());

    std::string body = EncodeOtlpRequest(batch);
    record.clear();
    PutU32(static_cast<uint32_t>(want), &record);
    PutU32(static_cast<uint32_t>(body.size()), &record);
    ok = WriteAll(otlp, record) && WriteAll(otlp, body);
    otlp_bytes += body.size();

    // ClickHouse rows, split into files at request boundaries.
    if (!ch) {
      char name[64];
      std::snprintf(name, sizeof(name), "/clickhouse-%04d.rowbinary", ch_files++);
      ch = std::fopen((o.dir + name).c_str(), "wb");
      ch_rows_in_file = 0;
      if (!ch) {
        std::fprintf(stderr, "ariadne-gen: cannot write %s%s: %s\n", o.dir.c_str(), name,
                     std::strerror(errno));
        ok = false;
        break;
      }
    }
    rows.clear();
    AppendClickHouseRows(batch, &rows);
    ok = ok && WriteAll(ch, rows);
    ch_bytes += rows.size();
    ch_rows_in_file += want;
    if (ch_rows_in_file >= o.clickhouse_rows) {
      ok = std::fclose(ch) == 0 && ok;
      ch = nullptr;
    }
    written += want;
    ++requests;
    if (requests % 2000 == 0)
      std::fprintf(stderr, "ariadne-gen: prepared %llu/%llu spans\n",
                   static_cast<unsigned long long>(written),
                   static_cast<unsigned long long>(o.total_spans));
  }
  if (ch) ok = std::fclose(ch) == 0 && ok;
  ok = std::fclose(otlp) == 0 && ok;

  std::string traces;
  for (const std::string& t : sample_traces) traces += (traces.empty() ? "\"" : ", \"") + t + "\"";
  char meta[1024];
  std::snprintf(
      meta, sizeof(meta),
      "{\"spans\": %llu, \"requests\": %llu, \"batch_spans\": %zu, \"seed\": %llu,\n"
      " \"min_start_unix_nano\": %llu, \"max_start_unix_nano\": %llu,\n"
      " \"max_end_unix_nano\": %llu, \"otlp_bytes\": %llu, \"clickhouse_bytes\": %llu,\n"
      " \"clickhouse_files\": %d,\n",
      static_cast<unsigned long long>(written), static_cast<unsigned long long>(requests),
      o.batch_spans, static_cast<unsigned long long>(o.seed),
      static_cast<unsigned long long>(min_start), static_cast<unsigned long long>(max_start),
      static_cast<unsigned long long>(max_end), static_cast<unsigned long long>(otlp_bytes),
      static_cast<unsigned long long>(ch_bytes), ch_files);
  const std::string meta_path = o.dir + "/meta.json";
  FILE* m = std::fopen(meta_path.c_str(), "w");
  ok = ok && m && WriteAll(m, meta) && WriteAll(m, " \"trace_ids\": [" + traces + "]}\n");
  if (m) ok = std::fclose(m) == 0 && ok;
  if (!ok) {
    std::fprintf(stderr, "ariadne-gen: writing the data set in %s failed: %s\n", o.dir.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::printf("prepared %llu spans in %llu requests: %.1f B/span OTLP, %.1f B/span RowBinary\n",
              static_cast<unsigned long long>(written), static_cast<unsigned long long>(requests),
              static_cast<double>(otlp_bytes) / static_cast<double>(written),
              static_cast<double>(ch_bytes) / static_cast<double>(written));
  return 0;
}

}  // namespace ariadne::gen
