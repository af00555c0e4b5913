// Decompress(): round trips for every encoding, the size cap (bombs fail fast and the output
// buffer never grows past the cap), corrupt and truncated streams, unknown encodings.

#include "receivers/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <random>

// --- allocation accounting for this test binary -------------------------------------------------
namespace {
std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_largest_allocation{0};
}  // namespace

void* operator new(size_t size) {
  if (g_tracking.load(std::memory_order_relaxed)) {
    size_t prev = g_largest_allocation.load();
    while (size > prev && !g_largest_allocation.compare_exchange_weak(prev, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace ariadne::receivers {
namespace {

std::string RandomText(size_t n, uint64_t seed, int alphabet = 256) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() % alphabet);
  return out;
}

std::string ZlibCompress(std::string_view data, int window_bits) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Zstd(std::string_view data, int level = 3) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

constexpr size_t kMiB = 1 << 20;

TEST(CompressionTest, GzipRoundTripsAtManySizes) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{100000}, 3 * kMiB}) {
    std::string data = RandomText(n, n, n > kMiB ? 16 : 256);
    auto out = Decompress("gzip", GzipCompress(data), 64 * kMiB);
    ASSERT_TRUE(out.ok()) << n << ": " << out.status().ToString();
    EXPECT_EQ(*out, data);
  }
}

TEST(CompressionTest, DeflateAcceptsZlibStreamsAndRawDeflate) {
  std::string data = RandomText(50000, 3, 20);
  auto zlib = Decompress("deflate", ZlibCompress(data, 15), kMiB);
  ASSERT_TRUE(zlib.ok()) << zlib.status().ToString();
  EXPECT_EQ(*zlib, data);
  auto raw = Decompress("deflate", ZlibCompress(data, -15), kMiB);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(*raw, data);
  // gzip accepts a zlib stream too (auto-detection), and deflate accepts gzip.
  EXPECT_TRUE(Decompress("gzip", ZlibCompress(data, 15), kMiB).ok());
  EXPECT_TRUE(Decompress("deflate", GzipCompress(data), kMiB).ok());
}

TEST(CompressionTest, ZstdRoundTripsIncludingSeveralFrames) {
  std::string a = RandomText(200000, 5, 30), b = RandomText(1000, 6);
  for (const char* name : {"zstd", "zst", "ZSTD"}) {
    auto out = Decompress(name, Zstd(a) + Zstd(b), kMiB);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, a + b);
  }
  auto empty = Decompress("zstd", Zstd(""), kMiB);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(CompressionTest, ConcatenatedGzipMembersAreAllDecoded) {
  auto out = Decompress("gzip", GzipCompress("hello ") + GzipCompress("world"), kMiB);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "hello world");
}

TEST(CompressionTest, IdentityAndEncodingNamesAreCaseInsensitive) {
  for (const char* name : {"", "identity", "IDENTITY"}) {
    auto out = Decompress(name, "plain", 100);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, "plain");
  }
  for (const char* name : {"GZIP", "Gzip", " gzip "}) {
    auto out = Decompress(name, GzipCompress("x"), 100);
    ASSERT_TRUE(out.ok()) << name;
    EXPECT_EQ(*out, "x");
  }
}

TEST(CompressionTest, OutputExactlyAtTheCapIsAcceptedOneMoreByteIsNot) {
  std::string data = RandomText(100000, 9, 40);
  for (const char* name : {"gzip", "zstd"}) {
    std::string body = std::string(name) == "gzip" ? GzipCompress(data) : Zstd(data);
    auto exact = Decompress(name, body, data.size());
    ASSERT_TRUE(exact.ok()) << name << ": " << exact.status().ToString();
    EXPECT_EQ(*exact, data);
    auto over = Decompress(name, body, data.size() - 1);
    EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted) << name;
  }
  EXPECT_EQ(Decompress("identity", "12345", 4).status().code(), StatusCode::kResourceExhausted);
}

