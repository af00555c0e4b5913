// XrayUdpListener: the X-Ray daemon's UDP protocol (what SDKs send to AWS_XRAY_DAEMON_ADDRESS).
//
// Each datagram is `{"format": "json", "version": 1}` (any JSON spacing, format compared
// case-insensitively) + "\n" + one segment document, up to 64 KiB. A good datagram is decoded
// (segment_decoder.h) and handed to Pipeline::Submit under the configured environment. A bad one is
// counted by reason — missing_header, bad_header, invalid_json, invalid_document, store_failed —
// and logged to stderr at most once per second (with the number of lines suppressed); it never
// affects other datagrams. UDP has no way to answer, as with the real daemon.
//
// Threads: one receive thread (Boost.Asio, kept out of this header). Start/Stop/counters may be
// called from any thread; Stop is idempotent and joins the thread. The pipeline must outlive the
// listener and its pending submissions.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "pipeline/pipeline.h"

namespace ariadne::receivers::xray {

struct XrayUdpOptions {
  std::string environment = "default";
  int receive_buffer_bytes = 4 * 1024 * 1024;  // SO_RCVBUF
};

enum class UdpDrop : int {
  kMissingHeader = 0,
  kBadHeader,
  kInvalidJson,
  kInvalidDocument,
  kStoreFailed,
  kOverloaded,  // shed: too much ingest in flight
  kCount,
};

struct XrayUdpCounters {
  std::atomic<uint64_t> datagrams{0};
  std::atomic<uint64_t> documents_accepted{0};
  std::atomic<uint64_t> spans_submitted{0};
  std::atomic<uint64_t> dropped[static_cast<int>(UdpDrop::kCount)] = {};
};

class XrayUdpListener {
 public:
  virtual ~XrayUdpListener() = default;

  // Binds UDP `host:port` (port 0 picks one). kUnavailable with an actionable message on failure.
  static Result<std::unique_ptr<XrayUdpListener>> Start(const std::string& host, uint16_t port,
                                                        pipeline::Pipeline* pipeline,
                                                        XrayUdpOptions options = {});

  virtual uint16_t bound_port() const = 0;
  virtual void Stop() = 0;
  virtual const XrayUdpCounters& counters() const = 0;

  // Prometheus text for the counters above (ariadne_xray_udp_*).
  void AppendPrometheus(std::string* out) const;
};

// "missing_header", "bad_header", ... (the /metrics label).
std::string_view UdpDropLabel(UdpDrop reason);

}  // namespace ariadne::receivers::xray
