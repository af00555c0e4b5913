// The WAL's buffers within their bound (EmbeddedStoreOptions::max_wal_buffer_bytes), on the real
// store over real files: while the group commit is held inside its WAL write (an Env that parks
// the writer until released), appends queue framed records until the next would pass the bound;
// that one is refused with kResourceExhausted (clients get 503 + Retry-After), nothing acknowledged
// is lost, and once the commit goes on appends are taken again. Also: a running seal's sorted copy
// and encoded file are counted in the head bytes /metrics shows, and dropped when the seal ends.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/env_wrapper.h"
#include "store/embedded/embedded_store.h"
#include "tests/common/random_spans.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

// Passes everything to the POSIX Env; while closed, the first append to a file whose path holds
// `fragment` (by default WAL files) waits inside Append until Open() (the commit thread is then
// parked mid-commit, its records still counted; or the seal thread mid-write).
class GatedEnv : public EnvWrapper {
 public:
  explicit GatedEnv(std::string fragment = "/wal/") : fragment_(std::move(fragment)) {}
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = false;
    cv_.notify_all();
  }
  void WaitUntilParked() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return parked_; });
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return Wrap(path, target()->NewWritableFile(path));
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return Wrap(path, target()->NewAppendableFile(path));
  }

 private:
  class File : public WritableFile {
   public:
    File(GatedEnv* env, std::unique_ptr<WritableFile> base) : env_(env), base_(std::move(base)) {}
    Status Append(std::string_view data) override {
      env_->Gate();
      return base_->Append(data);
    }
    Status Sync() override { return base_->Sync(); }
    Status Truncate(uint64_t size) override { return base_->Truncate(size); }
    Status Close() override { return base_->Close(); }

   private:
    GatedEnv* env_;
    std::unique_ptr<WritableFile> base_;
  };

  Result<std::unique_ptr<WritableFile>> Wrap(const std::string& path,
                                             Result<std::unique_ptr<WritableFile>> file) {
    if (!file.ok() || path.find(fragment_) == std::string::npos) return file;
    return std::unique_ptr<WritableFile>(new File(this, std::move(file).value()));
  }
  void Gate() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!closed_) return;
    parked_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !closed_; });
    parked_ = false;
  }

  const std::string fragment_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  bool parked_ = false;
};

// Counts the callbacks that have run and their outcomes.
struct Outcomes {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  int ok = 0;
  std::vector<Status> errors;
  void Record(const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    ++done;
    if (s.ok())
      ++ok;
    else
      errors.push_back(s);
    cv.notify_all();
  }
  void WaitFor(int n) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done >= n; });
  }
};