// A 1 KiB gzip member that inflates to 1 MiB, repeated 1024 times: 1 MiB on the wire, 1 GiB out.
TEST(CompressionTest, GzipBombFailsFastWithoutGrowingPastTheCap) {
  std::string member = GzipCompress(std::string(kMiB, '\0'));
  ASSERT_LE(member.size(), 1100u);
  std::string bomb;
  bomb.reserve(member.size() * 1024);
  for (int i = 0; i < 1024; ++i) bomb += member;
  const size_t cap = 4 * kMiB;
  g_largest_allocation = 0;
  auto start = std::chrono::steady_clock::now();
  g_tracking = true;
  auto out = Decompress("gzip", bomb, cap);
  g_tracking = false;
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(out.status().message().find("limit"), std::string_view::npos);
  EXPECT_LE(g_largest_allocation.load(), cap + 1);  // + the string's terminator
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST(CompressionTest, ZstdBombFailsFastWithoutGrowingPastTheCap) {
  std::string frame = Zstd(std::string(kMiB, 'A'), 19);
  std::string bomb;
  for (int i = 0; i < 1024; ++i) bomb += frame;  // 1 GiB out
  ASSERT_LT(bomb.size(), 64u * 1024);
  const size_t cap = 2 * kMiB;
  g_largest_allocation = 0;
  auto start = std::chrono::steady_clock::now();
  g_tracking = true;
  auto out = Decompress("zstd", bomb, cap);
  g_tracking = false;
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_LE(g_largest_allocation.load(), cap + 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(CompressionTest, ZstdFrameNeedingAWindowBeyondTheCapIsResourceExhausted) {
  // One 8 MiB frame compressed with an 8 MiB window; cap 1 MiB allows a 1 MiB window only.
  std::string data = RandomText(8 * kMiB, 13, 4);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 23);
  std::string frame(ZSTD_compressBound(data.size()), '\0');
  frame.resize(ZSTD_compress2(cctx, frame.data(), frame.size(), data.data(), data.size()));
  ZSTD_freeCCtx(cctx);
  auto out = Decompress("zstd", frame, kMiB);
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted) << out.status().ToString();
}

TEST(CompressionTest, CorruptStreamsAreInvalidArgument) {
  std::string data = RandomText(20000, 11, 30);
  std::string gz = GzipCompress(data);
  gz[gz.size() / 2] ^= 0x55;
  gz[gz.size() / 2 + 1] ^= 0x55;
  EXPECT_EQ(Decompress("gzip", gz, kMiB).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("gzip", "this is not gzip", kMiB).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("deflate", "\xff\xff\xff garbage", kMiB).status().code(),
            StatusCode::kInvalidArgument);
  // With a content checksum (without one, zstd cannot notice a flipped literal byte).
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  std::string zs(ZSTD_compressBound(data.size()), '\0');
  zs.resize(ZSTD_compress2(cctx, zs.data(), zs.size(), data.data(), data.size()));
  ZSTD_freeCCtx(cctx);
  zs[zs.size() / 2] ^= 0x55;
  EXPECT_EQ(Decompress("zstd", zs, kMiB).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("zstd", "not zstd at all", kMiB).status().code(),
            StatusCode::kInvalidArgument);
  // Trailing garbage after a complete gzip member.
  EXPECT_EQ(Decompress("gzip", GzipCompress("x") + "junk", kMiB).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CompressionTest, TruncatedStreamsAreInvalidArgumentAtEveryCut) {
  std::string data = RandomText(5000, 12, 30);
  std::string gz = GzipCompress(data), zs = Zstd(data);
  for (size_t n = 1; n < gz.size(); n += 7) {
    auto out = Decompress("gzip", std::string_view(gz).substr(0, n), kMiB);
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << "gzip cut at " << n;
  }
  for (size_t n = 1; n < zs.size(); n += 7) {
    auto out = Decompress("zstd", std::string_view(zs).substr(0, n), kMiB);
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << "zstd cut at " << n;
  }
  auto truncated = Decompress("gzip", std::string_view(gz).substr(0, gz.size() - 4), kMiB);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string_view::npos)
      << truncated.status().message();
}

TEST(CompressionTest, UnknownEncodingIsUnimplemented) {
  for (const char* name : {"br", "lz4", "snappy", "gzip, br"}) {
    auto out = Decompress(name, "x", kMiB);
    EXPECT_EQ(out.status().code(), StatusCode::kUnimplemented) << name;
    EXPECT_NE(out.status().message().find(name), std::string_view::npos);
  }
}

}  // namespace
}  // namespace ariadne::receivers
