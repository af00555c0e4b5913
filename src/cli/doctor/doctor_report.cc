#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/doctor/doctor.h"
#include "common/json_dump.h"

namespace ariadne::cli::doctor {

using Json = nlohmann::json;

int Doctor::Report() {
  size_t fails = 0, warns = 0;
  for (const auto& f : findings_) {
    fails += f.level == Level::kFail;
    warns += f.level == Level::kWarn;
  }
  if (config_.json) {
    Json out;
    out["ok"] = fails == 0;
    out["problems"] = fails;
    out["warnings"] = warns;
    out["service_name"] = service_;
    out["server"] = config_.server;
    Json env = Json::array();
    for (const auto& e : env_) {
      Json item = {{"name", e.name}, {"set", e.value.has_value()}, {"meaning", e.meaning}};
      if (e.value) item["value"] = e.secret ? MaskHeaders(*e.value) : *e.value;
      env.push_back(std::move(item));
    }
    out["environment"] = std::move(env);
    Json list = Json::array();
    for (const auto& f : findings_) {
      list.push_back({{"id", f.id},
                      {"level", LevelName(f.level)},
                      {"title", f.title},
                      {"detail", f.detail},
                      {"fix", f.fix}});
    }
    out["findings"] = std::move(list);
    out["otlp"] = {{"configured", otlp_configured_},
                   {"protocol", protocol_},
                   {"url", otlp_url_},
                   {"trace_id", otlp_trace_id_},
                   {"read_back", otlp_read_back_}};
    out["zipkin"] = {{"configured", zipkin_configured_},
                     {"url", zipkin_url_},
                     {"trace_id", zipkin_trace_id_},
                     {"read_back", zipkin_read_back_}};
    out["xray"] = {{"configured", xray_configured_}, {"read_back", xray_read_back_}};
    std::printf("%s\n", DumpJson(out, 2).c_str());
    return fails == 0 ? 0 : 1;
  }

  std::printf("ariadne doctor: what an app with this environment would do\n\nEnvironment\n");
  for (const auto& e : env_) {
    if (e.value) {
      std::printf("  %s=%s\n", e.name.c_str(),
                  (e.secret ? MaskHeaders(*e.value) : *e.value).c_str());
      std::printf("      %s\n", e.meaning.c_str());
    } else {
      std::string_view rest = e.meaning;
      if (rest.rfind("not set", 0) == 0) rest.remove_prefix(7);
      while (!rest.empty() && (rest.front() == ':' || rest.front() == ' ')) rest.remove_prefix(1);
      std::printf("  %s is not set%s%s\n", e.name.c_str(), rest.empty() ? "" : " \u2014 ",
                  std::string(rest).c_str());
    }
  }
  std::printf("\nChecks\n");
  for (const auto& f : findings_) {
    std::printf("  %s %s\n", std::string(LevelMark(f.level)).c_str(), f.title.c_str());
    if (!f.detail.empty() && f.level != Level::kOk) std::printf("      %s\n", f.detail.c_str());
    if (!f.fix.empty() && (f.level == Level::kFail || f.level == Level::kWarn)) {
      std::printf("      fix: %s\n", f.fix.c_str());
    }
  }
  std::printf("\n");
  if (fails == 0) {
    std::vector<std::string> arrived;
    if (otlp_read_back_) arrived.push_back(grpc_ ? "OTLP/gRPC" : "OTLP");
    if (zipkin_read_back_) arrived.push_back("Zipkin");
    if (xray_read_back_) arrived.push_back("X-Ray");
    std::string paths;
    for (size_t i = 0; i < arrived.size(); ++i) {
      if (i > 0) paths += i + 1 == arrived.size() ? " and " : ", ";
      paths += arrived[i];
    }
    std::printf(
        "Verdict: everything works%s%s\n",
        paths.empty() ? "" : (" — test spans arrived through " + paths).c_str(),
        warns ? (" (" + std::to_string(warns) + " warning" + (warns == 1 ? "" : "s") + " above)")
                    .c_str()
              : "");
  } else {
    std::printf("Verdict: %zu problem%s found — see the fixes above\n", fails,
                fails == 1 ? "" : "s");
  }
  std::fflush(stdout);
  return fails == 0 ? 0 : 1;
}

}  // namespace ariadne::cli::doctor
