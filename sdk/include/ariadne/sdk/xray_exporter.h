// X-Ray UDP emitter: turns spans into X-Ray segment documents (protocols.md §3–§4) and sends them
// to the daemon address (AWS_XRAY_DAEMON_ADDRESS, default 127.0.0.1:2000), one document per
// datagram with the `{"format": "json", "version": 1}` header line.
//
// A local root span (no parent, or a remote parent) becomes a segment; its in-process descendants
// become embedded subsegments (CLIENT spans in namespace "remote"). The exporter holds ended
// children until their local root ends. When a segment document would not fit one datagram it is
// split the way the X-Ray SDKs stream: child subtrees go out as independent subsegments
// (`"type":"subsegment"`, `trace_id`, `parent_id`) and the segment is sent without them.
// Children that end after their root, or whose root never ends within `orphan_timeout`, are sent
// as independent subsegments.
//
// Threads: Export/ForceFlush are called by one processor thread at a time (guarded anyway).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ariadne/sdk/exporter.h"

namespace ariadne::sdk {

struct XRayDaemonAddress {
  std::string udp_host = "127.0.0.1";
  uint16_t udp_port = 2000;
  std::string tcp_host = "127.0.0.1";
  uint16_t tcp_port = 2000;
};
// Parses `host:port` (both protocols) or `tcp:h1:p1 udp:h2:p2` (either order). Returns false and
// leaves defaults when malformed.
bool ParseXRayDaemonAddress(std::string_view text, XRayDaemonAddress& out);
// AWS_XRAY_DAEMON_ADDRESS or the default.
XRayDaemonAddress XRayDaemonAddressFromEnvironment();

struct XRayExporterOptions {
  XRayDaemonAddress address;
  // Largest datagram (header + document). IPv4's UDP payload limit; the daemon reads 64 KiB.
  size_t max_datagram_bytes = 65507;
  std::chrono::milliseconds orphan_timeout{30000};

  static XRayExporterOptions FromEnvironment();
};

// Converts one local root and its descendants into the datagram payloads (header line + JSON) to
// send, splitting as described above. `spans` holds the root and any descendants; spans that do
// not descend from `root` are ignored. Exposed for tests and benchmarks.
std::vector<std::string> BuildXRayDatagrams(const SpanData& root,
                                            const std::vector<const SpanData*>& spans,
                                            size_t max_datagram_bytes);
// One independent subsegment datagram for `span` alone (its parent_id is its parent span).
std::string BuildIndependentSubsegmentDatagram(const SpanData& span);

class XRayUdpExporter final : public SpanExporter {
 public:
  explicit XRayUdpExporter(XRayExporterOptions options);
  ~XRayUdpExporter() override;

  ExportResult Export(std::span<const SpanDataRef> spans) override;
  // Sends pending children that still wait for a root as independent subsegments.
  bool ForceFlush(std::chrono::milliseconds timeout) override;
  void Shutdown() override;

  uint64_t datagrams_sent() const { return datagrams_sent_; }
  uint64_t send_errors() const { return send_errors_; }

 private:
  void Send(const std::string& datagram);
  void EmitTree(const SpanDataRef& root);
  void FlushLate(bool all);

  const XRayExporterOptions options_;
  std::mutex mu_;
  int fd_ = -1;
  std::vector<uint8_t> addr_;  // sockaddr storage
  uint32_t addr_len_ = 0;
  struct Pending {
    SpanDataRef span;
    std::chrono::steady_clock::time_point arrived;
  };
  std::vector<Pending> pending_;
  // Trace ids whose local root was already sent → when (late children go out independently).
  std::map<std::array<uint8_t, 16>, std::chrono::steady_clock::time_point> emitted_roots_;
  uint64_t datagrams_sent_ = 0;
  uint64_t send_errors_ = 0;
};

}  // namespace ariadne::sdk
