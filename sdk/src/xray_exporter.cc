#include "ariadne/sdk/xray_exporter.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "ariadne/sdk/resource.h"
#include "internal/env.h"
#include "internal/json_writer.h"

namespace ariadne::sdk {

// ---------------------------------------------------------------------------------------------
// Daemon address

namespace {

bool SplitHostPort(std::string_view text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  long long p = internal::ParseInt(text.substr(colon + 1), -1);
  if (p <= 0 || p > 65535) return false;
  host = std::string(text.substr(0, colon));
  port = static_cast<uint16_t>(p);
  return true;
}

}  // namespace

bool ParseXRayDaemonAddress(std::string_view text, XRayDaemonAddress& out) {
  text = internal::Trim(text);
  if (text.empty()) return false;
  XRayDaemonAddress parsed;
  size_t space = text.find(' ');
  if (space == std::string_view::npos) {
    if (!SplitHostPort(text, parsed.udp_host, parsed.udp_port)) return false;
    parsed.tcp_host = parsed.udp_host;
    parsed.tcp_port = parsed.udp_port;
    out = parsed;
    return true;
  }
  bool have_tcp = false, have_udp = false;
  for (std::string_view part : {text.substr(0, space), internal::Trim(text.substr(space + 1))}) {
    if (part.substr(0, 4) == "tcp:") {
      have_tcp = SplitHostPort(part.substr(4), parsed.tcp_host, parsed.tcp_port);
    } else if (part.substr(0, 4) == "udp:") {
      have_udp = SplitHostPort(part.substr(4), parsed.udp_host, parsed.udp_port);
    }
  }
  if (!have_tcp || !have_udp) return false;
  out = parsed;
  return true;
}

XRayDaemonAddress XRayDaemonAddressFromEnvironment() {
  XRayDaemonAddress a;
  ParseXRayDaemonAddress(internal::GetEnv("AWS_XRAY_DAEMON_ADDRESS"), a);
  return a;
}

XRayExporterOptions XRayExporterOptions::FromEnvironment() {
  XRayExporterOptions o;
  o.address = XRayDaemonAddressFromEnvironment();
  return o;
}

// ---------------------------------------------------------------------------------------------
// Segment documents

namespace {

constexpr std::string_view kHeaderLine = "{\"format\": \"json\", \"version\": 1}\n";

// Attribute keys that map into the `http` object (or are X-Ray bookkeeping) rather than
// annotations.
bool IsMappedKey(std::string_view key) {
  static constexpr std::string_view kMapped[] = {"http.method",
                                                 "http.request.method",
                                                 "http.url",
                                                 "url.full",
                                                 "http.target",
                                                 "url.path",
                                                 "url.query",
                                                 "http.status_code",
                                                 "http.response.status_code",
                                                 "http.user_agent",
                                                 "user_agent.original",
                                                 "http.client_ip",
                                                 "client.address",
                                                 "http.host",
                                                 "http.scheme",
                                                 "url.scheme",
                                                 "net.host.name",
                                                 "net.host.port",
                                                 "server.address",
                                                 "server.port",
                                                 "net.peer.name",
                                                 "net.peer.port",
                                                 "http.route",
                                                 "http.response_content_length",
                                                 "aws.xray.segment_name",
                                                 "http.flavor",
                                                 "aws.xray.sampling_rule_name"};
  for (std::string_view m : kMapped) {
    if (m == key) return true;
  }
  return false;
}

// X-Ray annotation keys: alphanumerics and underscores.
std::string AnnotationKey(std::string_view key) {
  std::string out(key.substr(0, 500));
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) c = '_';
  }
  return out;
}

// Segment names drop the characters the X-Ray SDKs strip and keep at most 200 characters.
std::string SegmentName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (std::strchr("?;*()!$~^<>", c) != nullptr && c != '\0') continue;
    out.push_back(c);
    if (out.size() == 200) break;
  }
  if (out.empty()) out = "unknown";
  return out;
}

std::string_view StringAttr(const SpanData& s, std::string_view key) {
  const AttributeValue* v = s.FindAttribute(key);
  return v != nullptr && v->is_string() ? v->string_value() : std::string_view();
}

std::string_view FirstStringAttr(const SpanData& s, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    std::string_view v = StringAttr(s, k);
    if (!v.empty()) return v;
  }
  return {};
}

int64_t IntAttr(const SpanData& s, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    const AttributeValue* v = s.FindAttribute(k);
    if (v == nullptr) continue;
    if (v->type() == AttributeType::kInt64) return v->int_value();
    if (v->is_string()) return internal::ParseInt(v->string_value(), 0);
  }
  return 0;
}

