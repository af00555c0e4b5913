// `ariadne query`: builds a query spec from flags (or reads one from a file), posts it to the
// query API and prints the result as a table.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/client_tls.h"
#include "cli/commands.h"
#include "common/json_dump.h"
#include "net/http_client.h"

namespace ariadne::cli {
namespace {

using nlohmann::json;

json ParseLiteral(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  char* end = nullptr;
  long long i = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && end == text.c_str() + text.size()) return i;
  double d = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) return d;
  return text;
}

// "P99(duration_ms)", "P99:duration_ms" or "COUNT".
Result<json> ParseCalculation(const std::string& text) {
  std::string op = text, column;
  size_t open = text.find('(');
  if (open != std::string::npos) {
    if (text.back() != ')') return Status::InvalidArgument("--calc " + text + ": missing ')'");
    op = text.substr(0, open);
    column = text.substr(open + 1, text.size() - open - 2);
  } else if (size_t colon = text.find(':'); colon != std::string::npos) {
    op = text.substr(0, colon);
    column = text.substr(colon + 1);
  }
  json calc = {{"op", op}};
  if (!column.empty()) calc["column"] = column;
  return calc;
}

// "COLUMN OP [VALUE]" — e.g. "http.status_code >= 500", "user.id in a,b", "db.system exists".
Result<json> ParseFilter(const std::string& text) {
  std::istringstream in(text);
  std::string column, op;
  in >> column >> op;
  std::string value;
  std::getline(in, value);
  value.erase(0, value.find_first_not_of(' '));
  if (column.empty() || op.empty())
    return Status::InvalidArgument(
        "--where '" + text + "': write it as 'COLUMN OP VALUE', e.g. 'http.status_code >= 500'");
  json filter = {{"column", column}, {"op", op}};
  if (op == "in" || op == "not-in") {
    json values = json::array();
    std::stringstream parts(value);
    std::string part;
    while (std::getline(parts, part, ',')) values.push_back(ParseLiteral(part));
    filter["value"] = values;
  } else if (op != "exists" && op != "does-not-exist") {
    if (value.empty())
      return Status::InvalidArgument("--where '" + text + "': the filter needs a value");
    filter["value"] = ParseLiteral(value);
  }
  return filter;
}

std::string Cell(const json& v) {
  if (v.is_null()) return "(null)";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("buckets")) {
    // A tiny text heatmap: one character per bucket by relative count.
    static const char* kLevels[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    double max = 0;
    for (const json& b : v["buckets"]) max = std::max(max, b["count"].get<double>());
    std::string out;
    for (const json& b : v["buckets"]) {
      int level = max > 0 ? static_cast<int>(b["count"].get<double>() / max * 8 + 0.5) : 0;
      out += kLevels[level];
    }
    return out;
  }
  if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.4g", v.get<double>());
    return buf;
  }
  return DumpJson(v);
}

}  // namespace

