// Fuzzes the X-Ray segment decoder the way the UDP daemon listener uses it: SplitDaemonDatagram,
// then DecodeSegmentDocument on the document part (or on the whole input when it has no header),
// then BatchGetTraces' document encoder over what was decoded.
// Oracle: no crash or sanitizer report; every decoded string is valid UTF-8; every document the
// decoder kept (aws.xray.document) and every document the encoder returns is a JSON object.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_util.h"
#include "model/xray_attributes.h"
#include "query/xray/documents.h"
#include "receivers/xray/segment_decoder.h"

namespace {

// `text` is one JSON object. nlohmann, not simdjson: this file must not instantiate simdjson with
// other settings than the decoder library (its inline functions would be merged with a different
// layout). A kept document may hold a \u escape nlohmann refuses (a lone surrogate) that the
// decoder's parser let through; the encoder then renders that segment from the span model.
void CheckObject(std::string_view text, bool kept) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() && kept && text.find("\\u") != std::string_view::npos) return;
  if (doc.is_discarded() || !doc.is_object()) {
    std::fprintf(stderr, "not a JSON object: %.*s\n", static_cast<int>(text.size()), text.data());
    std::abort();
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
    if (kept != nullptr) CheckObject(kept->str, /*kept=*/true);
  }
  auto view = ariadne::query::xray_filter::TraceView::Build(batch);
  for (const auto& out : ariadne::query::xray::EncodeSegmentDocuments(view)) {
    CheckObject(out.document, /*kept=*/false);
  }
  return 0;
}
