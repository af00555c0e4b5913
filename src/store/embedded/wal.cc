#include "store/embedded/wal.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "columnar/coding.h"

namespace ariadne::store::embedded {

using columnar::DecodeFixed32;
using columnar::PutFixed32;
namespace {

constexpr char kSegmentMagic[4] = {'A', 'R', 'W', 'L'};
constexpr uint32_t kRecordMagic = 0xC7A1D5E3;  // bytes e3 d5 a1 c7
constexpr size_t kRecordHeaderCrcSpan = 13;    // magic, length, spans, type

uint32_t Crc(uint32_t crc, const void* data, size_t size) {
  // zlib's crc32 takes a uInt length; records are capped at kWalMaxRecordBytes (< 4 GiB).
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(size)));
}

uint32_t V1RecordCrc(uint8_t type, std::string_view payload) {
  uint32_t crc = Crc(0, &type, 1);
  return Crc(crc, payload.data(), payload.size());
}

bool KnownType(uint8_t type) { return type == static_cast<uint8_t>(WalRecordType::kSpanBatch); }

// Version 1 (no segment header): crc | length | type | payload, reading stops at the first bad
// record.
Result<WalReadSummary> DecodeV1(
    std::string_view data,
    const std::function<Status(WalRecordType, std::string_view payload)>& on_record) {
  WalReadSummary summary;
  summary.version = 1;
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < kWalV1RecordHeaderSize) {
      summary.drop_reason = "truncated record header";
      break;
    }
    uint32_t crc = DecodeFixed32(data.data() + pos);
    uint32_t length = DecodeFixed32(data.data() + pos + 4);
    uint8_t type = static_cast<uint8_t>(data[pos + 8]);
    if (length > kWalMaxRecordBytes || data.size() - pos - kWalV1RecordHeaderSize < length) {
      summary.drop_reason = "truncated record";
      break;
    }
    std::string_view payload(data.data() + pos + kWalV1RecordHeaderSize, length);
    if (V1RecordCrc(type, payload) != crc) {
      summary.drop_reason = "checksum mismatch";
      break;
    }
    if (!KnownType(type)) {
      summary.drop_reason = "unknown record type " + std::to_string(type);
      break;
    }
    ARIADNE_RETURN_IF_ERROR(on_record(static_cast<WalRecordType>(type), payload));
    pos += kWalV1RecordHeaderSize + length;
    summary.records++;
  }
  summary.bytes_read = pos;
  summary.bytes_dropped = data.size() - pos;
  return summary;
}

enum class RecordCheck { kOk, kTruncatedHeader, kBadHeader, kTruncatedPayload, kBadPayload };

const char* CheckReason(RecordCheck check) {
  switch (check) {
    case RecordCheck::kOk:
      return "";
    case RecordCheck::kTruncatedHeader:
      return "truncated record header";
    case RecordCheck::kBadHeader:
      return "bad record header (magic or checksum)";
    case RecordCheck::kTruncatedPayload:
      return "truncated record";
    case RecordCheck::kBadPayload:
      return "payload checksum mismatch";
  }
  return "";
}

struct RecordHeader {
  uint32_t length = 0;
  uint32_t spans = 0;
  uint8_t type = 0;
};

RecordCheck CheckRecord(std::string_view data, size_t pos, RecordHeader* header) {
  if (data.size() - pos < kWalRecordHeaderSize) return RecordCheck::kTruncatedHeader;
  const char* p = data.data() + pos;
  if (DecodeFixed32(p) != kRecordMagic) return RecordCheck::kBadHeader;
  if (Crc(0, p, kRecordHeaderCrcSpan) != DecodeFixed32(p + kRecordHeaderCrcSpan))
    return RecordCheck::kBadHeader;
  header->length = DecodeFixed32(p + 4);
  header->spans = DecodeFixed32(p + 8);
  header->type = static_cast<uint8_t>(p[12]);
  if (header->length > kWalMaxRecordBytes) return RecordCheck::kBadHeader;
  if (data.size() - pos - kWalRecordHeaderSize < header->length)
    return RecordCheck::kTruncatedPayload;
  if (Crc(0, p + kWalRecordHeaderSize, header->length) != DecodeFixed32(p + 17))
    return RecordCheck::kBadPayload;
  return RecordCheck::kOk;
}

// The first offset >= `from` where an intact record starts, or npos.
size_t FindNextRecord(std::string_view data, size_t from) {
  char magic[4];
  std::string m;
  PutFixed32(&m, kRecordMagic);
  std::memcpy(magic, m.data(), 4);
  while (from < data.size()) {
    size_t at = data.find(std::string_view(magic, 4), from);
    if (at == std::string_view::npos) return at;
    RecordHeader header;
    if (CheckRecord(data, at, &header) == RecordCheck::kOk) return at;
    from = at + 1;
  }
  return std::string_view::npos;
}

}  // namespace

std::string WalSegmentHeader() {
  std::string header(kSegmentMagic, sizeof(kSegmentMagic));
  PutFixed32(&header, kWalSegmentVersion);
  return header;
}

void FrameWalRecord(WalRecordType type, std::string_view payload, uint32_t spans,
                    std::string* out) {
  const size_t start = out->size();
  PutFixed32(out, kRecordMagic);
  PutFixed32(out, static_cast<uint32_t>(payload.size()));
  PutFixed32(out, spans);
  out->push_back(static_cast<char>(type));
  PutFixed32(out, Crc(0, out->data() + start, kRecordHeaderCrcSpan));
  PutFixed32(out, Crc(0, payload.data(), payload.size()));
  out->append(payload.data(), payload.size());
}

