#include "store/embedded/manifest.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "columnar/coding.h"

namespace ariadne::store::embedded {

using columnar::ByteReader;
using columnar::DecodeFixed32;
using columnar::PutFixed32;
using columnar::PutString;
using columnar::PutVarint;
namespace {

constexpr char kMagic[4] = {'A', 'R', 'M', 'F'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 8;
constexpr size_t kRecordHeaderSize = 8;  // length (u32) | crc32 of payload (u32)

enum Tag : uint64_t {
  kCoveredSegment = 1,
  kNextBlockId = 2,
  kSeal = 3,
  kAddedBlock = 4,
  kRemovedBlock = 5,
};

uint32_t Crc(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

std::string Frame(std::string_view payload) {
  std::string out;
  PutFixed32(&out, static_cast<uint32_t>(payload.size()));
  PutFixed32(&out, Crc(payload));
  out.append(payload);
  return out;
}

std::string Header() {
  std::string out(kMagic, 4);
  PutFixed32(&out, kVersion);
  return out;
}

const char* kWhatToDo =
    "; the block files are intact: restart with `ariadne serve --recover-manifest` to rebuild the "
    "manifest from them (docs/operations.md, \"Recovering the manifest\")";

}  // namespace

std::string VersionEdit::Encode() const {
  std::string out;
  if (covered_segment) {
    PutVarint(&out, kCoveredSegment);
    PutVarint(&out, *covered_segment);
  }
  if (next_block_id) {
    PutVarint(&out, kNextBlockId);
    PutVarint(&out, *next_block_id);
  }
  if (seal) {
    PutVarint(&out, kSeal);
    PutVarint(&out, *seal);
  }
  for (const BlockRecord& b : added) {
    PutVarint(&out, kAddedBlock);
    PutVarint(&out, b.id);
    PutString(&out, b.environment);
    PutVarint(&out, b.min_start_unix_nano);
    PutVarint(&out, b.max_end_unix_nano);
    PutVarint(&out, b.num_rows);
    PutVarint(&out, b.file_bytes);
    PutVarint(&out, b.level);
  }
  for (uint64_t id : removed) {
    PutVarint(&out, kRemovedBlock);
    PutVarint(&out, id);
  }
  return out;
}

Result<VersionEdit> VersionEdit::Decode(std::string_view data) {
  VersionEdit edit;
  ByteReader in(data);
  while (!in.empty()) {
    uint64_t tag = 0, value = 0;
    if (!in.GetVarint(&tag)) return Status::DataLoss("manifest edit: truncated field tag");
    switch (tag) {
      case kCoveredSegment:
      case kNextBlockId:
      case kSeal:
      case kRemovedBlock:
        if (!in.GetVarint(&value)) return Status::DataLoss("manifest edit: truncated field");
        if (tag == kCoveredSegment) edit.covered_segment = value;
        if (tag == kNextBlockId) edit.next_block_id = value;
        if (tag == kSeal) edit.seal = value;
        if (tag == kRemovedBlock) edit.removed.push_back(value);
        break;
      case kAddedBlock: {
        BlockRecord b;
        std::string_view env;
        uint32_t level = 0;
        if (!in.GetVarint(&b.id) || !in.GetString(&env) || !in.GetVarint(&b.min_start_unix_nano) ||
            !in.GetVarint(&b.max_end_unix_nano) || !in.GetVarint(&b.num_rows) ||
            !in.GetVarint(&b.file_bytes) || !in.GetVarint32(&level))
          return Status::DataLoss("manifest edit: truncated block record");
        b.environment = std::string(env);
        b.level = level;
        edit.added.push_back(std::move(b));
        break;
      }
      default:
        return Status::DataLoss("manifest edit: unknown field " + std::to_string(tag));
    }
  }
  return edit;
}

void ManifestState::Apply(const VersionEdit& edit) {
  for (uint64_t id : edit.removed) blocks.erase(id);
  for (const BlockRecord& b : edit.added) {
    blocks[b.id] = b;
    next_block_id = std::max(next_block_id, b.id + 1);
  }
  if (edit.covered_segment) covered_segment = std::max(covered_segment, *edit.covered_segment);
  if (edit.next_block_id) next_block_id = std::max(next_block_id, *edit.next_block_id);
  if (edit.seal) seal = std::max(seal, *edit.seal);
}

VersionEdit ManifestState::Snapshot() const {
  VersionEdit edit;
  for (const auto& [id, b] : blocks) edit.added.push_back(b);
  edit.covered_segment = covered_segment;
  edit.next_block_id = next_block_id;
  edit.seal = seal;
  return edit;
}

uint64_t ManifestState::bytes() const {
  uint64_t total = 0;
  for (const auto& [id, b] : blocks) total += b.file_bytes;
  return total;
}

std::string ManifestFileName(uint64_t number) {
  char name[40];
  std::snprintf(name, sizeof(name), "MANIFEST-%06llu", static_cast<unsigned long long>(number));
  return name;
}

namespace {
uint64_t ParseNumber(std::string_view digits) {
  if (digits.empty() || digits.size() > 19) return 0;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}
}  // namespace

uint64_t ParseManifestFileName(std::string_view name) {
  constexpr std::string_view kPrefix = "MANIFEST-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return 0;
  return ParseNumber(name.substr(kPrefix.size()));
}

std::string BlockFileName(uint64_t id) {
  char name[40];
  std::snprintf(name, sizeof(name), "%012llu.blk", static_cast<unsigned long long>(id));
  return name;
}

uint64_t ParseBlockFileName(std::string_view name) {
  constexpr std::string_view kSuffix = ".blk";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix)
    return 0;
  return ParseNumber(name.substr(0, name.size() - kSuffix.size()));
}

Result<ManifestState> DecodeManifestFile(std::string_view data, bool* torn_tail) {
  *torn_tail = false;
  if (data.size() < kHeaderSize || data.substr(0, 4) != std::string_view(kMagic, 4))
    return Status::DataLoss("not a manifest file (bad header)");
  if (DecodeFixed32(data.data() + 4) != kVersion)
    return Status::DataLoss("manifest version " + std::to_string(DecodeFixed32(data.data() + 4)) +
                            " is not supported by this release");
  ManifestState state;
  size_t pos = kHeaderSize;
  bool first = true;
  while (pos < data.size()) {
    const size_t left = data.size() - pos;
    if (left < kRecordHeaderSize) {
      *torn_tail = true;
      break;
    }
    const uint32_t length = DecodeFixed32(data.data() + pos);
    const uint32_t crc = DecodeFixed32(data.data() + pos + 4);
    if (length > left - kRecordHeaderSize) {
      *torn_tail = true;  // cut short by a crash
      break;
    }
    std::string_view payload = data.substr(pos + kRecordHeaderSize, length);
    const bool last = pos + kRecordHeaderSize + length == data.size();
    if (Crc(payload) != crc) {
      if (last && !first) {
        *torn_tail = true;
        break;
      }
      return Status::DataLoss("manifest record at offset " + std::to_string(pos) +
                              " fails its checksum");
    }
    Result<VersionEdit> edit = VersionEdit::Decode(payload);
    if (!edit.ok())
      return Status::DataLoss(std::string(edit.status().message()) + " at offset " +
                              std::to_string(pos));
    state.Apply(*edit);
    pos += kRecordHeaderSize + length;
    first = false;
  }
  if (first) return Status::DataLoss("the manifest holds no snapshot record");
  return state;
}

Manifest::Manifest(Env* env, std::string data_dir, ManifestState state, uint64_t next_file_number)
    : env_(env), data_dir_(std::move(data_dir)) {
  MutexLock lock(&mu_);
  state_ = std::move(state);
  next_block_id_ = state_.next_block_id;
  next_file_number_ = next_file_number;
}

Manifest::~Manifest() {
  MutexLock lock(&mu_);
  if (file_) (void)file_->Close();
}

Result<std::unique_ptr<Manifest>> Manifest::Load(Env* env, const std::string& data_dir) {
  const std::string current_path = data_dir + "/CURRENT";
  if (!env->FileExists(current_path)) return Status::NotFound("no CURRENT file in " + data_dir);
  ARIADNE_ASSIGN_OR_RETURN(std::string current, env->ReadFile(current_path));
  while (!current.empty() && (current.back() == '\n' || current.back() == '\r')) current.pop_back();
  const uint64_t number = ParseManifestFileName(current);
  if (number == 0)
    return Status::DataLoss(current_path + " does not name a manifest (it holds \"" +
                            current.substr(0, 64) + "\")" + kWhatToDo);
  const std::string path = data_dir + "/" + current;
  Result<std::string> data = env->ReadFile(path);
  if (!data.ok()) {
    if (!env->FileExists(path))
      return Status::DataLoss("the manifest " + path + " named by " + current_path + " is missing" +
                              kWhatToDo);
    return data.status();
  }
  bool torn = false;
  Result<ManifestState> state = DecodeManifestFile(*data, &torn);
  if (!state.ok())
    return Status::DataLoss("the manifest " + path +
                            " is damaged: " + std::string(state.status().message()) + kWhatToDo);
  if (torn)
    std::fprintf(stderr,
                 "ariadne: manifest %s ends in an edit cut short by a crash (never acknowledged); "
                 "it is ignored\n",
                 path.c_str());
  // Every older manifest file is superseded; the rewrite below drops the log's history.
  ARIADNE_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(data_dir));
  uint64_t highest = number;
  for (const std::string& name : names) highest = std::max(highest, ParseManifestFileName(name));
  std::unique_ptr<Manifest> manifest(new Manifest(env, data_dir, std::move(*state), highest + 1));
  {
    MutexLock lock(&manifest->mu_);
    manifest->file_number_ = number;
    ARIADNE_RETURN_IF_ERROR(manifest->Rewrite());
  }
  const std::string live = manifest->current_file();
  for (const std::string& name : names)
    if (ParseManifestFileName(name) != 0 && name != live)
      (void)env->RemoveFile(data_dir + "/" + name);
  return manifest;
}

Result<std::unique_ptr<Manifest>> Manifest::Create(Env* env, const std::string& data_dir,
                                                   ManifestState state) {
  ARIADNE_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(data_dir));
  uint64_t highest = 0;
  for (const std::string& name : names) highest = std::max(highest, ParseManifestFileName(name));
  std::unique_ptr<Manifest> manifest(new Manifest(env, data_dir, std::move(state), highest + 1));
  {
    MutexLock lock(&manifest->mu_);
    ARIADNE_RETURN_IF_ERROR(manifest->Rewrite());
  }
  const std::string live = manifest->current_file();
  for (const std::string& name : names)
    if (ParseManifestFileName(name) != 0 && name != live)
      (void)env->RemoveFile(data_dir + "/" + name);
  return manifest;
}

