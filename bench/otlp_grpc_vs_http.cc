// OTLP/gRPC next to OTLP/HTTP: the same realistic 512-span batches (tools/gen/realistic_spans.h)
// sent to one real `ariadne serve` over each protocol, plain and gzip, from `--connections`
// concurrent clients; reported per mode: spans/s and the server's CPU time per span (utime + stime
// of the server process from /proc, so client work is not counted). Every answer must be a
// success (200 / OK) or the run fails. Modes alternate for `--rounds` rounds so the store's growth
// affects each alike.
//
// Usage: otlp_grpc_vs_http --ariadne=build/bin/ariadne [--requests=2000] [--connections=4]
//                          [--rounds=2]
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "tests/common/server_process.h"
#include "tools/gen/otlp_request.h"
#include "tools/gen/realistic_spans.h"

namespace {

using namespace std::chrono_literals;
constexpr size_t kBatchSpans = 512;
constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

double ServerCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string Gzip(const std::string& data) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

struct Mode {
  const char* name;
  bool grpc;
  bool gzip;
};

struct Corpus {
  std::vector<std::string> plain;
  std::vector<std::string> gzipped;
};

// One client's share of the requests over one connection; false on the first failed answer.
bool SendHttp(uint16_t port, const Corpus& corpus, bool gzip, int first, int count) {
  ariadne::net::HttpClient client("127.0.0.1", port, 120s);
  for (int i = first; i < first + count; ++i) {
    const std::vector<std::string>& bodies = gzip ? corpus.gzipped : corpus.plain;
    ariadne::net::HeaderList headers = {{"Content-Type", "application/x-protobuf"}};
    if (gzip) headers.push_back({"Content-Encoding", "gzip"});
    auto response = client.Request("POST", "/v1/traces", headers, bodies[i % bodies.size()]);
    if (!response.ok() || response->status != 200) {
      std::fprintf(stderr, "HTTP request failed: %s\n",
                   response.ok() ? std::to_string(response->status).c_str()
                                 : response.status().ToString().c_str());
      return false;
    }
  }
  return true;
}

bool SendGrpc(uint16_t port, const Corpus& corpus, bool gzip, int first, int count) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
  args.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                           grpc::InsecureChannelCredentials(), args);
  grpc::GenericStub stub(channel);
  for (int i = first; i < first + count; ++i) {
    grpc::ClientContext context;
    if (gzip) context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    grpc::Slice slice(corpus.plain[i % corpus.plain.size()]);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, kExportMethod, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    grpc::Status status = done.get_future().get();
    if (!status.ok()) {
      std::fprintf(stderr, "gRPC call failed: %d %s\n", status.error_code(),
                   status.error_message().c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ariadne;
  int requests = 2000, connections = 4, rounds = 2;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&arg](const char* name) -> const char* {
      size_t n = std::strlen(name);
      return arg.compare(0, n, name) == 0 ? arg.c_str() + n : nullptr;
    };
    if (const char* v = value("--ariadne=")) ariadne = v;
    if (const char* v = value("--requests=")) requests = std::atoi(v);
    if (const char* v = value("--connections=")) connections = std::atoi(v);
    if (const char* v = value("--rounds=")) rounds = std::atoi(v);
  }
  if (ariadne.empty() || requests <= 0 || connections <= 0) {
    std::fprintf(stderr, "usage: %s --ariadne=PATH [--requests=N] [--connections=N] [--rounds=N]\n",
                 argv[0]);
    return 2;
  }

  Corpus corpus;
  ariadne::gen::RealisticSpans gen(7);
  for (int i = 0; i < 32; ++i) {
    ariadne::model::SpanBatch batch = gen.Batch(kBatchSpans);
    batch.spans.resize(kBatchSpans);
    corpus.plain.push_back(ariadne::gen::EncodeOtlpRequest(batch));
    corpus.gzipped.push_back(Gzip(corpus.plain.back()));
  }
  size_t plain_bytes = 0, gzip_bytes = 0;
  for (size_t i = 0; i < corpus.plain.size(); ++i) {
    plain_bytes += corpus.plain[i].size();
    gzip_bytes += corpus.gzipped[i].size();
  }
  std::printf("batches of %zu spans: %.0f B/span as protobuf, %.0f B/span gzipped\n", kBatchSpans,
              static_cast<double>(plain_bytes) / (corpus.plain.size() * kBatchSpans),
              static_cast<double>(gzip_bytes) / (corpus.plain.size() * kBatchSpans));

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ariadne-grpc-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ariadne::testing::ServerProcess server =
      ariadne::testing::ServerProcess::Start(ariadne, (dir / "data").string());

  const Mode modes[] = {{"otlp-http protobuf", false, false},
                        {"otlp-grpc", true, false},
                        {"otlp-http protobuf gzip", false, true},
                        {"otlp-grpc gzip", true, true}};
  std::printf("%-26s %10s %10s %12s %16s\n", "mode", "spans", "wall s", "spans/s",
              "server CPU us/span");
  bool all_ok = true;
  for (int round = 0; round < rounds && all_ok; ++round) {
    for (const Mode& mode : modes) {
      const double cpu_before = ServerCpuSeconds(server.pid());
      const auto start = std::chrono::steady_clock::now();
      std::atomic<bool> ok{true};
      std::vector<std::thread> clients;
      const int per_client = requests / connections;
      for (int c = 0; c < connections; ++c) {
        clients.emplace_back([&, c] {
          const uint16_t port = mode.grpc ? server.ports().otlp_grpc : server.ports().otlp_http;
          bool sent = mode.grpc ? SendGrpc(port, corpus, mode.gzip, c * per_client, per_client)
                                : SendHttp(port, corpus, mode.gzip, c * per_client, per_client);
          if (!sent) ok = false;
        });
      }
      for (std::thread& t : clients) t.join();
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double cpu = ServerCpuSeconds(server.pid()) - cpu_before;
      const double spans = static_cast<double>(per_client) * connections * kBatchSpans;
      if (!ok) {
        all_ok = false;
        break;
      }
      std::printf("%-26s %10.0f %10.2f %12.0f %16.2f\n", mode.name, spans, wall, spans / wall,
                  cpu * 1e6 / spans);
      std::fflush(stdout);
    }
  }
  server.Stop(15);
  std::filesystem::remove_all(dir);
  return all_ok ? 0 : 1;
}