std::string WalSegmentPath(const std::string& wal_dir, uint64_t segment) {
  char name[32];
  std::snprintf(name, sizeof(name), "%08llu.log", static_cast<unsigned long long>(segment));
  return wal_dir + "/" + name;
}

Result<std::vector<uint64_t>> ListWalSegments(Env* env, const std::string& wal_dir) {
  ARIADNE_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(wal_dir));
  std::vector<uint64_t> segments;
  for (const std::string& name : names) {
    if (name.size() != 12 || name.substr(8) != ".log") continue;
    if (name.find_first_not_of("0123456789") != 8) continue;
    segments.push_back(std::stoull(name.substr(0, 8)));
  }
  std::sort(segments.begin(), segments.end());
  return segments;
}

Result<std::unique_ptr<WalWriter>> WalWriter::Create(Env* env, const std::string& wal_dir,
                                                     uint64_t segment) {
  std::string path = WalSegmentPath(wal_dir, segment);
  ARIADNE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(path));
  const std::string header = WalSegmentHeader();
  Status s = file->Append(header);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = env->SyncDir(wal_dir);
  if (!s.ok()) {
    (void)file->Close();
    (void)env->RemoveFile(path);
    return s.WithContext("cannot start WAL segment " + path);
  }
  std::unique_ptr<WalWriter> writer(new WalWriter(std::move(file), path, segment));
  writer->committed_ = header.size();
  return writer;
}

WalWriter::~WalWriter() { (void)Close(); }

Status WalWriter::Commit(std::string_view framed, bool sync) {
  if (!file_) return Status::FailedPrecondition("WAL segment " + path_ + " is closed");
  if (broken_)
    return Status::FailedPrecondition("WAL segment " + path_ +
                                      " ends in a failed write that could not be undone");
  Status s = file_->Append(framed);
  if (s.ok() && sync) s = file_->Sync();
  if (s.ok()) {
    committed_ += framed.size();
    return s;
  }
  // Nothing of this commit may stay in front of later records: cut it off.
  Status undo = file_->Truncate(committed_);
  if (undo.ok() && sync) undo = file_->Sync();
  if (undo.ok()) {
    ++rollbacks_;
  } else {
    broken_ = true;
  }
  return s;
}

Status WalWriter::Close() {
  if (!file_) return Status::Ok();
  Status s = broken_ ? Status::Ok() : file_->Sync();
  Status closed = file_->Close();
  file_.reset();
  return s.ok() ? closed : s;
}

Result<WalReadSummary> DecodeWalSegment(
    std::string_view data,
    const std::function<Status(WalRecordType, std::string_view payload)>& on_record) {
  if (data.size() < 4 || data.substr(0, 4) != std::string_view(kSegmentMagic, 4))
    return DecodeV1(data, on_record);
  WalReadSummary summary;
  summary.version = kWalSegmentVersion;
  if (data.size() < kWalSegmentHeaderSize) {
    summary.bytes_dropped = data.size();
    summary.drop_reason = "truncated segment header";
    return summary;
  }
  const uint32_t version = DecodeFixed32(data.data() + 4);
  if (version != kWalSegmentVersion) {
    summary.bytes_dropped = data.size();
    summary.drop_reason = "unknown segment version " + std::to_string(version);
    return summary;
  }
  size_t pos = kWalSegmentHeaderSize;
  summary.bytes_read = pos;
  while (pos < data.size()) {
    RecordHeader h;
    RecordCheck check = CheckRecord(data, pos, &h);
    if (check == RecordCheck::kOk && KnownType(h.type)) {
      std::string_view payload = data.substr(pos + kWalRecordHeaderSize, h.length);
      ARIADNE_RETURN_IF_ERROR(on_record(static_cast<WalRecordType>(h.type), payload));
      pos += kWalRecordHeaderSize + h.length;
      summary.bytes_read += kWalRecordHeaderSize + h.length;
      summary.records++;
      continue;
    }
    // Damaged (or of a type this build does not know): find the next intact record. When the
    // header is intact its length says where that should be; otherwise scan for the magic.
    const bool header_ok = check == RecordCheck::kOk || check == RecordCheck::kBadPayload;
    size_t next = std::string_view::npos;
    if (header_ok) {
      const size_t expected = pos + kWalRecordHeaderSize + h.length;
      RecordHeader ignored;
      if (expected < data.size() && CheckRecord(data, expected, &ignored) == RecordCheck::kOk)
        next = expected;
    }
    if (next == std::string_view::npos) next = FindNextRecord(data, pos + 1);
    std::string reason = check == RecordCheck::kOk ? "unknown record type " + std::to_string(h.type)
                                                   : CheckReason(check);
    if (next == std::string_view::npos) {
      // Nothing intact follows: a torn tail (a crash mid-write; that commit was never
      // acknowledged). A damaged last record looks the same and is reported the same way.
      summary.bytes_dropped = data.size() - pos;
      summary.drop_reason = reason;
      break;
    }
    summary.skipped.push_back(
        WalSkip{pos, next - pos, header_ok ? static_cast<int64_t>(h.spans) : -1, reason});
    pos = next;
  }
  return summary;
}

Result<WalReadSummary> ReadWalSegment(
    Env* env, const std::string& path,
    const std::function<Status(WalRecordType, std::string_view payload)>& on_record) {
  ARIADNE_ASSIGN_OR_RETURN(std::string data, env->ReadFile(path));
  return DecodeWalSegment(data, on_record);
}

}  // namespace ariadne::store::embedded
