// Fuzzes the X-Ray filter language: Filter::Parse on arbitrary text and, for expressions it
// accepts, Matches() against a small fixed trace (frontend → backend → DynamoDB, decoded from real
// segment documents) with a group resolver that resolves every group to the input itself (the
// evaluator's group-recursion bound is exercised too).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "query/xray_filter/filter.h"
#include "query/xray_filter/trace_view.h"
#include "receivers/xray/segment_decoder.h"

namespace {

// The fixed trace: the xray_segment seeds (frontend segment → backend segment → DynamoDB, the
// trace of tests/query/xray_filter/filter_test.cc), read from the source tree.
std::string ReadSeed(const char* name) {
  const std::string path = std::string(ARIADNE_FUZZ_CORPUS_DIR) + "/xray_segment/" + name;
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const ariadne::query::xray_filter::TraceView& Trace() {
  static const ariadne::model::SpanBatch* batch = [] {
    auto* b = new ariadne::model::SpanBatch();
    using namespace ariadne::receivers::xray;
    std::string frontend = ReadSeed("frontend_segment.json");
    std::string datagram = ReadSeed("backend_daemon_datagram.txt");
    auto backend = SplitDaemonDatagram(datagram);
    if (!DecodeSegmentDocument(frontend, b).ok() || !backend.ok() ||
        !DecodeSegmentDocument(*backend, b).ok()) {
      std::fprintf(stderr, "xray_filter_fuzzer: cannot read the seed trace from %s\n",
                   ARIADNE_FUZZ_CORPUS_DIR);
      std::abort();
    }
    return b;
  }();
  static const auto* view = new ariadne::query::xray_filter::TraceView(
      ariadne::query::xray_filter::TraceView::Build(*batch));
  return *view;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ariadne::query::xray_filter;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto filter = Filter::Parse(text);
  if (!filter.ok()) return 0;
  GroupResolver groups = [&text](std::string_view, bool) -> std::optional<std::string> {
    return text;
  };
  (void)filter->Matches(Trace(), &groups);
  (void)filter->ReferencedServices();
  return 0;
}