struct Node {
  const SpanData* span;
  std::vector<Node*> children;
};

class DocumentBuilder {
 public:
  // kind: segment (local root), embedded subsegment, or independent subsegment.
  enum class Kind { kSegment, kEmbedded, kIndependent };

  static void Write(internal::JsonWriter& w, const Node& node, Kind kind, bool with_children,
                    const SpanId& independent_parent) {
    const SpanData& s = *node.span;
    const bool segment = kind == Kind::kSegment;
    const bool client = s.kind() == SpanKind::kClient || s.kind() == SpanKind::kProducer;
    w.BeginObject();
    // name
    std::string name;
    if (segment) {
      std::string_view n = StringAttr(s, "aws.xray.segment_name");
      if (n.empty() && s.resource() != nullptr) n = s.resource()->ServiceName();
      if (n.empty()) n = s.name();
      name = SegmentName(n);
    } else if (client) {
      std::string_view host = FirstStringAttr(s, {"net.peer.name", "server.address"});
      name = SegmentName(host.empty() ? s.name() : host);
    } else {
      name = SegmentName(s.name());
    }
    w.Key("name");
    w.String(name);
    w.Key("id");
    w.String(s.context().span_id.ToHex());
    if (kind != Kind::kEmbedded) {
      w.Key("trace_id");
      w.String(s.context().trace_id.ToXRay());
    }
    if (kind == Kind::kIndependent) {
      w.Key("type");
      w.String("subsegment");
      w.Key("parent_id");
      w.String(independent_parent.ToHex());
    } else if (segment && s.parent_span_id().IsValid()) {
      w.Key("parent_id");
      w.String(s.parent_span_id().ToHex());
    }
    w.Key("start_time");
    w.Seconds(s.start_ns());
    w.Key("end_time");
    w.Seconds(std::max(s.end_ns(), s.start_ns()));
    if (!segment && client) {
      w.Key("namespace");
      w.String("remote");
    }
    WriteHttp(w, s, segment);
    WriteErrors(w, s);
    WriteAnnotations(w, s);
    if (segment) {
      w.Key("aws");
      w.BeginObject();
      w.Key("xray");
      w.BeginObject();
      w.Key("sdk");
      w.String("ariadne-sdk-cpp");
      w.Key("sdk_version");
      w.String("0.1.0");
      std::string_view rule = StringAttr(s, "aws.xray.sampling_rule_name");
      if (!rule.empty()) {
        w.Key("sampling_rule_name");
        w.String(rule);
      }
      w.EndObject();
      w.EndObject();
      if (s.resource() != nullptr) {
        const OwnedAttribute* version = s.resource()->Find("service.version");
        if (version != nullptr && version->type == AttributeType::kString) {
          w.Key("service");
          w.BeginObject();
          w.Key("version");
          w.String(version->str);
          w.EndObject();
        }
      }
    }
    if (with_children && !node.children.empty()) {
      w.Key("subsegments");
      w.BeginArray();
      for (const Node* child : node.children) {
        Write(w, *child, Kind::kEmbedded, true, SpanId());
      }
      w.EndArray();
    }
    w.EndObject();
  }

 private:
  static void WriteHttp(internal::JsonWriter& w, const SpanData& s, bool segment) {
    std::string_view method = FirstStringAttr(s, {"http.method", "http.request.method"});
    const int64_t status = IntAttr(s, {"http.status_code", "http.response.status_code"});
    if (method.empty() && status == 0) return;
    std::string url(FirstStringAttr(s, {"http.url", "url.full"}));
    if (url.empty()) {
      std::string_view scheme = FirstStringAttr(s, {"http.scheme", "url.scheme"});
      std::string_view host = FirstStringAttr(s, {"http.host", "net.host.name", "server.address"});
      std::string_view target = FirstStringAttr(s, {"http.target", "url.path"});
      if (!host.empty()) {
        url = std::string(scheme.empty() ? "http" : scheme) + "://" + std::string(host);
      }
      url += target;
    }
    w.Key("http");
    w.BeginObject();
    w.Key("request");
    w.BeginObject();
    if (!method.empty()) {
      w.Key("method");
      w.String(method);
    }
    if (!url.empty()) {
      w.Key("url");
      w.String(url);
    }
    if (segment) {
      std::string_view ua = FirstStringAttr(s, {"user_agent.original", "http.user_agent"});
      if (!ua.empty()) {
        w.Key("user_agent");
        w.String(ua);
      }
      std::string_view ip = FirstStringAttr(s, {"http.client_ip", "client.address"});
      if (!ip.empty()) {
        w.Key("client_ip");
        w.String(ip);
      }
    } else {
      w.Key("traced");
      w.Bool(true);  // downstream services are instrumented with our propagator
    }
    w.EndObject();
    if (status != 0) {
      w.Key("response");
      w.BeginObject();
      w.Key("status");
      w.Int(status);
      const int64_t length = IntAttr(s, {"http.response_content_length"});
      if (length > 0) {
        w.Key("content_length");
        w.Int(length);
      }
      w.EndObject();
    }
    w.EndObject();
  }

