// IngestMetrics: counters every ingest path updates and /metrics renders (Prometheus text format).
//
// Spans: received (everything a client sent, valid or not), accepted (durably stored), rejected
// (by reason; never stored, reported to the client as partial success) and failed (the store
// refused them; the client was told to retry). Requests: per receiver and HTTP status.
//
// Threads: every method is safe to call concurrently; counters are relaxed atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace ariadne::pipeline {

enum class RejectReason : uint8_t {
  kDecode = 0,           // the decoder left the span out (bad trace/span/parent id)
  kInvalidId,            // all-zero trace or span id that reached the pipeline
  kMissingTimestamp,     // start or end time is zero
  kEndBeforeStart,       // end time earlier than start time
  kTimestampOutOfRange,  // before 2000-01-01 (a seconds/ms unit mix-up) or far in the future
  kCount,
};
inline constexpr size_t kRejectReasonCount = static_cast<size_t>(RejectReason::kCount);

// Stable label used on /metrics and in messages, e.g. "end_before_start".
std::string_view RejectReasonLabel(RejectReason reason);
// Human wording, e.g. "end time before start time".
std::string_view RejectReasonText(RejectReason reason);

class IngestMetrics {
 public:
  void AddReceived(uint64_t spans) { received_.fetch_add(spans, std::memory_order_relaxed); }
  void AddAccepted(uint64_t spans) { accepted_.fetch_add(spans, std::memory_order_relaxed); }
  void AddRejected(RejectReason reason, uint64_t spans) {
    rejected_[static_cast<size_t>(reason)].fetch_add(spans, std::memory_order_relaxed);
  }
  void AddFailed(uint64_t spans) { failed_.fetch_add(spans, std::memory_order_relaxed); }
  void AddClamped(uint64_t values) { clamped_.fetch_add(values, std::memory_order_relaxed); }
  // Spans refused at once because too much ingest was in flight (overload shedding).
  void AddShed(uint64_t spans) { shed_.fetch_add(spans, std::memory_order_relaxed); }
  uint64_t shed() const { return shed_.load(std::memory_order_relaxed); }
  // U+FFFD substitutions the decoders made for invalid UTF-8 (DecodedRequest /
  // DecodeSegmentDocument report them; the receiver adds them here).
  void AddInvalidUtf8(uint64_t replaced) {
    if (replaced != 0) invalid_utf8_.fetch_add(replaced, std::memory_order_relaxed);
  }
  void RecordRequest(std::string_view receiver, int http_status);

  uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  uint64_t rejected(RejectReason reason) const {
    return rejected_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }
  uint64_t rejected_total() const;
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  uint64_t clamped() const { return clamped_.load(std::memory_order_relaxed); }
  uint64_t invalid_utf8() const { return invalid_utf8_.load(std::memory_order_relaxed); }
  uint64_t requests(std::string_view receiver, int http_status) const;

  // Appends the counters in Prometheus text exposition format.
  void AppendPrometheus(std::string* out) const;

 private:
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> accepted_{0};
  std::array<std::atomic<uint64_t>, kRejectReasonCount> rejected_{};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> clamped_{0};
  std::atomic<uint64_t> shed_{0};
  std::atomic<uint64_t> invalid_utf8_{0};
  mutable std::mutex requests_mu_;
  std::map<std::pair<std::string, int>, uint64_t, std::less<>> requests_;
};

}  // namespace ariadne::pipeline
