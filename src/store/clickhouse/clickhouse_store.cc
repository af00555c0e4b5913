#include "store/clickhouse/clickhouse_store.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <thread>

#include "common/thread_annotations.h"
#include "query/xray_filter/filter.h"
#include "query/xray_filter/trace_view.h"
#include "store/clickhouse/columns_cache.h"
#include "store/clickhouse/idempotent_insert.h"
#include "store/clickhouse/query_sql.h"
#include "store/clickhouse/row_codec.h"
#include "store/clickhouse/schema.h"
#include "store/clickhouse/service_graph_sql.h"
#include "store/clickhouse/trace_page_sql.h"
#include "store/clickhouse/trace_sql.h"

namespace ariadne::store::clickhouse {
namespace {

uint64_t NowNano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// The first second after the UTC day YYYYMMDD, in ns; 0 when `partition` is not a day.
uint64_t DayEndNano(const std::string& partition) {
  if (partition.size() != 8) return 0;
  const int day = std::atoi(partition.c_str());
  std::tm tm{};
  tm.tm_year = day / 10000 - 1900;
  tm.tm_mon = day / 100 % 100 - 1;
  tm.tm_mday = day % 100;
  const time_t start = timegm(&tm);
  if (start < 0) return 0;
  return (static_cast<uint64_t>(start) + 86400) * 1'000'000'000ULL;
}

class ClickHouseStoreImpl final : public ClickHouseStore {
 public:
  explicit ClickHouseStoreImpl(ClickHouseStoreOptions options)
      : options_(std::move(options)), client_(options_.config) {}

  ~ClickHouseStoreImpl() override { (void)Close(); }

  void Start() {
    for (size_t i = 0; i < options_.insert_threads; ++i)
      writers_.emplace_back([this] { WriteLoop(); });
    if (options_.retention_nano > 0 && options_.retention_thread)
      retention_thread_ = std::thread([this] { RetentionLoop(); });
  }

  ClickHouseClient* client() { return &client_; }

  void AppendAsync(std::string environment, model::SpanBatch batch, AppendCallback done) override {
    const size_t spans = batch.spans.size();
    Status refused = Ready();
    if (!refused.ok()) {
      done(std::move(refused));
      return;
    }
    {
      MutexLock lock(&mu_);
      if (closed_) {
        refused = Status::FailedPrecondition("store is closed");
      } else if (queued_spans_ > 0 && queued_spans_ + spans > options_.max_queued_spans) {
        append_errors_++;
        refused =
            Status::ResourceExhausted("ClickHouse is behind: " + std::to_string(queued_spans_) +
                                      " spans are waiting to be inserted; retry shortly");
      } else {
        queued_spans_ += spans;
        queue_.push_back(Pending{std::move(environment), std::move(batch), std::move(done)});
      }
    }
    if (!refused.ok()) {
      done(std::move(refused));  // outside the lock: the callback may call the store
      return;
    }
    cv_.notify_one();
  }

  Result<TraceResult> GetTrace(const model::TraceId& id, std::string_view environment) override {
    ARIADNE_RETURN_IF_ERROR(Ready());
    return GetTraceSql(&client_, id, environment);
  }

  Result<TraceResult> GetTraceNear(const model::TraceId& id, std::string_view environment,
                                   const TraceTimeHint& hint) override {
    ARIADNE_RETURN_IF_ERROR(Ready());
    return GetTraceSql(&client_, id, environment, hint);
  }

  Status ForEachTrace(uint64_t start_unix_nano, uint64_t end_unix_nano,
                      std::string_view environment,
                      const std::function<bool(const TraceResult&)>& visit) override {
    ARIADNE_RETURN_IF_ERROR(Ready());
    return ForEachTraceSql(&client_, start_unix_nano, end_unix_nano, environment, visit);
  }

  Result<query::QueryResult> RunQuery(const query::QuerySpec& spec,
                                      const query::ExecContext& context) override {
    ARIADNE_RETURN_IF_ERROR(Ready());
    if (spec.xray_filter.empty()) return RunQuerySql(&client_, spec, context, nullptr);
    // X-Ray filter expressions speak about whole traces: evaluate them on the traces of the
    // window (fetched page by page), then aggregate the spans of those that match in SQL.
    ARIADNE_ASSIGN_OR_RETURN(query::xray_filter::Filter filter,
                             query::xray_filter::Filter::Parse(spec.xray_filter));
    std::vector<model::TraceId> matching;
    ARIADNE_RETURN_IF_ERROR(
        ForEachTraceSql(&client_, spec.start_unix_nano, spec.end_unix_nano, spec.environment,
                        [&](const TraceResult& trace) {
                          if (filter.Matches(query::xray_filter::TraceView::Build(trace.spans)))
                            matching.push_back(trace.spans.spans[0].trace_id);
                          return !(context.cancel && context.cancel->cancelled());
                        }));
    return RunQuerySql(&client_, spec, context, &matching);
  }

