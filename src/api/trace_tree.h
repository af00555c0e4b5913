// Renders the JSON of GET /api/v1/traces/{id} as an indented tree for the terminal
// (`ariadne trace <id>`): one line per span with service, name, duration and status; children
// under their parent in start order; error spans marked. Spans whose parent is not in the trace
// are shown at the top level with a note.
//
// Threads: reentrant.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace ariadne::api {

// kInvalidArgument when `trace_json` is not a trace document.
Result<std::string> RenderTraceTree(std::string_view trace_json);

}  // namespace ariadne::api