int RunQuery(const QueryConfig& config) {
  json spec;
  if (!config.file.empty()) {
    std::ifstream file(config.file);
    if (!file) {
      std::fprintf(stderr, "ariadne query: cannot read %s\n", config.file.c_str());
      return 2;
    }
    spec = json::parse(file, nullptr, false);
    if (spec.is_discarded() || !spec.is_object()) {
      std::fprintf(stderr, "ariadne query: %s is not a JSON object\n", config.file.c_str());
      return 2;
    }
  }
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "ariadne query: %s\n", std::string(s.message()).c_str());
    return 2;
  };
  if (config.time_range) spec["time_range"] = config.time_range;
  if (!config.calculations.empty()) {
    spec["calculations"] = json::array();
    for (const std::string& c : config.calculations) {
      auto calc = ParseCalculation(c);
      if (!calc.ok()) return fail(calc.status());
      spec["calculations"].push_back(*calc);
    }
  }
  if (!config.filters.empty()) {
    spec["filters"] = json::array();
    for (const std::string& f : config.filters) {
      auto filter = ParseFilter(f);
      if (!filter.ok()) return fail(filter.status());
      spec["filters"].push_back(*filter);
    }
  }
  if (config.filter_or) spec["filter_combination"] = "OR";
  if (!config.breakdowns.empty()) spec["breakdowns"] = config.breakdowns;
  for (const std::string& o : config.orders) {
    std::string term = o;
    std::string direction = "ascending";
    for (const char* suffix : {" desc", " descending"}) {
      std::string s(suffix);
      if (term.size() > s.size() && term.compare(term.size() - s.size(), s.size(), s) == 0) {
        term.resize(term.size() - s.size());
        direction = "descending";
      }
    }
    json order = {{"order", direction}};
    bool is_breakdown = std::find(config.breakdowns.begin(), config.breakdowns.end(), term) !=
                        config.breakdowns.end();
    if (is_breakdown) {
      order["column"] = term;
    } else {
      auto calc = ParseCalculation(term);
      if (!calc.ok()) return fail(calc.status());
      order.update(*calc);
    }
    spec["orders"].push_back(order);
  }
  for (const std::string& h : config.havings) {
    std::istringstream in(h);
    std::string calc_text, op, value;
    in >> calc_text >> op >> value;
    auto calc = ParseCalculation(calc_text);
    if (!calc.ok() || op.empty() || value.empty())
      return fail(Status::InvalidArgument("--having '" + h +
                                          "': write it as 'CALC OP NUMBER', e.g. 'COUNT > 10'"));
    json having = {{"calculate_op", (*calc)["op"]}, {"op", op}, {"value", ParseLiteral(value)}};
    if (calc->contains("column")) having["column"] = (*calc)["column"];
    spec["havings"].push_back(having);
  }
  if (config.limit) spec["limit"] = config.limit;
  if (!config.dataset.empty()) spec["dataset"] = config.dataset;
  if (!config.environment.empty()) spec["environment"] = config.environment;

  auto url = net::ParseHttpUrl(config.server);
  if (!url.ok()) return fail(url.status());
  net::HttpClient client(url->host, url->port, std::chrono::seconds(120));
  ApplyClientTls(*url, config.tls, &client);
  net::HeaderList request_headers = {{"Content-Type", "application/json"}};
  if (std::string key = ApiKeyFrom(config.key); !key.empty()) {
    request_headers.emplace_back("Authorization", "Bearer " + key);
  }
  auto response = client.Request("POST", "/api/v1/query", request_headers, DumpJson(spec));
  if (!response.ok()) {
    std::fprintf(stderr, "ariadne query: cannot reach %s (%s); is `ariadne serve` running?\n",
                 config.server.c_str(), std::string(response.status().message()).c_str());
    return 1;
  }
  json doc = json::parse(response->body, nullptr, false);
  if (response->status != 200) {
    std::string message =
        doc.is_object() && doc.contains("error") ? doc["error"].get<std::string>() : response->body;
    std::fprintf(stderr, "ariadne query: the server refused the query: %s\n", message.c_str());
    if (response->status == 401 || response->status == 403) {
      std::fprintf(stderr, "  pass a read key with --key KEY or ARIADNE_KEY=KEY\n");
    }
    return 2;
  }
  if (config.json) {
    std::printf("%s\n", DumpJson(doc, 2).c_str());
    return 0;
  }
  // Table: breakdown columns first, then calculations, in the order the spec named them.
  std::vector<std::string> headers;
  for (const json& b : spec.value("breakdowns", json::array()))
    headers.push_back(b.get<std::string>());
  const json& results = doc["data"]["results"];
  std::vector<std::string> calc_labels;
  if (!results.empty()) {
    for (auto it = results[0]["data"].begin(); it != results[0]["data"].end(); ++it)
      if (std::find(headers.begin(), headers.end(), it.key()) == headers.end())
        calc_labels.push_back(it.key());
  } else {
    for (auto it = doc["data"]["totals"].begin(); it != doc["data"]["totals"].end(); ++it)
      calc_labels.push_back(it.key());
  }
  headers.insert(headers.end(), calc_labels.begin(), calc_labels.end());
  std::vector<std::vector<std::string>> rows;
  for (const json& r : results) {
    std::vector<std::string> row;
    for (const std::string& h : headers)
      row.push_back(Cell(r["data"].contains(h) ? r["data"][h] : json()));
    rows.push_back(std::move(row));
  }
  std::vector<size_t> widths;
  for (const std::string& h : headers) widths.push_back(h.size());
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  auto print_row = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i)
      std::printf("%-*s%s", static_cast<int>(widths[i]), row[i].c_str(),
                  i + 1 < row.size() ? "  " : "\n");
  };
  print_row(headers);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.push_back(std::string(w, '-'));
  print_row(rule);
  for (const auto& row : rows) print_row(row);
  const json& meta = doc["meta"];
  std::printf("(%zu rows; %s spans matched of %s scanned in %s blocks%s)\n", rows.size(),
              DumpJson(meta["spans_matched"]).c_str(), DumpJson(meta["spans_scanned"]).c_str(),
              DumpJson(meta["blocks_scanned"]).c_str(),
              meta.value("sample_rate_weighted", false) ? "; counts weighted by sample rate" : "");
  return 0;
}

}  // namespace ariadne::cli
