#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/sdk/xray_exporter.h"
#include "ariadne/sdk/xray_sampler.h"
#include "cli/doctor/doctor.h"
#include "common/json_dump.h"
#include "common/status.h"
#include "query/xray_filter/filter.h"

namespace ariadne::cli::doctor {
namespace {

using Json = nlohmann::json;

Status SendUdp(const std::string& host, uint16_t port, const std::string& payload) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* result = nullptr;
  const std::string port_text = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &result);
  if (rc != 0) return Status::Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
  Status status = Status::Unavailable("no usable address for " + host);
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    ssize_t n = sendto(fd, payload.data(), payload.size(), 0, ai->ai_addr, ai->ai_addrlen);
    close(fd);
    if (n == static_cast<ssize_t>(payload.size())) {
      status = Status::Ok();
      break;
    }
    status = Status::Unavailable("sendto failed");
  }
  freeaddrinfo(result);
  return status;
}

}  // namespace

bool Doctor::CheckXRayConfig() {
  const std::string address = Value("AWS_XRAY_DAEMON_ADDRESS");
  xray_configured_ = !address.empty() || IsSet("AWS_XRAY_URL");
  if (!xray_configured_) {
    Add("xray.skipped", Level::kInfo,
        "X-Ray is not configured (no AWS_XRAY_DAEMON_ADDRESS); not testing it");
    return false;
  }
  if (address.empty()) {
    Add("xray.address.default", Level::kInfo,
        "AWS_XRAY_DAEMON_ADDRESS is not set; X-Ray SDKs use 127.0.0.1:2000");
  } else if (!sdk::ParseXRayDaemonAddress(address, daemon_)) {
    Add("xray.address.invalid", Level::kFail,
        "AWS_XRAY_DAEMON_ADDRESS='" + address + "' is not a daemon address",
        "The forms are HOST:PORT (UDP and TCP on the same address) or "
        "'tcp:HOST:PORT udp:HOST:PORT'; X-Ray SDKs refuse it or fall back to 127.0.0.1:2000.",
        "export AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000 (the address `ariadne serve` prints as "
        "`listening xray HOST:PORT`)");
    return false;
  }
  const std::string udp = daemon_.udp_host + ":" + std::to_string(daemon_.udp_port);
  const std::string tcp = daemon_.tcp_host + ":" + std::to_string(daemon_.tcp_port);
  Add("xray.address", Level::kOk,
      udp == tcp ? "X-Ray daemon address: " + udp + " (segments over UDP, sampling over TCP)"
                 : "X-Ray daemon address: segments to UDP " + udp + ", sampling API on TCP " + tcp);
  if (const std::string pattern = Value("AWS_XRAY_URL"); !pattern.empty()) {
    Add("xray.naming", Level::kInfo,
        "AWS_XRAY_URL: requests to hosts matching '" + pattern +
            "' are named after the host; others '" + xray_name_ + "'");
  }
  return true;
}

