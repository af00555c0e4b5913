#include "store/embedded/trace_split_file.h"

#include <zlib.h>

#include <algorithm>

#include "columnar/coding.h"

namespace ariadne::store::embedded {
namespace {

constexpr std::string_view kMagic = "ATSP";
constexpr uint64_t kVersion = 1;

uint32_t Crc(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

Status Damaged(const std::string& why) {
  return Status::DataLoss("trace split list: " + why +
                          " (derived data: delete it and the next open rebuilds it from the "
                          "blocks' side files)");
}

}  // namespace

std::string TraceSplitPath(const std::string& data_dir) { return data_dir + "/trace-splits"; }

std::string EncodeTraceSplits(const std::vector<SplitTrace>& traces) {
  std::string out(kMagic);
  columnar::PutVarint(&out, kVersion);
  columnar::PutVarint(&out, traces.size());
  for (const SplitTrace& t : traces) {
    columnar::PutString(&out, t.environment);
    out.append(reinterpret_cast<const char*>(t.id.bytes.data()), t.id.bytes.size());
    columnar::PutVarint(&out, t.start_unix_nano);
    columnar::PutVarint(&out, t.last_start_unix_nano);
  }
  columnar::PutFixed32(&out, Crc(out));
  return out;
}

Result<std::vector<SplitTrace>> DecodeTraceSplits(std::string_view data) {
  if (data.size() < kMagic.size() + 4 || data.substr(0, kMagic.size()) != kMagic)
    return Damaged("bad magic or too short");
  const std::string_view checked = data.substr(0, data.size() - 4);
  if (Crc(checked) != columnar::DecodeFixed32(data.data() + checked.size()))
    return Damaged("checksum mismatch (torn or damaged)");
  columnar::ByteReader r(checked.substr(kMagic.size()));
  uint64_t version = 0, count = 0;
  if (!r.GetVarint(&version)) return Damaged("no version");
  if (version != kVersion)
    return Damaged("unknown version " + std::to_string(version) + " (written by a newer release)");
  if (!r.GetVarint(&count) || count > r.remaining()) return Damaged("bad count");
  std::vector<SplitTrace> out(count);
  for (SplitTrace& t : out) {
    std::string_view env, id;
    if (!r.GetString(&env) || !r.GetBytes(t.id.bytes.size(), &id) ||
        !r.GetVarint(&t.start_unix_nano) || !r.GetVarint(&t.last_start_unix_nano))
      return Damaged("truncated entry");
    t.environment.assign(env);
    std::copy(id.begin(), id.end(), t.id.bytes.begin());
  }
  if (!r.empty()) return Damaged("trailing bytes");
  return out;
}

Status WriteTraceSplitFile(Env* env, const std::string& data_dir,
                           const std::vector<SplitTrace>& traces) {
  return WriteFileAtomically(env, TraceSplitPath(data_dir), EncodeTraceSplits(traces))
      .WithContext("writing the trace split list");
}

Result<std::vector<SplitTrace>> ReadTraceSplitFile(Env* env, const std::string& data_dir) {
  const std::string path = TraceSplitPath(data_dir);
  if (!env->FileExists(path)) return Status::NotFound(path + " does not exist");
  ARIADNE_ASSIGN_OR_RETURN(std::string data, env->ReadFile(path));
  Result<std::vector<SplitTrace>> out = DecodeTraceSplits(data);
  if (!out.ok()) return out.status().WithContext(path);
  return out;
}

}  // namespace ariadne::store::embedded