TEST(MemoryLimitWalTest, AppendsPastTheWalBufferBoundAreRefusedAndNothingAcknowledgedIsLost) {
  testing::TempDir dir;
  testing::RandomSpans gen(23);
  constexpr int kBatches = 6;
  // Six batches of the same size (one batch, each copy with its own trace ids): equal records.
  const model::SpanBatch base = gen.Batch(200);
  const uint64_t kSpansPerBatch = base.spans.size();
  std::vector<model::SpanBatch> batches;
  for (int i = 0; i < kBatches; ++i) {
    batches.push_back(base.Clone());
    for (model::Span& span : batches.back().spans) span.trace_id.bytes[15] ^= i;
  }

  GatedEnv env;
  EmbeddedStoreOptions options;
  options.data_dir = dir.path();
  options.env = &env;
  auto probe = OpenEmbeddedStore([&] {
    EmbeddedStoreOptions o = options;
    o.data_dir = dir.path() + "/probe";
    return o;
  }());
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  // Measure one record: the WAL buffer gauge while the commit thread is parked on it.
  Outcomes probe_outcomes;
  env.Close();
  (*probe)->AppendAsync("prod", batches[0].Clone(), [&](Status s) { probe_outcomes.Record(s); });
  env.WaitUntilParked();
  const uint64_t record_bytes = (*probe)->Stats().wal_buffer_bytes;
  env.Open();
  probe_outcomes.WaitFor(1);
  ASSERT_GT(record_bytes, 1000u);
  ASSERT_TRUE((*probe)->Close().ok());

  // Three records fit, a fourth does not.
  options.max_wal_buffer_bytes = record_bytes * 3 + record_bytes / 2;
  auto store = OpenEmbeddedStore(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Outcomes outcomes;
  env.Close();
  // The first batch is taken by the commit thread, which parks inside its WAL write; its record
  // still counts against the bound until the commit answers it.
  (*store)->AppendAsync("prod", batches[0].Clone(), [&](Status s) { outcomes.Record(s); });
  env.WaitUntilParked();
  for (int i = 1; i < kBatches; ++i)
    (*store)->AppendAsync("prod", batches[i].Clone(), [&](Status s) { outcomes.Record(s); });
  {
    // Batches 1 and 2 queued (three records in all); 3, 4 and 5 refused at once.
    std::unique_lock<std::mutex> lock(outcomes.mu);
    ASSERT_EQ(outcomes.errors.size(), 3u);
    for (const Status& s : outcomes.errors) {
      EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
      EXPECT_NE(s.message().find("WAL buffers are full"), std::string::npos) << s.ToString();
      EXPECT_NE(s.message().find("retry"), std::string::npos) << s.ToString();
    }
    EXPECT_EQ(outcomes.ok, 0);
  }
  EXPECT_EQ((*store)->Stats().appends_refused_wal_buffer, 3u);
  EXPECT_EQ((*store)->Stats().appends_refused_behind, 0u);
  EXPECT_EQ((*store)->Stats().appends_refused_sealing, 0u);
  env.Open();
  outcomes.WaitFor(kBatches);
  EXPECT_EQ(outcomes.ok, 3);

  // The commit went on: the bound lets appends in again.
  ASSERT_TRUE((*store)->Append("prod", batches[3].Clone()).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  EXPECT_EQ(testing::TotalSpans(**store), 4 * kSpansPerBatch);
  ASSERT_TRUE((*store)->Close().ok());

  // Everything acknowledged is durable: reopened, the store holds those four batches.
  options.max_wal_buffer_bytes = 0;
  auto reopened = OpenEmbeddedStore(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(testing::TotalSpans(**reopened), 4 * kSpansPerBatch);
  for (int i = 0; i < 4; ++i) testing::ExpectAllTracesReadable(**reopened, batches[i], "prod");
}

// An answered append's record leaves the WAL buffers before its callback runs: a client that sends
// its next request the moment one is acknowledged (here, from the callback itself) is never refused
// for buffers nothing else holds. With a bound of one byte any record waiting refuses the next.
TEST(MemoryLimitWalTest, AnAcknowledgedAppendNoLongerCountsAgainstTheBound) {
  testing::TempDir dir;
  EmbeddedStoreOptions options;
  options.data_dir = dir.path();
  options.max_wal_buffer_bytes = 1;
  auto store = OpenEmbeddedStore(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  constexpr int kChain = 5;
  std::vector<model::SpanBatch> batches;
  for (int i = 0; i < kChain; ++i) batches.push_back(testing::RandomSpans(40 + i).Batch(100));
  Outcomes outcomes;
  // The next append goes out only from an accepted one's callback (a refusal answers inside
  // AppendAsync, where appending again would wait on the store's queue lock): the chain ends at
  // the first refusal.
  std::function<void(int)> send = [&](int i) {
    (*store)->AppendAsync("prod", batches[i].Clone(), [&, i](Status s) {
      if (s.ok() && i + 1 < kChain) send(i + 1);
      outcomes.Record(s);
    });
  };
  send(0);
  {
    std::unique_lock<std::mutex> lock(outcomes.mu);
    outcomes.cv.wait(lock, [&] { return outcomes.done == kChain || !outcomes.errors.empty(); });
    EXPECT_EQ(outcomes.ok, kChain);
    for (const Status& s : outcomes.errors) ADD_FAILURE() << s.ToString();
  }
  EXPECT_EQ((*store)->Stats().appends_refused_wal_buffer, 0u);
  ASSERT_TRUE((*store)->Close().ok());
}

TEST(MemoryLimitWalTest, ASealsSortedCopyCountsInHeadBytesUntilTheSealEnds) {
  testing::TempDir dir;
  testing::RandomSpans gen(29);
  GatedEnv env(".blk.tmp");  // parks the seal thread inside its block file write
  EmbeddedStoreOptions options;
  options.data_dir = dir.path();
  options.env = &env;
  auto store = OpenEmbeddedStore(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  model::SpanBatch batch = gen.Batch(2000);
  const uint64_t spans = batch.spans.size();
  ASSERT_TRUE((*store)->Append("prod", std::move(batch)).ok());
  const uint64_t head_only = (*store)->Stats().head_bytes;
  ASSERT_GT(head_only, 0u);

  env.Close();
  Status flushed;
  std::thread flusher([&] { flushed = (*store)->Flush(); });
  env.WaitUntilParked();
  // The sealing head is still held, and beside it the sorted copy and the encoded file: more than
  // the head alone (the copy is about as large as the head).
  const uint64_t while_sealing = (*store)->Stats().head_bytes;
  EXPECT_GT(while_sealing, head_only + head_only / 2)
      << "head " << head_only << " bytes, during the seal " << while_sealing;
  env.Open();
  flusher.join();
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();
  EXPECT_EQ((*store)->Stats().head_bytes, 0u);
  EXPECT_EQ(testing::TotalSpans(**store), spans);
  ASSERT_TRUE((*store)->Close().ok());
}

}  // namespace
}  // namespace ariadne::store::embedded