void Doctor::SendXRay() {
  const std::string tcp = daemon_.tcp_host + ":" + std::to_string(daemon_.tcp_port);
  const std::string udp = daemon_.udp_host + ":" + std::to_string(daemon_.udp_port);
  const std::string fix_address =
      "start `ariadne serve` (it listens for X-Ray on 127.0.0.1:2000, or --xray HOST:PORT), or "
      "set AWS_XRAY_DAEMON_ADDRESS to the address it prints as `listening xray HOST:PORT`";
  // UDP never reports errors, so ask the X-Ray API on the TCP side of the daemon address.
  {
    net::HttpClient client(daemon_.tcp_host, daemon_.tcp_port, io_timeout_);
    auto response =
        client.Request("POST", "/GetSamplingRules", {{"Content-Type", "application/json"}}, "{}");
    if (response.ok() && response->status == 400 &&
        response->body.find("speaks HTTPS") != std::string::npos) {
      // The X-Ray port was started with TLS: X-Ray SDKs ask it for sampling rules over plain
      // HTTP, so they cannot; doctor itself goes on over TLS.
      daemon_tls_ = true;
      Add("xray.daemon_tls", Level::kWarn, "X-Ray: the X-Ray API on " + tcp + " speaks HTTPS only",
          "X-Ray SDKs ask the daemon address for sampling rules over plain HTTP, so they fall "
          "back to their local rules (segments over UDP still arrive).",
          "keep the X-Ray port plain: `ariadne serve --tls-listeners otlp-http,http`");
      Secure(&client, true, config_.tls.ca_file);
      response =
          client.Request("POST", "/GetSamplingRules", {{"Content-Type", "application/json"}}, "{}");
    }
    if (!response.ok()) {
      Add("xray.daemon_unreachable", Level::kFail,
          "X-Ray: nothing listens on " + tcp + " (no X-Ray daemon there)",
          std::string(response.status().message()) +
              ". UDP gives no errors, so SDKs send segments to " + udp +
              " into the void and fall back to local sampling rules.",
          fix_address);
    } else if (response->status != 200) {
      Add("xray.not_daemon", Level::kFail,
          "X-Ray: " + tcp + " answered " + std::to_string(response->status) +
              " to POST /GetSamplingRules",
          "Something listens there, but it is not an X-Ray daemon or Ariadne's X-Ray port.",
          fix_address);
    } else {
      xray_api_ok_ = true;
      Json j = Json::parse(response->body, nullptr, false);
      std::string rules;
      size_t count = 0;
      if (j.is_object() && j.contains("SamplingRuleRecords") &&
          j["SamplingRuleRecords"].is_array()) {
        for (const auto& record : j["SamplingRuleRecords"]) {
          const Json& rule = record.contains("SamplingRule") ? record["SamplingRule"] : record;
          if (!rule.is_object()) continue;
          ++count;
          if (!rules.empty()) rules += ", ";
          rules += rule.value("RuleName", "?");
        }
      }
      Add("xray.daemon", Level::kOk,
          "X-Ray: the sampling API answers on " + tcp + " (" + std::to_string(count) +
              " sampling rule" + (count == 1 ? "" : "s") + (rules.empty() ? "" : ": " + rules) +
              ")");
    }
  }

  // The segment: what an X-Ray SDK sends for one sampled request.
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const double end_s = std::chrono::duration<double>(now).count();
  char epoch[16];
  std::snprintf(
      epoch, sizeof(epoch), "%08x",
      static_cast<unsigned>(std::chrono::duration_cast<std::chrono::seconds>(now).count()));
  const std::string random = RandomHex(rng_, 12);
  const std::string xray_id = std::string("1-") + epoch + "-" + random;
  const std::string segment_id = RandomHex(rng_, 8);
  Json segment = {{"name", xray_name_},  {"id", segment_id},
                  {"trace_id", xray_id}, {"start_time", end_s - 0.002},
                  {"end_time", end_s},   {"annotations", {{"ariadne_doctor", true}}}};
  const std::string datagram = "{\"format\": \"json\", \"version\": 1}\n" + DumpJson(segment);
  if (Status st = SendUdp(daemon_.udp_host, daemon_.udp_port, datagram); !st.ok()) {
    Add("xray.udp_failed", Level::kFail, "X-Ray: cannot send a segment to UDP " + udp,
        std::string(st.message()), fix_address);
    return;
  }
  Add("xray.sent", Level::kInfo,
      "X-Ray: sent a test segment to UDP " + udp + " (trace " + xray_id + ")");
  // Nobody listening on TCP makes it very likely nobody reads UDP there either: wait less.
  const auto budget = xray_api_ok_ ? deadline_
                                   : std::min<std::chrono::milliseconds>(
                                         deadline_, std::chrono::milliseconds(1500));
  ReadBack("xray", "X-Ray", xray_id, segment_id, budget,
           xray_api_ok_ ? std::string() : "nothing listens at the daemon address (see above)",
           xray_api_ok_ ? "the daemon at " + udp +
                              " is not the server behind --server, or it dropped the datagram "
                              "(check `curl SERVER/metrics | grep xray`)"
                        : fix_address);
}

