-- The benchmark's ClickHouse table (bench/compare_clickhouse; ClickHouse 18.16 syntax): one row
-- per span, partitioned by day, ordered by (service, name, start time) — a SigNoz-style layout
-- with the common attributes promoted to their own columns and every other attribute in parallel
-- key/value arrays. Rows come from `ariadne-gen --prepare` (tools/gen/clickhouse_rows.h).
-- Needs `allow_experimental_low_cardinality_type = 1` (the script passes it as a URL setting).
CREATE TABLE spans
(
    trace_id         FixedString(16),
    span_id          FixedString(8),
    parent_id        FixedString(8),
    service          LowCardinality(String),
    name             LowCardinality(String),
    kind             UInt8,
    start_time_ns    UInt64,
    duration_ns      UInt64,
    status_code      UInt8,
    status_message   String,
    http_method      LowCardinality(String),
    http_route       LowCardinality(String),
    http_status_code UInt16,
    net_peer_name    LowCardinality(String),
    db_system        LowCardinality(String),
    user_id          String,
    attrs            Nested(key LowCardinality(String), value String),
    resource         Nested(key LowCardinality(String), value String),
    date             Date MATERIALIZED toDate(intDiv(start_time_ns, 1000000000))
)
ENGINE = MergeTree
PARTITION BY date
ORDER BY (service, name, start_time_ns)
SETTINGS index_granularity = 8192
