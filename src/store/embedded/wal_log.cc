#include "store/embedded/wal_log.h"

#include <cstdio>

namespace ariadne::store::embedded {

Status WalLog::Start(uint64_t segment) {
  ARIADNE_ASSIGN_OR_RETURN(writer_, WalWriter::Create(env_, wal_dir_, segment));
  return Status::Ok();
}

Status WalLog::Commit(std::string_view framed, bool sync) {
  uint64_t unused = 0;
  Status status = writer_->broken() ? Rotate(&unused) : Status::Ok();
  if (status.ok()) {
    status = writer_->Commit(framed, sync);
    if (!status.ok() && writer_->broken()) (void)Rotate(&unused);  // try right away
  }
  if (status.ok()) {
    if (failing_) {
      std::fprintf(stderr, "ariadne: WAL writes succeed again; ingest resumed\n");
      failing_ = false;
    }
    return status;
  }
  write_failures_++;
  if (!failing_) {
    std::fprintf(stderr,
                 "ariadne: cannot write the WAL (%s); appends are refused (clients are told to "
                 "retry: 503) until a write succeeds\n",
                 status.ToString().c_str());
    failing_ = true;
  }
  return Status::Unavailable("the store cannot write its log (" + std::string(status.message()) +
                             "); nothing of this request was stored, retry later");
}

Status WalLog::Rotate(uint64_t* closed_segment) {
  ARIADNE_ASSIGN_OR_RETURN(std::unique_ptr<WalWriter> next,
                           WalWriter::Create(env_, wal_dir_, writer_->segment() + 1));
  *closed_segment = writer_->segment();
  Status closed = writer_->broken() ? Status::Ok() : writer_->Close();
  writer_ = std::move(next);
  return closed;
}

Status WalLog::Close() { return writer_ ? writer_->Close() : Status::Ok(); }

}  // namespace ariadne::store::embedded
