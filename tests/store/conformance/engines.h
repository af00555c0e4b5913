// The engines the storage conformance suite runs against, opened the same way for every test:
// the embedded engine in a temporary directory, and the ClickHouse engine in a fresh database of
// one clickhouse-server that the whole test binary shares (started on first use, on loopback
// with free ports, stopped at exit).
//
// Threads: used by the gtest thread only.
#pragma once

#include <memory>
#include <string>

#include "store/span_store.h"

namespace ariadne::testing {

// kEmbeddedIndexed: the embedded engine with its trace-summary index (--trace-index).
enum class Engine { kEmbedded, kEmbeddedIndexed, kClickHouse };
std::string EngineName(Engine engine);

// Why the engine cannot run here (clickhouse-server not installed), or empty.
std::string EngineSkipReason(Engine engine);

// A freshly opened, empty store of `engine`. `retention_nano` applies to ClickHouse only.
std::unique_ptr<store::SpanStore> OpenEngine(Engine engine, uint64_t retention_nano = 0);

// The clickhouse:// URL of a fresh, not yet created database on the shared server.
std::string FreshClickHouseUrl();

}  // namespace ariadne::testing