  static void WriteErrors(internal::JsonWriter& w, const SpanData& s) {
    const int64_t status = IntAttr(s, {"http.status_code", "http.response.status_code"});
    bool fault = status >= 500;
    bool throttle = status == 429;
    bool error = status >= 400 && status < 500;
    if (status == 0 && s.status() == StatusCode::kError) fault = true;
    if (fault) {
      w.Key("fault");
      w.Bool(true);
    }
    if (error) {
      w.Key("error");
      w.Bool(true);
    }
    if (throttle) {
      w.Key("throttle");
      w.Bool(true);
    }
    bool any_exception = false;
    for (const SpanEvent& e : s.events()) any_exception = any_exception || e.name == "exception";
    if (!any_exception) return;
    w.Key("cause");
    w.BeginObject();
    w.Key("exceptions");
    w.BeginArray();
    uint64_t n = 0;
    for (const SpanEvent& e : s.events()) {
      if (e.name != "exception") continue;
      w.BeginObject();
      // Exception ids only need to be unique within the trace.
      SpanId id = s.context().span_id;
      id.bytes[7] = static_cast<uint8_t>(id.bytes[7] + ++n);
      w.Key("id");
      w.String(id.ToHex());
      for (const Attribute& a : e.attributes) {
        if (a.key == "exception.message") {
          w.Key("message");
          w.String(a.value.ToString());
        } else if (a.key == "exception.type") {
          w.Key("type");
          w.String(a.value.ToString());
        }
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }

  static void WriteAnnotations(internal::JsonWriter& w, const SpanData& s) {
    bool open = false;
    for (size_t i = 0; i < s.attribute_count(); ++i) {
      const Attribute& a = s.attribute(i);
      if (IsMappedKey(a.key)) continue;
      if (!open) {
        w.Key("annotations");
        w.BeginObject();
        open = true;
      }
      w.Key(AnnotationKey(a.key));
      switch (a.value.type()) {
        case AttributeType::kString:
          w.String(a.value.string_value().substr(0, 1000));
          break;
        case AttributeType::kBool:
          w.Bool(a.value.bool_value());
          break;
        case AttributeType::kInt64:
          w.Int(a.value.int_value());
          break;
        case AttributeType::kDouble:
          w.Double(a.value.double_value());
          break;
      }
    }
    if (open) w.EndObject();
  }
};

std::string Datagram(const Node& node, DocumentBuilder::Kind kind, bool with_children,
                     const SpanId& parent) {
  std::string out(kHeaderLine);
  internal::JsonWriter w(out);
  DocumentBuilder::Write(w, node, kind, with_children, parent);
  return out;
}

// Sends `node` (as `kind`) with as much of its subtree as fits; subtrees that do not fit go out as
// independent subsegments first.
void Split(const Node& node, DocumentBuilder::Kind kind, const SpanId& parent, size_t max_bytes,
           std::vector<std::string>& out) {
  std::string whole = Datagram(node, kind, true, parent);
  if (whole.size() <= max_bytes || node.children.empty()) {
    out.push_back(std::move(whole));
    return;
  }
  for (const Node* child : node.children) {
    Split(*child, DocumentBuilder::Kind::kIndependent, node.span->context().span_id, max_bytes,
          out);
  }
  out.push_back(Datagram(node, kind, false, parent));
}

}  // namespace

std::vector<std::string> BuildXRayDatagrams(const SpanData& root,
                                            const std::vector<const SpanData*>& spans,
                                            size_t max_datagram_bytes) {
  std::vector<Node> nodes;
  nodes.reserve(spans.size() + 1);
  nodes.push_back(Node{&root, {}});
  for (const SpanData* s : spans) {
    if (s != &root) nodes.push_back(Node{s, {}});
  }
  // Link children to parents (same trace, parent span id), then keep those reachable from root.
  for (size_t i = 1; i < nodes.size(); ++i) {
    const SpanData& s = *nodes[i].span;
    if (s.context().trace_id != root.context().trace_id) continue;
    for (Node& candidate : nodes) {
      if (candidate.span->context().span_id == s.parent_span_id()) {
        candidate.children.push_back(&nodes[i]);
        break;
      }
    }
  }
  for (Node& n : nodes) {
    std::sort(n.children.begin(), n.children.end(), [](const Node* a, const Node* b) {
      return a->span->start_ns() < b->span->start_ns();
    });
  }
  std::vector<std::string> out;
  Split(nodes[0], DocumentBuilder::Kind::kSegment, SpanId(), max_datagram_bytes, out);
  return out;
}

std::string BuildIndependentSubsegmentDatagram(const SpanData& span) {
  Node node{&span, {}};
  return Datagram(node, DocumentBuilder::Kind::kIndependent, false, span.parent_span_id());
}

// ---------------------------------------------------------------------------------------------
// Exporter

XRayUdpExporter::XRayUdpExporter(XRayExporterOptions options) : options_(std::move(options)) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(options_.address.udp_port);
  if (getaddrinfo(options_.address.udp_host.c_str(), port.c_str(), &hints, &res) == 0 &&
      res != nullptr) {
    fd_ = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    addr_.assign(reinterpret_cast<uint8_t*>(res->ai_addr),
                 reinterpret_cast<uint8_t*>(res->ai_addr) + res->ai_addrlen);
    addr_len_ = res->ai_addrlen;
    freeaddrinfo(res);
    if (fd_ >= 0) {
      int size = 1 << 20;
      setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    }
  }
}