  Result<std::vector<TraceSummary>> SearchTraces(const TraceSearchRequest& request,
                                                 const query::ExecContext& context) override {
    ARIADNE_RETURN_IF_ERROR(Ready());
    return SearchTracesSql(&client_, request, context);
  }

  Result<TracePage> SearchTracePage(const TracePageRequest& request,
                                    const query::ExecContext& context) override {
    ARIADNE_RETURN_IF_ERROR(Ready());
    return SearchTracePageSql(&client_, request, context);
  }

  Result<std::vector<ColumnInfo>> ListColumns(std::string_view environment,
                                              uint64_t start_unix_nano,
                                              uint64_t end_unix_nano) override {
    ARIADNE_RETURN_IF_ERROR(Ready());
    if (auto cached = columns_cache_.Get(environment, start_unix_nano, end_unix_nano))
      return std::move(*cached);
    const uint64_t generation = columns_cache_.Generation();
    ARIADNE_ASSIGN_OR_RETURN(std::vector<ColumnInfo> columns,
                             ListColumnsSql(&client_, environment, start_unix_nano, end_unix_nano));
    columns_cache_.Put(environment, start_unix_nano, end_unix_nano, generation, columns);
    return columns;
  }

  Result<ServiceGraph> GetServiceGraph(std::string_view environment, uint64_t start_unix_nano,
                                       uint64_t end_unix_nano) override {
    ARIADNE_RETURN_IF_ERROR(Ready());
    return GetServiceGraphSql(&client_, environment, start_unix_nano, end_unix_nano);
  }

  Result<std::vector<ServiceSummary>> ListServices(std::string_view environment) override {
    ARIADNE_RETURN_IF_ERROR(Ready());
    return ListServicesSql(&client_, environment);
  }

  Status WaitForInserts() override {
    std::unique_lock<Mutex> lock(mu_);
    idle_cv_.wait(lock, [this]() ARIADNE_NO_THREAD_SAFETY_ANALYSIS {
      return queue_.empty() && inflight_ == 0;
    });
    return Status::Ok();
  }

  Status Close() override {
    {
      MutexLock lock(&mu_);
      if (closed_) return Status::Ok();
      closed_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : writers_) t.join();
    writers_.clear();
    if (retention_thread_.joinable()) retention_thread_.join();
    if (connect_thread_.joinable()) connect_thread_.join();
    return Status::Ok();
  }

  Status Ready() const override {
    MutexLock lock(&mu_);
    return not_ready_.ok() ? Status::Ok()
                           : Status::Unavailable("ClickHouse is not reachable yet (" +
                                                 std::string(not_ready_.message()) +
                                                 "); ariadne keeps trying, retry shortly");
  }

  // Not ready because of `why`: keeps trying to create the schema in the background.
  void ConnectInBackground(Status why) {
    {
      MutexLock lock(&mu_);
      not_ready_ = std::move(why);
    }
    connect_thread_ = std::thread([this] { ConnectLoop(); });
  }

  AppendStats GetAppendStats() const override {
    MutexLock lock(&mu_);
    AppendStats stats;
    stats.spans_appended = spans_appended_;
    stats.batches_appended = batches_appended_;
    stats.append_errors = append_errors_;
    stats.pending_appends = queue_.size() + inflight_;
    return stats;
  }

  Result<size_t> ApplyRetention(uint64_t now_unix_nano) override {
    if (options_.retention_nano == 0 || now_unix_nano < options_.retention_nano) return size_t{0};
    const uint64_t cutoff = now_unix_nano - options_.retention_nano;
    if (client_.config().cluster.empty()) return DropOldPartitions(&client_, "", cutoff);
    // Cluster: the partitions live in the local tables of every server.
    size_t dropped = 0;
    for (size_t i = 0; i < client_.config().hosts.size(); ++i) {
      ARIADNE_ASSIGN_OR_RETURN(size_t n,
                               DropOldPartitions(client_.ForHost(i).get(), "_local", cutoff));
      dropped += n;
    }
    return dropped;
  }

 private:
  // Drops the day partitions of spans`suffix` and trace_index`suffix` that end before `cutoff`.
  static Result<size_t> DropOldPartitions(ClickHouseClient* client, const std::string& suffix,
                                          uint64_t cutoff) {
    const std::string& db = client->config().database;
    ARIADNE_ASSIGN_OR_RETURN(
        std::string text,
        client->Query("SELECT DISTINCT table, partition FROM system.parts WHERE database = " +
                      SqlString(db) + " AND active AND table IN ('spans" + suffix +
                      "', 'trace_index" + suffix + "') FORMAT TabSeparated"));
    size_t dropped = 0;
    for (const auto& row : ParseTsv(text)) {
      if (row.size() < 2) continue;
      const uint64_t end = DayEndNano(row[1]);
      if (end == 0 || end > cutoff) continue;
      ARIADNE_RETURN_IF_ERROR(
          client->Query("ALTER TABLE " + db + "." + row[0] + " DROP PARTITION " + row[1]).status());
      dropped++;
    }
    return dropped;
  }

