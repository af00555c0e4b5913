#include "api/trace_tree.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

namespace ariadne::api {
namespace {

using nlohmann::json;

struct Node {
  const json* span;
  std::vector<size_t> children;
};

std::string FormatMs(double ms) {
  char buf[32];
  if (ms >= 1000) {
    std::snprintf(buf, sizeof(buf), "%.2f s", ms / 1000);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f ms", ms);
  }
  return buf;
}

std::string Str(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void RenderNode(const std::vector<Node>& nodes, size_t index, const std::string& prefix, bool last,
                bool top, std::string* out) {
  const json& span = *nodes[index].span;
  std::string line = prefix;
  if (!top) line += last ? "└─ " : "├─ ";
  line += Str(span, "service_name") + "  " + Str(span, "name");
  double ms = span.value("duration_ms", 0.0);
  line += "  " + FormatMs(ms);
  std::string kind = Str(span, "kind");
  if (!kind.empty() && kind != "unspecified") line += "  [" + kind + "]";
  const json& status = span.contains("status") ? span["status"] : json::object();
  std::string code = Str(status, "code");
  if (code == "error") {
    line += "  !! ERROR";
    std::string message = Str(status, "message");
    if (!message.empty()) line += ": " + message;
  } else if (code == "ok") {
    line += "  ok";
  }
  out->append(line).append("\n");
  std::string child_prefix = top ? prefix : prefix + (last ? "   " : "│  ");
  const auto& children = nodes[index].children;
  for (size_t i = 0; i < children.size(); ++i) {
    RenderNode(nodes, children[i], child_prefix, i + 1 == children.size(), false, out);
  }
}

}  // namespace

Result<std::string> RenderTraceTree(std::string_view trace_json) {
  json doc = json::parse(trace_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("spans") ||
      !doc["spans"].is_array()) {
    return Status::InvalidArgument("the server's answer is not a trace document");
  }
  const json& spans = doc["spans"];
  std::vector<Node> nodes;
  std::map<std::string, size_t> by_id;
  for (const json& span : spans) {
    by_id.emplace(Str(span, "span_id"), nodes.size());
    nodes.push_back(Node{&span, {}});
  }
  std::vector<size_t> roots;
  std::vector<bool> orphan(nodes.size(), false);
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::string parent = Str(*nodes[i].span, "parent_span_id");
    auto it = parent.empty() ? by_id.end() : by_id.find(parent);
    if (it == by_id.end() || it->second == i) {
      roots.push_back(i);
      orphan[i] = !parent.empty();
    } else {
      nodes[it->second].children.push_back(i);
    }
  }
  std::string out;
  char header[256];
  std::snprintf(header, sizeof(header), "trace %s (%s)  %zu spans, %s\n",
                Str(doc, "trace_id").c_str(), Str(doc, "xray_trace_id").c_str(), nodes.size(),
                FormatMs(doc.value("duration_ms", 0.0)).c_str());
  out += header;
  for (size_t root : roots) {
    if (orphan[root]) {
      out += "(parent " + Str(*nodes[root].span, "parent_span_id") + " not in this trace)\n";
    }
    RenderNode(nodes, root, "", true, true, &out);
  }
  return out;
}

}  // namespace ariadne::api
