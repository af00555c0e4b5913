#include "tests/store/conformance/engines.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <vector>

#include "store/clickhouse/clickhouse_store.h"
#include "store/embedded/embedded_store.h"
#include "tests/store/conformance/clickhouse_process.h"

namespace ariadne::testing {
namespace {

// Temporary directories of the embedded stores opened; removed at exit.
struct Shared {
  std::unique_ptr<ClickHouseProcess> clickhouse;
  std::string clickhouse_error;
  bool clickhouse_tried = false;
  std::vector<std::string> dirs;
  int databases = 0;
  ~Shared() {
    for (const std::string& dir : dirs) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
};
Shared& State() {
  static Shared shared;
  return shared;
}

ClickHouseProcess* SharedClickHouse() {
  Shared& s = State();
  if (!s.clickhouse_tried) {
    s.clickhouse_tried = true;
    std::optional<std::string> binary = ClickHouseProcess::FindBinary();
    if (binary) {
      try {
        s.clickhouse = ClickHouseProcess::Start(*binary);
      } catch (const std::exception& e) {
        s.clickhouse_error = e.what();
      }
    }
  }
  return s.clickhouse.get();
}

}  // namespace

std::string EngineName(Engine engine) {
  switch (engine) {
    case Engine::kEmbedded:
      return "Embedded";
    case Engine::kEmbeddedIndexed:
      return "EmbeddedIndexed";
    case Engine::kClickHouse:
      break;
  }
  return "ClickHouse";
}

std::string EngineSkipReason(Engine engine) {
  if (engine != Engine::kClickHouse) return "";
  if (!ClickHouseProcess::FindBinary())
    return "clickhouse-server is not installed (scripts/install-deps installs Debian's "
           "clickhouse-server); the ClickHouse engine is not tested";
  return "";
}

std::string FreshClickHouseUrl() {
  ClickHouseProcess* ch = SharedClickHouse();
  if (ch == nullptr) {
    ADD_FAILURE() << "clickhouse-server is installed but did not start: "
                  << State().clickhouse_error;
    return "";
  }
  return ch->Url("conformance_" + std::to_string(getpid()) + "_" +
                 std::to_string(++State().databases));
}

std::unique_ptr<store::SpanStore> OpenEngine(Engine engine, uint64_t retention_nano) {
  if (engine != Engine::kClickHouse) {
    std::random_device rd;
    const std::string dir =
        (std::filesystem::temp_directory_path() /
         ("ariadne-conformance-" + std::to_string(getpid()) + "-" + std::to_string(rd())))
            .string();
    State().dirs.push_back(dir);
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = dir;
    options.head_max_spans = 1000;  // answers come from sealed blocks and the head together
    options.trace_index = engine == Engine::kEmbeddedIndexed;
    auto store = store::embedded::OpenEmbeddedStore(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  const std::string url = FreshClickHouseUrl();
  if (url.empty()) return nullptr;
  auto config = store::clickhouse::ParseClickHouseUrl(url);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  if (!config.ok()) return nullptr;
  store::clickhouse::ClickHouseStoreOptions options;
  options.config = *config;
  options.retention_nano = retention_nano;
  // The retention test calls ApplyRetention itself: a background pass at open could otherwise drop
  // the old day it appends before the test has read it back.
  options.retention_thread = false;
  std::vector<std::string> created;
  auto store = store::clickhouse::OpenClickHouseStore(options, &created);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return nullptr;
  return std::unique_ptr<store::SpanStore>(std::move(store).value());
}

}  // namespace ariadne::testing
