#include "store/embedded/wal.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "store/embedded/coding.h"

namespace ariadne::store::embedded {
namespace {

uint32_t RecordCrc(uint8_t type, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, &type, 1);
  // zlib's crc32 takes a uInt length; payloads are capped at kWalMaxRecordBytes (< 4 GiB).
  crc =
      crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<uint32_t>(crc);
}

Status ErrnoStatus(const std::string& what) {
  return Status::IoError(what + ": " + std::strerror(errno));
}

}  // namespace

void FrameWalRecord(WalRecordType type, std::string_view payload, std::string* out) {
  uint8_t t = static_cast<uint8_t>(type);
  PutFixed32(out, RecordCrc(t, payload));
  PutFixed32(out, static_cast<uint32_t>(payload.size()));
  out->push_back(static_cast<char>(t));
  out->append(payload.data(), payload.size());
}

std::string WalSegmentPath(const std::string& wal_dir, uint64_t segment) {
  char name[32];
  std::snprintf(name, sizeof(name), "%08llu.log", static_cast<unsigned long long>(segment));
  return wal_dir + "/" + name;
}

Result<std::vector<uint64_t>> ListWalSegments(const std::string& wal_dir) {
  std::vector<uint64_t> segments;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(wal_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() != 12 || name.substr(8) != ".log") continue;
    if (name.find_first_not_of("0123456789") != 8) continue;
    segments.push_back(std::stoull(name.substr(0, 8)));
  }
  if (ec) return Status::IoError("cannot list WAL directory " + wal_dir + ": " + ec.message());
  std::sort(segments.begin(), segments.end());
  return segments;
}

Result<std::unique_ptr<WalWriter>> WalWriter::Create(const std::string& wal_dir, uint64_t segment) {
  std::string path = WalSegmentPath(wal_dir, segment);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create WAL segment " + path);
  ARIADNE_RETURN_IF_ERROR(SyncDirectory(wal_dir));
  return std::unique_ptr<WalWriter>(new WalWriter(fd, segment));
}

WalWriter::~WalWriter() { (void)Close(); }

Status WalWriter::Append(std::string_view framed) {
  const char* p = framed.data();
  size_t left = framed.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("WAL write failed (is the disk full?)");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  bytes_written_ += framed.size();
  return Status::Ok();
}

Status WalWriter::Sync() {
  if (::fdatasync(fd_) != 0) return ErrnoStatus("WAL fdatasync failed");
  return Status::Ok();
}

Status WalWriter::Close() {
  if (fd_ < 0) return Status::Ok();
  Status s = Sync();
  ::close(fd_);
  fd_ = -1;
  return s;
}

Result<WalReadSummary> ReadWalSegment(
    const std::string& path,
    const std::function<Status(WalRecordType, std::string_view payload)>& on_record) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::IoError("cannot open WAL segment " + path);
  std::string data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  WalReadSummary summary;
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < kWalHeaderSize) {
      summary.drop_reason = "truncated record header";
      break;
    }
    uint32_t crc = DecodeFixed32(data.data() + pos);
    uint32_t length = DecodeFixed32(data.data() + pos + 4);
    uint8_t type = static_cast<uint8_t>(data[pos + 8]);
    if (length > kWalMaxRecordBytes || data.size() - pos - kWalHeaderSize < length) {
      summary.drop_reason = "truncated record";
      break;
    }
    std::string_view payload(data.data() + pos + kWalHeaderSize, length);
    if (RecordCrc(type, payload) != crc) {
      summary.drop_reason = "checksum mismatch";
      break;
    }
    if (type != static_cast<uint8_t>(WalRecordType::kSpanBatch)) {
      summary.drop_reason = "unknown record type " + std::to_string(type);
      break;
    }
    ARIADNE_RETURN_IF_ERROR(on_record(static_cast<WalRecordType>(type), payload));
    pos += kWalHeaderSize + length;
    summary.records++;
  }
  summary.bytes_read = pos;
  summary.bytes_dropped = data.size() - pos;
  return summary;
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open directory " + dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot fsync directory " + dir);
  return Status::Ok();
}

}  // namespace ariadne::store::embedded
