// `ariadne compact` on a stopped server's data directory (issue 11): it merges the small blocks of
// settled windows, and with --include-recent those of the current hour too; every span reads back
// exactly once afterwards; a directory a running store holds is refused with a message saying so.
//
// Usage: integration_compact_cmd_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "store/embedded/embedded_store.h"
#include "tests/common/random_spans.h"
#include "tests/common/server_process.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

std::string g_ariadne;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CommandResult RunCommand(const std::string& args) {
  CommandResult result;
  const std::string command = g_ariadne + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> chunk;
  size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), pipe)) > 0)
    result.output.append(chunk.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

uint64_t StartOfThisHourNano() {
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  const uint64_t hour = 3600ULL * 1'000'000'000ULL;
  return now / hour * hour;
}

EmbeddedStoreOptions PlainOptions(const std::string& dir) {
  EmbeddedStoreOptions options;
  options.data_dir = dir;
  return options;  // compaction off: the blocks stay as sealed until the command runs
}

class CompactCommandTest : public ::testing::Test {
 protected:
  // Seals `blocks` blocks of about 500 spans each, starting at `base_time`.
  void SealBlocks(EmbeddedSpanStore* store, uint64_t seed, uint64_t base_time, int blocks) {
    testing::RandomSpanOptions options;
    options.base_time_unix_nano = base_time;
    testing::RandomSpans gen(seed, options);
    for (int i = 0; i < blocks; ++i) {
      model::SpanBatch batch = gen.Batch(500);
      spans_ += batch.spans.size();
      sent_.push_back(batch.Clone());
      ASSERT_TRUE(store->Append("prod", std::move(batch)).ok());
      ASSERT_TRUE(store->Flush().ok());
    }
  }

  // Reopens the directory and checks the block count and that every span reads back once.
  void ExpectStore(uint64_t blocks) {
    auto store = OpenEmbeddedStore(PlainOptions(dir_.path()));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->Stats().blocks, blocks);
    EXPECT_EQ(testing::TotalSpans(**store), spans_);
    for (const model::SpanBatch& batch : sent_)
      testing::ExpectAllTracesReadable(**store, batch, "prod");
  }

  testing::TempDir dir_;
  std::vector<model::SpanBatch> sent_;
  uint64_t spans_ = 0;
};

TEST_F(CompactCommandTest, MergesSettledWindowsThenRecentOnesAndKeepsEverySpan) {
  {
    auto store = OpenEmbeddedStore(PlainOptions(dir_.path()));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    SealBlocks(store->get(), 61, 1'764'000'000'000'000'000ULL, 4);  // 2025: long settled
    SealBlocks(store->get(), 62, StartOfThisHourNano() + 1'000'000'000ULL, 3);  // this hour
    ASSERT_EQ((*store)->Stats().blocks, 7u);
  }
  CommandResult settled = RunCommand("compact --data-dir " + dir_.path());
  ASSERT_EQ(settled.exit_code, 0) << settled.output;
  EXPECT_NE(settled.output.find("7 blocks -> 4"), std::string::npos) << settled.output;
  ExpectStore(4);

  CommandResult recent = RunCommand("compact --include-recent --data-dir " + dir_.path());
  ASSERT_EQ(recent.exit_code, 0) << recent.output;
  EXPECT_NE(recent.output.find("4 blocks -> 2"), std::string::npos) << recent.output;
  ExpectStore(2);

  CommandResult again = RunCommand("compact --data-dir " + dir_.path());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing to merge"), std::string::npos) << again.output;
  ExpectStore(2);
}

TEST_F(CompactCommandTest, RefusesADirectoryInUse) {
  auto store = OpenEmbeddedStore(PlainOptions(dir_.path()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  SealBlocks(store->get(), 63, 1'764'000'000'000'000'000ULL, 2);
  CommandResult result = RunCommand("compact --data-dir " + dir_.path());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("in use by another ariadne process"), std::string::npos)
      << result.output;
  EXPECT_EQ((*store)->Stats().blocks, 2u) << "the running store's blocks are untouched";
}

TEST_F(CompactCommandTest, RefusesAMissingDirectoryInsteadOfCreatingIt) {
  const std::string missing = dir_.path() + "/not-here";
  CommandResult result = RunCommand("compact --data-dir " + missing);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("no data directory"), std::string::npos) << result.output;
  EXPECT_FALSE(std::filesystem::exists(missing));
}

}  // namespace
}  // namespace ariadne::store::embedded

int main(int argc, char** argv) {
  ariadne::store::embedded::g_ariadne = ariadne::testing::AriadneBinaryFromArgs(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (ariadne::store::embedded::g_ariadne.empty()) {
    std::fprintf(stderr, "pass --ariadne=/path/to/build/bin/ariadne\n");
    return 2;
  }
  return RUN_ALL_TESTS();
}
