// ClickHouseConfigBackend: the X-Ray configuration (groups, sampling rules, tags, account settings;
// sampling/config_store.h) in the ClickHouse table `xray_config`, so every `ariadne serve --store
// clickhouse://…` node sees the same groups and rules.
//
//   xray_config (version UInt64, writer String, written_unix_nano UInt64, document String)
//   MergeTree ORDER BY version — one row per saved version, never updated in place.
//
// Load reads the newest version (highest `version`, then the lowest `writer` among rows of that
// version). Save(document, v) inserts (v, a writer id unique to this process and save, now,
// document), then reads back which writer holds version v: when two nodes saved v at the same
// time, the lowest writer id wins on every node, and the loser gets kFailedPrecondition ("another
// node changed the X-Ray configuration at the same moment; retry"). Old versions stay as history;
// they are a few KiB each.
//
// Cluster mode (`?cluster=NAME`): the table is xray_config_local on every server plus a
// Distributed `xray_config` with a constant sharding key, so every version lands on the cluster's
// first shard and reads through any server see them (inserts are synchronous:
// insert_distributed_sync=1). The tables are created by EnsureSchema (schema.h) with the rest.
//
// Threads: XrayConfigStore calls it under its mutex; the client is thread-safe anyway.
#pragma once

#include <memory>
#include <string>

#include "sampling/config_backend.h"
#include "sampling/sampling_targets.h"
#include "store/clickhouse/clickhouse_client.h"

namespace ariadne::store::clickhouse {

class ClickHouseConfigBackend final : public sampling::XrayConfigBackend {
 public:
  explicit ClickHouseConfigBackend(std::unique_ptr<ClickHouseClient> client);
  Result<std::optional<sampling::StoredConfig>> Load() override;
  Status Save(const std::string& document, uint64_t version) override;
  bool shared() const override { return true; }
  std::string where() const override;

 private:
  std::unique_ptr<ClickHouseClient> client_;
  std::string writer_prefix_;  // random per process
  uint64_t saves_ = 0;
};

// ClickHouseFleetStatistics: the SDKs' sampling statistics of every node in the table
// `xray_sampling_stats` (rule, client_id, node, reported_unix_s, request_count, sampled_count,
// borrow_count; MergeTree partitioned by day, ORDER BY (rule, reported_unix_s)), so each node
// splits a rule's reservoir among every client of the fleet (docs/scale-out.md). One INSERT and
// one SELECT per GetSamplingTargets call (one per SDK every 10 s). Rows are ~100 bytes; drop old
// day partitions to trim them (ALTER TABLE ... DROP PARTITION).
class ClickHouseFleetStatistics final : public sampling::FleetStatistics {
 public:
  explicit ClickHouseFleetStatistics(std::unique_ptr<ClickHouseClient> client);
  Result<std::map<std::string, std::vector<std::string>>> RecordAndListActive(
      const std::vector<sampling::StatisticsDocument>& docs, double now, double since) override;

 private:
  std::unique_ptr<ClickHouseClient> client_;
  std::string node_;  // random per process
};

}  // namespace ariadne::store::clickhouse
