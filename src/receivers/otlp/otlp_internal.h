// Helpers shared by the OTLP protobuf walker, the OTLP/JSON decoder and the response encoders:
// span-id validation with rejection bookkeeping, the compact JSON rendering of array/kvlist
// attribute values (both decoders must produce byte-identical text), base64 and hex.
//
// Private to src/receivers/otlp/. Threads: free functions are reentrant; a RejectionLog belongs to
// one decode call.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_writer.h"
#include "model/span_batch.h"

namespace ariadne::receivers::otlp::internal {

// Deepest AnyValue nesting (arrays/kvlists inside arrays/kvlists) either decoder accepts; deeper
// bodies are rejected as a whole so a hostile body cannot exhaust the stack.
inline constexpr int kMaxValueNesting = 64;

// How many rejection reasons end up in DecodedRequest::rejection_message.
inline constexpr size_t kMaxRejectionReasons = 3;

// Checks the OTLP id rules on raw id bytes: trace id 16 non-zero bytes, span id 8 non-zero bytes,
// parent empty or 8 bytes (all-zero parent = root). True when the span may be kept; otherwise
// false with the reason in `reason`.
bool CheckSpanIds(std::string_view trace_id, std::string_view span_id,
                  std::string_view parent_span_id, std::string* reason);

// Counts rejected spans and keeps the first few reasons.
class RejectionLog {
 public:
  void Add(uint64_t span_ordinal, std::string_view reason);
  uint64_t count() const { return count_; }
  // "2 spans rejected: span #3: trace id must be 16 bytes, got 15; span #9: ..." or "".
  std::string Message() const;

 private:
  uint64_t count_ = 0;
  std::vector<std::string> reasons_;
};

// Fills a model id from raw bytes that CheckSpanIds accepted (or leaves it zero when empty).
template <typename Id>
Id IdFromBytes(std::string_view raw) {
  Id id;
  if (raw.size() == Id::kSize) std::memcpy(id.bytes.data(), raw.data(), Id::kSize);
  return id;
}

// --- Compact JSON rendering of attribute values (OTLP JSON-ish, as stored for kArray/kKvList) ---
// Strings are escaped (invalid UTF-8 becomes U+FFFD), ints are JSON numbers, doubles use the
// shortest round-trip form with NaN/Infinity/-Infinity as strings, bytes are base64 strings, an
// empty value is null.
using ::ariadne::AppendJsonString;  // common/json_writer.h
void AppendJsonInt(std::string& out, int64_t value);
void AppendJsonUint(std::string& out, uint64_t value);
void AppendJsonDouble(std::string& out, double value);
inline void AppendJsonBool(std::string& out, bool value) { out += value ? "true" : "false"; }
void AppendJsonBytes(std::string& out, std::string_view bytes);  // base64 in quotes

// Standard base64 with padding.
void AppendBase64(std::string& out, std::string_view bytes);
// Accepts standard and URL-safe alphabets, padding optional. False on any other character or an
// impossible length.
bool DecodeBase64(std::string_view text, std::string& out);
// Even number of hex digits, either case.
bool DecodeHex(std::string_view text, std::string& out);

// Lowercase hex of raw bytes (for messages).
std::string HexOf(std::string_view bytes);

}  // namespace ariadne::receivers::otlp::internal
