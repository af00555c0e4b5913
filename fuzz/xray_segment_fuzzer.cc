// Fuzzes the X-Ray segment decoder the way the UDP daemon listener uses it: SplitDaemonDatagram,
// then DecodeSegmentDocument on the document part (or on the whole input when it has no header),
// then BatchGetTraces' document encoder over what was decoded.
// Oracle: no crash or sanitizer report; every decoded string is valid UTF-8; every document the
// decoder kept (aws.xray.document) is a JSON object with its span's id; every document the encoder
// returns is a JSON object.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <simdjson.h>

#include "fuzz/fuzz_util.h"
#include "model/xray_attributes.h"
#include "query/xray/documents.h"
#include "receivers/xray/segment_decoder.h"

namespace {

void CheckObject(std::string_view text, std::string_view id) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    std::abort();
  }
  if (!id.empty()) {
    std::string_view got;
    if (doc["id"].get(got) != simdjson::SUCCESS || got.size() != id.size()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ariadne::receivers::xray;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto split = SplitDaemonDatagram(input);
  std::string_view document = split.ok() ? *split : input;
  ariadne::model::SpanBatch batch;
  DecodeError error;
  uint64_t replaced = 0;
  auto decoded = DecodeSegmentDocument(document, &batch, DecodeLimits{}, &error, &replaced);
  if (!decoded.ok()) return 0;
  ariadne::fuzz::CheckBatch(batch);
  for (const auto& span : batch.spans) {
    const auto* kept = batch.FindAttribute(span.attributes, ariadne::model::xray::kDocument);
    if (kept != nullptr) CheckObject(kept->str, span.span_id.ToHex());
  }
  auto view = ariadne::query::xray_filter::TraceView::Build(batch);
  for (const auto& out : ariadne::query::xray::EncodeSegmentDocuments(view)) {
    CheckObject(out.document, "");
  }
  return 0;
}