// The X-Ray groups' filter expressions must name the service this app reports as.
void Doctor::CheckGroups() {
  const std::string tcp = daemon_.tcp_host + ":" + std::to_string(daemon_.tcp_port);
  net::HttpClient client(daemon_.tcp_host, daemon_.tcp_port, io_timeout_);
  Secure(&client, daemon_tls_, config_.tls.ca_file);
  std::vector<std::pair<std::string, std::string>> groups;  // name, filter
  std::string token;
  for (int page = 0; page < 20; ++page) {
    Json request = Json::object();
    if (!token.empty()) request["NextToken"] = token;
    auto response = client.Request("POST", "/Groups", {{"Content-Type", "application/json"}},
                                   DumpJson(request));
    if (!response.ok() || response->status != 200) {
      Add("xray.groups_unreadable", Level::kInfo,
          "X-Ray: groups not checked (POST /Groups on " + tcp + " answered " +
              (response.ok() ? std::to_string(response->status)
                             : std::string(response.status().message())) +
              ")");
      return;
    }
    Json j = Json::parse(response->body, nullptr, false);
    if (!j.is_object()) return;
    for (const auto& g : j.value("Groups", Json::array())) {
      if (!g.is_object()) continue;
      std::string filter = g.contains("FilterExpression") && g["FilterExpression"].is_string()
                               ? g["FilterExpression"].get<std::string>()
                               : "";
      groups.emplace_back(g.value("GroupName", ""), filter);
    }
    token = j.contains("NextToken") && j["NextToken"].is_string()
                ? j["NextToken"].get<std::string>()
                : "";
    if (token.empty()) break;
  }

  std::set<std::string> known = KnownServices();
  const std::string pattern = Value("AWS_XRAY_URL");
  for (const auto& [name, filter] : groups) {
    if (Trim(filter).empty()) continue;
    auto parsed = query::xray_filter::Filter::Parse(filter);
    if (!parsed.ok()) {
      Add("xray.group_invalid", Level::kWarn,
          "X-Ray: group '" + name + "' has a filter that does not parse",
          std::string(parsed.status().message()), "fix the group's filter expression");
      continue;
    }
    std::vector<std::string> names = parsed->ReferencedServices();
    if (names.empty()) continue;
    bool ours = false;
    for (const auto& n : names) {
      if (n == xray_name_ || n == service_ ||
          (!pattern.empty() && sdk::XRayWildcardMatch(pattern, n))) {
        ours = true;
      }
    }
    if (ours) {
      Add("xray.group", Level::kOk,
          "X-Ray: group '" + name + "' selects this service (" + filter + ")");
      continue;
    }
    std::vector<std::string> unknown;
    for (const auto& n : names) {
      if (!known.count(n)) unknown.push_back(n);
    }
    if (unknown.empty()) {
      Add("xray.group_other", Level::kInfo,
          "X-Ray: group '" + name + "' is about other services (" + filter + ")");
      continue;
    }
    const std::string& bad = unknown.front();
    std::string hint;
    if (bad.find('$') != std::string::npos) {
      hint = " The '$' is a shell variable that was meant to be expanded or quoted away.";
    } else if (!bad.empty() && bad.front() == '-') {
      hint =
          " It looks like the shell expanded a variable such as $backend to nothing "
          "(double quotes around the filter).";
    }
    std::string fixed = filter;
    for (const auto& n : unknown) {
      const std::string quoted = "\"" + n + "\"";
      for (size_t pos = fixed.find(quoted); pos != std::string::npos;
           pos = fixed.find(quoted, pos + xray_name_.size() + 2)) {
        fixed.replace(pos, quoted.size(), "\"" + xray_name_ + "\"");
      }
    }
    std::string quoted_names;
    for (const auto& n : unknown) {
      if (!quoted_names.empty()) quoted_names += ", ";
      quoted_names += "\"" + n + "\"";
    }
    Add("xray.group_service", Level::kFail,
        "X-Ray: group '" + name + "' names service " + quoted_names + ", not '" + xray_name_ + "'",
        "Its filter " + filter +
            " refers to a service that never sent data, while this app "
            "reports as '" +
            xray_name_ + "', so the group matches none of its traces." + hint,
        "aws --endpoint-url http://" + tcp + " xray update-group --group-name " + name +
            " --filter-expression '" + fixed + "'");
  }
}

}  // namespace ariadne::cli::doctor
