#include "store/clickhouse/xray_config_table.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace ariadne::store::clickhouse {
namespace {

std::string RandomHex(size_t digits) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < digits; ++i) out.push_back(kHex[rd() % 16]);
  return out;
}

// A ClickHouse string literal.
std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

}  // namespace

ClickHouseConfigBackend::ClickHouseConfigBackend(std::unique_ptr<ClickHouseClient> client)
    : client_(std::move(client)), writer_prefix_(RandomHex(16)) {}

std::string ClickHouseConfigBackend::where() const {
  return "the ClickHouse table " + client_->config().database + ".xray_config";
}

Result<std::optional<sampling::StoredConfig>> ClickHouseConfigBackend::Load() {
  const std::string& db = client_->config().database;
  ARIADNE_ASSIGN_OR_RETURN(
      std::string text,
      client_->Query("SELECT version, writer, document FROM " + db +
                     ".xray_config ORDER BY version DESC, writer ASC LIMIT 1 FORMAT JSONEachRow"));
  if (text.find_first_not_of(" \r\n") == std::string::npos) {
    return std::optional<sampling::StoredConfig>();
  }
  nlohmann::json row = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!row.is_object() || !row.contains("document") || !row["document"].is_string()) {
    return Status::DataLoss(where() +
                            " answered a row ariadne cannot read: " + text.substr(0, 200));
  }
  sampling::StoredConfig stored;
  stored.document = row["document"].get<std::string>();
  // UInt64 comes quoted in JSONEachRow (output_format_json_quote_64bit_integers).
  const nlohmann::json& version = row["version"];
  stored.version =
      version.is_string() ? std::stoull(version.get<std::string>()) : version.get<uint64_t>();
  return std::optional<sampling::StoredConfig>(std::move(stored));
}

Status ClickHouseConfigBackend::Save(const std::string& document, uint64_t version) {
  const std::string& db = client_->config().database;
  const std::string writer = writer_prefix_ + "-" + std::to_string(++saves_);
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  nlohmann::json row = {{"version", version},
                        {"writer", writer},
                        {"written_unix_nano", static_cast<uint64_t>(now)},
                        {"document", document}};
  const std::string settings =
      client_->config().cluster.empty() ? "" : "&insert_distributed_sync=1";
  ARIADNE_RETURN_IF_ERROR(client_->Insert("INSERT INTO " + db + ".xray_config FORMAT JSONEachRow",
                                          row.dump() + "\n", settings));
  ARIADNE_ASSIGN_OR_RETURN(
      std::string winner,
      client_->Query("SELECT min(writer) FROM " + db +
                     ".xray_config WHERE version = " + std::to_string(version) + " FORMAT TSV"));
  while (!winner.empty() && (winner.back() == '\n' || winner.back() == '\r')) winner.pop_back();
  if (winner != writer) {
    return Status::FailedPrecondition(
        "another node changed the X-Ray configuration at the same moment (version " +
        std::to_string(version) + "); nothing was changed here, retry");
  }
  return Status::Ok();
}

ClickHouseFleetStatistics::ClickHouseFleetStatistics(std::unique_ptr<ClickHouseClient> client)
    : client_(std::move(client)), node_(RandomHex(16)) {}

Result<std::map<std::string, std::vector<std::string>>>
ClickHouseFleetStatistics::RecordAndListActive(
    const std::vector<sampling::StatisticsDocument>& docs, double now, double since) {
  const std::string& db = client_->config().database;
  std::string rows;
  std::string rules;
  std::set<std::string> seen;
  for (const sampling::StatisticsDocument& doc : docs) {
    rows += nlohmann::json{{"rule", doc.rule_name},
                           {"client_id", doc.client_id},
                           {"node", node_},
                           {"reported_unix_s", now},
                           {"request_count", doc.request_count},
                           {"sampled_count", doc.sampled_count},
                           {"borrow_count", doc.borrow_count}}
                .dump() +
            "\n";
    if (seen.insert(doc.rule_name).second) {
      if (!rules.empty()) rules += ", ";
      rules += Quote(doc.rule_name);
    }
  }
  const std::string settings =
      client_->config().cluster.empty() ? "" : "&insert_distributed_sync=1";
  ARIADNE_RETURN_IF_ERROR(client_->Insert(
      "INSERT INTO " + db + ".xray_sampling_stats FORMAT JSONEachRow", rows, settings));
  char since_text[40];
  std::snprintf(since_text, sizeof since_text, "%.3f", since);
  ARIADNE_ASSIGN_OR_RETURN(
      std::string text,
      client_->Query("SELECT DISTINCT rule, client_id FROM " + db +
                     ".xray_sampling_stats WHERE reported_unix_s >= " + since_text +
                     " AND rule IN (" + rules + ") FORMAT JSONEachRow"));
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object() || !row["rule"].is_string() || !row["client_id"].is_string()) continue;
    out[row["rule"].get<std::string>()].push_back(row["client_id"].get<std::string>());
  }
  return out;
}

}  // namespace ariadne::store::clickhouse