XRayUdpExporter::~XRayUdpExporter() {
  if (fd_ >= 0) close(fd_);
}

void XRayUdpExporter::Send(const std::string& datagram) {
  if (fd_ < 0) {
    ++send_errors_;
    return;
  }
  ssize_t n = sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT,
                     reinterpret_cast<const sockaddr*>(addr_.data()), addr_len_);
  if (n == static_cast<ssize_t>(datagram.size())) {
    ++datagrams_sent_;
  } else {
    ++send_errors_;
  }
}

void XRayUdpExporter::EmitTree(const SpanDataRef& root) {
  std::vector<const SpanData*> members;
  const TraceId& trace = root->context().trace_id;
  for (const Pending& p : pending_) {
    if (p.span->context().trace_id == trace) members.push_back(p.span.get());
  }
  // Keep only descendants of `root`: walk parents through the pending set.
  std::vector<const SpanData*> tree;
  for (const SpanData* s : members) {
    const SpanData* cur = s;
    for (int depth = 0; depth < 64 && cur != nullptr; ++depth) {
      if (cur->parent_span_id() == root->context().span_id) {
        tree.push_back(s);
        break;
      }
      const SpanData* next = nullptr;
      for (const SpanData* m : members) {
        if (m->context().span_id == cur->parent_span_id()) next = m;
      }
      cur = next;
    }
  }
  for (const std::string& d : BuildXRayDatagrams(*root, tree, options_.max_datagram_bytes)) Send(d);
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                [&](const Pending& p) {
                                  return std::find(tree.begin(), tree.end(), p.span.get()) !=
                                         tree.end();
                                }),
                 pending_.end());
  emitted_roots_[trace.bytes] = std::chrono::steady_clock::now();
}

void XRayUdpExporter::FlushLate(bool all) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<Pending> keep;
  for (Pending& p : pending_) {
    const bool root_sent = emitted_roots_.count(p.span->context().trace_id.bytes) != 0;
    if (all || root_sent || now - p.arrived >= options_.orphan_timeout) {
      Send(BuildIndependentSubsegmentDatagram(*p.span));
    } else {
      keep.push_back(std::move(p));
    }
  }
  pending_ = std::move(keep);
  for (auto it = emitted_roots_.begin(); it != emitted_roots_.end();) {
    it = now - it->second > std::chrono::minutes(5) ? emitted_roots_.erase(it) : std::next(it);
  }
}

ExportResult XRayUdpExporter::Export(std::span<const SpanDataRef> spans) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  std::vector<SpanDataRef> roots;
  for (const SpanDataRef& s : spans) {
    const bool local_root = !s->parent_span_id().IsValid() || s->parent_is_remote();
    if (local_root) {
      roots.push_back(s);
    } else {
      pending_.push_back({s, now});
    }
  }
  for (const SpanDataRef& r : roots) EmitTree(r);
  FlushLate(false);
  return ExportResult::kSuccess;
}

bool XRayUdpExporter::ForceFlush(std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  FlushLate(true);
  return true;
}

void XRayUdpExporter::Shutdown() { ForceFlush(std::chrono::milliseconds(0)); }

}  // namespace ariadne::sdk
