// The X-Ray API operations this server answers: one table naming each operation's REST path (as
// in the botocore model), its AWS name, whether it only reads, and which part of the API answers
// it. The dispatcher (xray_api.cc) routes by it and the query port's key checks (api/auth.cc) let
// a read key call exactly the operations marked kRead — so adding an operation is one row here,
// not a second hand-kept list.
//
// Threads: constant data, safe from any thread.
#pragma once

#include <span>
#include <string_view>

namespace ariadne::api::xray {

enum class XrayAccess {
  kRead,   // answers from stored data or settings, changes nothing
  kWrite,  // stores spans, changes settings or sampling state
};

enum class XrayFamily {
  kIngest,   // PutTraceSegments, PutTelemetryRecords (xray_api.cc)
  kControl,  // groups and sampling rules (control_ops.h)
  kReads,    // trace reads on the read pool (read_ops.h)
  kAccount,  // tags, encryption, destinations, insights (account_ops.h)
};

struct XrayOperation {
  std::string_view path;  // "/TraceSummaries"
  std::string_view name;  // "GetTraceSummaries"
  XrayAccess access;
  XrayFamily family;
};

// Every operation, in no particular order.
std::span<const XrayOperation> XrayOperations();

// The operation at `path` ("/Traces"); nullptr when there is none.
const XrayOperation* FindXrayOperation(std::string_view path);

// True when `path` names an operation of `family`.
bool IsXrayOperationOf(std::string_view path, XrayFamily family);

}  // namespace ariadne::api::xray
