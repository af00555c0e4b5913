// Fuzzes WAL recovery: the input is decoded as one WAL segment's bytes (DecodeWalSegment, what
// recovery runs on each segment file), record by record, and each record's payload decoded
// as recovery does (environment string + DecodeSpanBatch) and applied to a head block
// (BlockBuilder::Append, then Seal).
// Oracle: no crash or sanitizer report; decoded batches have in-range ranges.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "columnar/batch_codec.h"
#include "columnar/block.h"
#include "columnar/coding.h"
#include "fuzz/fuzz_util.h"
#include "store/embedded/wal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ariadne;
  using namespace ariadne::store::embedded;
  using namespace ariadne::columnar;
  BlockBuilder head("default");
  (void)DecodeWalSegment(std::string_view(reinterpret_cast<const char*>(data), size),
                         [&](WalRecordType, std::string_view payload) -> Status {
                           ByteReader in(payload);
                           std::string_view environment;
                           if (!in.GetString(&environment))
                             return Status::DataLoss("WAL record lacks its environment");
                           auto batch = DecodeSpanBatch(payload.substr(in.position()));
                           if (!batch.ok()) return batch.status();
                           fuzz::CheckBatch(*batch, /*utf8=*/false);
                           head.Append(*batch);
                           return Status::Ok();
                         });
  if (head.num_rows() > 0) (void)head.Seal();
  return 0;
}
