#include "api/xray/views.h"

#include <cstdlib>
#include <string>

#include "api/xray/request_fields.h"
#include "api/xray/shapes.h"
#include "common/json_dump.h"

namespace ariadne::api::xray {

using query::xray_filter::Filter;

net::HttpResponse XrayQueryView(const net::HttpRequest& request, const ViewContext& context) {
  auto reply = [](int status, const json& body) {
    return net::HttpResponse(status, "application/json", DumpJson(body));
  };
  auto fail = [&reply](int status, const std::string& message) {
    return reply(status, {{"error", message}, {"status", status}});
  };
  try {
    if (request.path == "/api/v1/xray/groups") {
      json groups = json::array();
      for (const sampling::XrayGroup& g : context.config->Groups()) {
        json entry = GroupJson(g, *context.config);
        json unknown = json::array();
        auto filter = Filter::Parse(g.filter_expression);
        if (filter.ok()) {
          auto names = context.reader->UnknownServices(*filter);
          if (names.ok()) {
            for (const std::string& name : *names) unknown.push_back(name);
          }
        }
        entry["UnknownServices"] = unknown;
        entry["MatchesNoKnownService"] = !unknown.empty();
        groups.push_back(entry);
      }
      return reply(200, {{"groups", groups}});
    }
    if (request.path == "/api/v1/xray/sampling") {
      json rules = json::array();
      for (const sampling::SamplingRule& r : context.config->Rules()) {
        json entry = RuleRecord(r, *context.config);
        entry["ActiveClients"] = context.targets->ActiveClients(r.rule_name);
        json windows = json::array();
        for (const sampling::StatisticSummary& w : context.targets->History(r.rule_name)) {
          windows.push_back({{"Timestamp", w.timestamp},
                             {"RequestCount", w.request_count},
                             {"SampledCount", w.sampled_count},
                             {"BorrowCount", w.borrow_count}});
        }
        entry["Statistics"] = windows;
        rules.push_back(entry);
      }
      return reply(200, {{"rules", rules}});
    }
    if (request.path == "/api/v1/xray/trace-summaries") {
      const double now = context.clock();
      auto number = [&](const char* name, double fallback) {
        auto text = request.QueryParam(name);
        if (!text) return fallback;
        char* end = nullptr;
        std::string copy(*text);
        double value = std::strtod(copy.c_str(), &end);
        if (copy.empty() || end != copy.c_str() + copy.size()) {
          throw ApiError{400, "", std::string(name) + " must be a number, got '" + copy + "'"};
        }
        return value;
      };
      json body = {{"StartTime", number("start", now - 3600)},
                   {"EndTime", number("end", now + 60)},
                   {"FilterExpression", std::string(request.QueryParam("filter").value_or(""))}};
      ReadLimits limits = context.limits;
      const double limit = number("limit", 100);
      if (limit < static_cast<double>(limits.trace_summaries_page))
        limits.trace_summaries_page = limit < 1 ? 1 : static_cast<size_t>(limit);
      XrayReadOps reads(context.reader, context.config, limits, context.clock, request.cancel);
      return reply(200, reads.GetTraceSummaries(body));
    }
    return fail(404, "no such endpoint: " + request.path +
                         " (X-Ray views: /api/v1/xray/groups, /api/v1/xray/sampling, "
                         "/api/v1/xray/trace-summaries)");
  } catch (const ApiError& e) {
    return fail(e.status, e.message);
  } catch (const std::exception& e) {
    return fail(500, std::string("unexpected error: ") + e.what());
  }
}

}  // namespace ariadne::api::xray
