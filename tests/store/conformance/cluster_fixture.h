// A test fixture for the 2-shard ClickHouse cluster on loopback (docs/scale-out.md): a temporary
// folder, the clickhouse-server processes of the cluster `ariadne_test` (started by the test with
// StartCluster), the `ariadne serve` nodes in front of them, and the store URL that names the
// servers with node `first`'s server first. Skips, naming what is not tested, when Debian's
// clickhouse-server is not installed; kills what is left running at the end.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/common/server_process.h"
#include "tests/store/conformance/clickhouse_process.h"

namespace ariadne::testing {

class ClickHouseClusterFixture : public ::testing::Test {
 protected:
  // What the test covers, for the skip message ("the cluster", "shared X-Ray configuration").
  virtual const char* Subject() const = 0;

  void SetUp() override {
    binary_ = ClickHouseProcess::FindBinary();
    if (!binary_)
      GTEST_SKIP() << "clickhouse-server is not installed (scripts/install-deps installs "
                      "Debian's clickhouse-server); "
                   << Subject() << " is not tested";
    char pattern[] = "/tmp/ariadne-cluster-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override {
    for (ServerProcess& node : nodes_)
      if (node.running()) node.Kill();
    clickhouse_.clear();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // clickhouse://FIRST,OTHER/ariadne?cluster=ariadne_test
  std::string Url(size_t first) const {
    std::string hosts;
    for (size_t k = 0; k < clickhouse_.size(); ++k) {
      const ClickHouseProcess& ch = *clickhouse_[(first + k) % clickhouse_.size()];
      hosts +=
          (hosts.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(ch.http_port());
    }
    return "clickhouse://" + hosts + "/ariadne?cluster=ariadne_test";
  }

  std::optional<std::string> binary_;
  std::string dir_;
  std::vector<std::unique_ptr<ClickHouseProcess>> clickhouse_;
  std::vector<ServerProcess> nodes_;
};

}  // namespace ariadne::testing
