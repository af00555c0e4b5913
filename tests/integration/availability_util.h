// Helpers for the availability tests (issue 10, items 8-11) against a real `ariadne serve`:
// OTLP protobuf batches of many spans, and what /proc says about the server process (threads,
// resident memory, CPU time, open descriptors). Behaviour checks only; nothing here is timed.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tests/common/server_process.h"

namespace ariadne::testing {

// The raw 16 bytes of trace `t` of OtlpBatch(seed, ...).
inline std::string OtlpTraceId(uint32_t seed, int t) {
  std::string trace_id(16, '\0');
  trace_id[0] = static_cast<char>(0xA0);
  for (int b = 0; b < 4; ++b) trace_id[1 + b] = static_cast<char>(seed >> (8 * b));
  trace_id[5] = static_cast<char>(t >> 8);
  trace_id[6] = static_cast<char>(t);
  trace_id[15] = 1;
  return trace_id;
}

inline std::string HexOf(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// One OTLP request of `traces` traces of `spans_per_trace` spans each, ids unique per `seed`.
inline std::string OtlpBatch(uint32_t seed, int traces, int spans_per_trace,
                             const std::string& service = "avail") {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(service);
  auto* ss = rs->add_scope_spans();
  uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  for (int t = 0; t < traces; ++t) {
    const std::string trace_id = OtlpTraceId(seed, t);
    for (int i = 0; i < spans_per_trace; ++i) {
      auto* span = ss->add_spans();
      span->set_trace_id(trace_id);
      std::string span_id(8, '\0');
      span_id[0] = 0x11;
      span_id[6] = static_cast<char>(i >> 8);
      span_id[7] = static_cast<char>(i + 1);
      span->set_span_id(span_id);
      if (i > 0) {
        std::string parent = span_id;
        parent[6] = 0;
        parent[7] = 1;
        span->set_parent_span_id(parent);
      }
      span->set_name("op-" + std::to_string(i % 7));
      span->set_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
      span->set_start_time_unix_nano(now - 1'000'000'000ull + i * 1000);
      span->set_end_time_unix_nano(now - 1'000'000'000ull + i * 1000 + 500'000);
      auto* attr = span->add_attributes();
      attr->set_key("http.route");
      attr->mutable_value()->set_string_value("/route/" + std::to_string(i % 13));
    }
  }
  return request.SerializeAsString();
}

// A field of /proc/PID/status such as "Threads" or "VmRSS" (kB), or -1.
inline long ProcStatus(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// utime + stime of the process in clock ticks (/proc/PID/stat fields 14 and 15), or -1.
inline long CpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  long utime = -1, stime = -1;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stol(field);
    if (index == 15) {
      stime = std::stol(field);
      break;
    }
  }
  return utime < 0 || stime < 0 ? -1 : utime + stime;
}

// The main() of each availability test binary: takes --ariadne=PATH into `binary`, runs the tests.
inline int RunWithAriadneBinary(int argc, char** argv, std::string* binary) {
  *binary = AriadneBinaryFromArgs(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (binary->empty()) {
    std::fprintf(stderr, "pass --ariadne=/path/to/build/bin/ariadne\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}

}  // namespace ariadne::testing
