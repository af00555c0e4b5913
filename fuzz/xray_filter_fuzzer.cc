// Fuzzes the X-Ray filter language: Filter::Parse on arbitrary text and, for expressions it
// accepts, Matches() against a small fixed trace (frontend → backend → DynamoDB, decoded from real
// segment documents) with a group resolver that resolves every group to the input itself (the
// evaluator's group-recursion bound is exercised too).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "query/xray_filter/filter.h"
#include "query/xray_filter/trace_view.h"
#include "receivers/xray/segment_decoder.h"

namespace {

constexpr char kFrontend[] = R"({"name":"api.example.com","id":"1000000000000001",
  "trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":1000.0,"end_time":1006.0,
  "http":{"request":{"method":"GET","url":"http://api.example.com/api/game/1","user_agent":"curl",
  "client_ip":"10.1.1.1"},"response":{"status":200}},
  "subsegments":[{"name":"backend.example.com","id":"1000000000000002","namespace":"remote",
    "start_time":1000.5,"end_time":1005.5,"fault":true,
    "http":{"request":{"method":"POST","url":"http://backend.example.com/x"},"response":{"status":500}}}]})";
constexpr char kBackend[] = R"({"name":"backend.example.com","id":"2000000000000001",
  "parent_id":"1000000000000002","origin":"AWS::EC2::Instance",
  "trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":1001.0,"end_time":1005.0,
  "user":"alice","fault":true,"annotations":{"gameid":"817DL6VO","age":30,"vip":true},
  "http":{"request":{"method":"POST","url":"http://backend.example.com/x"},"response":{"status":500}},
  "cause":{"exceptions":[{"id":"aaaaaaaaaaaaaaaa","type":"ZeroDivisionError","message":"division by zero"}]},
  "subsegments":[{"name":"DynamoDB","id":"2000000000000002","namespace":"aws","start_time":1002.0,
    "end_time":1004.5,"aws":{"operation":"GetItem"}}]})";

const ariadne::query::xray_filter::TraceView& Trace() {
  static const ariadne::model::SpanBatch* batch = [] {
    auto* b = new ariadne::model::SpanBatch();
    (void)ariadne::receivers::xray::DecodeSegmentDocument(kFrontend, b);
    (void)ariadne::receivers::xray::DecodeSegmentDocument(kBackend, b);
    return b;
  }();
  static const auto* view = new ariadne::query::xray_filter::TraceView(
      ariadne::query::xray_filter::TraceView::Build(*batch));
  return *view;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ariadne::query::xray_filter;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto filter = Filter::Parse(text);
  if (!filter.ok()) return 0;
  GroupResolver groups = [&text](std::string_view, bool) -> std::optional<std::string> {
    return text;
  };
  (void)filter->Matches(Trace(), &groups);
  (void)filter->ReferencedServices();
  return 0;
}