Status Manifest::Rewrite() {
  const uint64_t number = next_file_number_++;
  const std::string name = ManifestFileName(number);
  const std::string path = data_dir_ + "/" + name;
  std::string contents = Header() + Frame(state_.Snapshot().Encode());
  ARIADNE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env_->NewWritableFile(path));
  Status s = file->Append(contents);
  if (s.ok()) s = file->Sync();
  if (!s.ok()) {
    (void)file->Close();
    (void)env_->RemoveFile(path);
    broken_ = true;
    return s.WithContext("cannot write a new manifest");
  }
  // From the rename on, CURRENT may name the new file even when a later step fails.
  s = WriteFileAtomically(env_, data_dir_ + "/CURRENT", name + "\n");
  if (!s.ok()) {
    (void)file->Close();
    broken_ = true;
    return s.WithContext("cannot point CURRENT at the new manifest");
  }
  const uint64_t old_number = file_number_;
  if (file_) (void)file_->Close();
  file_ = std::move(file);
  file_number_ = number;
  log_bytes_ = 0;
  broken_ = false;
  if (old_number != 0 && old_number != number)
    (void)env_->RemoveFile(data_dir_ + "/" + ManifestFileName(old_number));
  return Status::Ok();
}

Status Manifest::Apply(const VersionEdit& edit) {
  MutexLock lock(&mu_);
  if (broken_ || !file_) ARIADNE_RETURN_IF_ERROR(Rewrite());
  const std::string record = Frame(edit.Encode());
  Status s = file_->Append(record);
  if (s.ok()) s = file_->Sync();
  if (!s.ok()) {
    s = s.WithContext("cannot append to manifest " + ManifestFileName(file_number_));
    // The record may be torn or durable: start a fresh manifest without it before anything else.
    broken_ = true;
    Status rewritten = Rewrite();
    if (!rewritten.ok())
      std::fprintf(stderr, "ariadne: %s (will retry before the next manifest edit)\n",
                   rewritten.ToString().c_str());
    return s;
  }
  state_.Apply(edit);
  next_block_id_ = std::max(next_block_id_, state_.next_block_id);
  log_bytes_ += record.size();
  if (log_bytes_ > kRewriteBytes) {
    Status rewritten = Rewrite();  // the edit is durable either way
    if (!rewritten.ok())
      std::fprintf(stderr, "ariadne: %s (will retry before the next manifest edit)\n",
                   rewritten.ToString().c_str());
  }
  return Status::Ok();
}

ManifestState Manifest::state() const {
  MutexLock lock(&mu_);
  return state_;
}

uint64_t Manifest::NewBlockId() {
  MutexLock lock(&mu_);
  return next_block_id_++;
}

std::string Manifest::current_file() const {
  MutexLock lock(&mu_);
  return ManifestFileName(file_number_);
}

}  // namespace ariadne::store::embedded