  struct Pending {
    std::string environment;
    model::SpanBatch batch;
    AppendCallback done;
  };

  void WriteLoop() {
    while (true) {
      std::vector<Pending> work;
      {
        MutexLock lock(&mu_);
        cv_.wait(mu_,
                 [this]() ARIADNE_NO_THREAD_SAFETY_ANALYSIS { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;  // closed and drained
        size_t spans = 0;
        while (!queue_.empty() && (work.empty() || spans + queue_.front().batch.spans.size() <=
                                                       options_.max_spans_per_insert)) {
          spans += queue_.front().batch.spans.size();
          work.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        queued_spans_ -= spans;
        inflight_++;
      }
      Status status = Insert(work);
      {
        MutexLock lock(&mu_);
        for (const Pending& p : work) {
          if (status.ok()) {
            spans_appended_ += p.batch.spans.size();
            batches_appended_++;
          } else {
            append_errors_++;
          }
        }
      }
      if (status.ok()) {  // before the acknowledgements: a client sees its new columns at once
        for (const Pending& p : work) columns_cache_.NoteInserted(p.batch);
      }
      for (Pending& p : work) p.done(status);
      {
        MutexLock lock(&mu_);
        inflight_--;
      }
      idle_cv_.notify_all();
    }
  }

  Status Insert(const std::vector<Pending>& work) {
    std::vector<InsertBatch> batches;
    batches.reserve(work.size());
    for (const Pending& p : work) batches.push_back({p.environment, &p.batch});
    return InsertSpans(&client_, batches);
  }

  void ConnectLoop() {
    for (int attempt = 1;; ++attempt) {
      {
        std::unique_lock<Mutex> lock(mu_);
        if (cv_.wait_for(lock, std::chrono::seconds(attempt < 10 ? 1 : 10),
                         [this]() ARIADNE_NO_THREAD_SAFETY_ANALYSIS { return closed_; }))
          return;
      }
      std::vector<std::string> created;
      Status status = EnsureSchema(&client_, &created);
      for (const std::string& line : created)
        std::fprintf(stderr, "ariadne: clickhouse: created %s\n", line.c_str());
      if (status.ok()) {
        std::fprintf(stderr, "ariadne: clickhouse: reachable now; the store is ready\n");
        MutexLock lock(&mu_);
        not_ready_ = Status::Ok();
        return;
      }
      if (!status.IsUnavailable())
        std::fprintf(stderr, "ariadne: clickhouse: %s\n", status.ToString().c_str());
      MutexLock lock(&mu_);
      not_ready_ = std::move(status);
    }
  }

  void RetentionLoop() {
    while (true) {
      Result<size_t> dropped = ApplyRetention(NowNano());
      if (!dropped.ok())
        std::fprintf(stderr, "ariadne: clickhouse retention: %s\n",
                     dropped.status().ToString().c_str());
      else if (*dropped > 0)
        std::fprintf(stderr, "ariadne: clickhouse retention dropped %zu day partitions\n",
                     *dropped);
      std::unique_lock<Mutex> lock(mu_);
      if (cv_.wait_for(lock, std::chrono::minutes(10),
                       [this]() ARIADNE_NO_THREAD_SAFETY_ANALYSIS { return closed_; }))
        return;
    }
  }

  const ClickHouseStoreOptions options_;
  ClickHouseClient client_;

  mutable Mutex mu_;
  std::condition_variable_any cv_;       // work queued, or closing
  std::condition_variable_any idle_cv_;  // a write finished
  std::deque<Pending> queue_ ARIADNE_GUARDED_BY(mu_);
  size_t queued_spans_ ARIADNE_GUARDED_BY(mu_) = 0;
  size_t inflight_ ARIADNE_GUARDED_BY(mu_) = 0;
  bool closed_ ARIADNE_GUARDED_BY(mu_) = false;
  uint64_t spans_appended_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t batches_appended_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t append_errors_ ARIADNE_GUARDED_BY(mu_) = 0;
  Status not_ready_ ARIADNE_GUARDED_BY(mu_);  // why the schema is not in place yet; OK: ready
  ColumnsCache columns_cache_{std::chrono::seconds(10)};

  std::vector<std::thread> writers_;
  std::thread retention_thread_;
  std::thread connect_thread_;
};

}  // namespace

Result<std::unique_ptr<ClickHouseStore>> OpenClickHouseStore(ClickHouseStoreOptions options,
                                                             std::vector<std::string>* created) {
  const bool wait = options.wait_for_clickhouse;
  auto store = std::make_unique<ClickHouseStoreImpl>(std::move(options));
  Status schema = EnsureSchema(store->client(), created);
  if (!schema.ok() && !(wait && schema.IsUnavailable())) return schema;
  if (!schema.ok()) store->ConnectInBackground(std::move(schema));
  store->Start();
  return std::unique_ptr<ClickHouseStore>(std::move(store));
}

}  // namespace ariadne::store::clickhouse
