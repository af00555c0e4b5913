// End to end: build/bin/cruddur (two instances, one calling the other) against the real
// `ariadne serve`, traces read back through GET /api/v1/traces/{id}. Covers the OTLP path and, when
// the server offers --xray, the X-Ray daemon path.
//
// Usage: cruddur_e2e_test --ariadne=PATH --cruddur=PATH [gtest flags]
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string g_ariadne;
std::string g_cruddur;

using json = nlohmann::json;

// A child process whose stdout we read line by line.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
    int fds[2];
    if (pipe(fds) != 0) std::abort();
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100; ++i) {
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
    if (fd_ >= 0) close(fd_);
  }

  // The port of the first stdout line starting with `prefix` ("listening http "), or 0.
  int WaitForListening(const std::string& prefix, int timeout_ms = 15000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      for (size_t nl; (nl = buffer_.find('\n')) != std::string::npos;) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        lines_.push_back(line);
      }
      for (const auto& line : lines_) {
        if (line.rfind(prefix, 0) == 0) return std::atoi(line.substr(line.rfind(':') + 1).c_str());
      }
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, 100) > 0) {
        char buf[4096];
        ssize_t n = read(fd_, buf, sizeof(buf));
        if (n <= 0) return 0;
        buffer_.append(buf, n);
      }
    }
    return 0;
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
  std::vector<std::string> lines_;
};

std::string Hex(size_t bytes) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::string s;
  const char* digits = "0123456789abcdef";
  for (size_t i = 0; i < bytes * 2; ++i) s.push_back(digits[rng() % 16]);
  return s;
}

// Polls the API until the trace holds at least `min_spans` spans.
json WaitForTrace(int api_port, const std::string& trace_id, size_t min_spans) {
  httplib::Client api("127.0.0.1", api_port);
  json last;
  for (int i = 0; i < 150; ++i) {
    auto r = api.Get("/api/v1/traces/" + trace_id);
    if (r && r->status == 200) {
      last = json::parse(r->body, nullptr, false);
      if (last.is_object() && last.contains("spans") && last["spans"].size() >= min_spans) {
        return last;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

const json* FindSpan(const json& trace, const std::string& name, const std::string& service = "") {
  for (const auto& s : trace["spans"]) {
    if (s["name"] == name && (service.empty() || s["service_name"] == service)) return &s;
  }
  return nullptr;
}

const json* Attr(const json& span, const std::string& key) {
  for (const auto& a : span["attributes"]) {
    if (a["key"] == key) return &a["value"];
  }
  return nullptr;
}

class CruddurE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = std::filesystem::temp_directory_path() /
                ("ariadne-cruddur-e2e-" + std::to_string(getpid()));
    std::filesystem::remove_all(data_dir_);
    std::vector<std::string> args = {g_ariadne,     "serve", "--data-dir", data_dir_.string(),
                                     "--otlp-http", "0",     "--http",     "0",
                                     "--otlp-grpc", "0"};
    xray_ = ServerHasXRay();
    if (xray_) {
      args.push_back("--xray");
      args.push_back("0");
    }
    if (ServerHas("--zipkin")) {  // a free port, not Zipkin's default 9411
      args.push_back("--zipkin");
      args.push_back("0");
    }
    server_ = std::make_unique<Process>(args, std::map<std::string, std::string>{});
    otlp_port_ = server_->WaitForListening("listening otlp-http ");
    api_port_ = server_->WaitForListening("listening http ");
    if (xray_) xray_port_ = server_->WaitForListening("listening xray ");
    ASSERT_GT(otlp_port_, 0);
    ASSERT_GT(api_port_, 0);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(data_dir_);
  }

  static bool ServerHasXRay() { return ServerHas("--xray"); }
  static bool ServerHas(const std::string& flag) {
    std::string cmd = g_ariadne + " serve --help 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return false;
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    pclose(p);
    return out.find(flag) != std::string::npos;
  }

  std::unique_ptr<Process> StartCruddur(const std::map<std::string, std::string>& env,
                                        std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {g_cruddur, "--port", "0", "--host", "127.0.0.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<Process>(args, env);
    return p;
  }

  std::filesystem::path data_dir_;
  std::unique_ptr<Process> server_;
  bool xray_ = false;
  int otlp_port_ = 0, api_port_ = 0, xray_port_ = 0;
};

TEST_F(CruddurE2ETest, EveryRouteTracedThroughOtlpAndOneTraceAcrossTwoProcesses) {
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(otlp_port_);
  auto downstream = StartCruddur({{"OTEL_EXPORTER_OTLP_ENDPOINT", endpoint},
                                  {"OTEL_SERVICE_NAME", "notifications-svc"},
                                  {"OTEL_BSP_SCHEDULE_DELAY", "100"}});
  const int down_port = downstream->WaitForListening("listening http ");
  ASSERT_GT(down_port, 0);
  auto upstream = StartCruddur({{"OTEL_EXPORTER_OTLP_ENDPOINT", endpoint},
                                {"OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team="},
                                {"HONEYCOMB_SERVICE_NAME", "backend-flask"},
                                {"OTEL_BSP_SCHEDULE_DELAY", "100"}},
                               {"--upstream", "http://127.0.0.1:" + std::to_string(down_port)});
  const int up_port = upstream->WaitForListening("listening http ");
  ASSERT_GT(up_port, 0);

  struct Call {
    std::string method, path, body, route;
    int status;
  };
  const std::vector<Call> calls = {
      {"GET", "/api/activities/home", "", "/api/activities/home", 200},
      {"GET", "/api/activities/notifications", "", "/api/activities/notifications", 200},
      {"GET", "/api/activities/@andrewbrown", "", "/api/activities/@{handle}", 200},
      {"GET", "/api/activities/search?term=cloud", "", "/api/activities/search", 200},
      {"GET", "/api/activities/search", "", "/api/activities/search", 422},
      {"POST", "/api/activities", R"({"message":"hi","ttl":"7-days"})", "/api/activities", 200},
      {"POST", "/api/activities/68f126b0-1ceb-4a33-88be-d90fa7109eee/reply",
       R"({"message":"reply"})", "/api/activities/{activity_uuid}/reply", 200},
      {"GET", "/api/message_groups", "", "/api/message_groups", 200},
      {"GET", "/api/messages/@worf", "", "/api/messages/@{handle}", 200},
      {"POST", "/api/messages", R"({"message":"hello","user_receiver_handle":"worf"})",
       "/api/messages", 200},
  };
  httplib::Client client("127.0.0.1", up_port);
  std::vector<std::string> trace_ids;
  for (const Call& call : calls) {
    const std::string trace_id = Hex(16);
    trace_ids.push_back(trace_id);
    httplib::Headers h = {{"traceparent", "00-" + trace_id + "-" + Hex(8) + "-01"}};
    auto r = call.method == "GET" ? client.Get(call.path, h)
                                  : client.Post(call.path, h, call.body, "application/json");
    ASSERT_TRUE(r) << call.path;
    EXPECT_EQ(r->status, call.status) << call.path;
    if (call.path == "/api/activities/home") {
      auto body = json::parse(r->body);
      ASSERT_EQ(body.size(), 3u);
      EXPECT_EQ(body[0]["handle"], "Andrew Brown");
      EXPECT_EQ(body[0]["replies"][0]["handle"], "Worf");
    }
  }

  // The home trace: server span, custom span, client span, and the downstream server span.
  json home = WaitForTrace(api_port_, trace_ids[0], 4);
  ASSERT_TRUE(home.contains("spans")) << home.dump();
  ASSERT_EQ(home["spans"].size(), 4u) << home.dump(2);
  const json* server = FindSpan(home, "/api/activities/home", "backend-flask");
  const json* custom = FindSpan(home, "home-activities-mock-data", "backend-flask");
  const json* client_span = FindSpan(home, "HTTP GET", "backend-flask");
  const json* down = FindSpan(home, "/api/activities/notifications", "notifications-svc");
  ASSERT_TRUE(server && custom && client_span && down) << home.dump(2);
  EXPECT_EQ((*server)["kind"], "server");
  EXPECT_EQ((*custom)["parent_span_id"], (*server)["span_id"]);
  ASSERT_NE(Attr(*custom, "app.result_length"), nullptr);
  EXPECT_EQ(*Attr(*custom, "app.result_length"), 3);
  ASSERT_NE(Attr(*custom, "app.now"), nullptr);
  EXPECT_TRUE(Attr(*custom, "app.now")->is_string());
  EXPECT_EQ((*client_span)["kind"], "client");
  EXPECT_EQ((*client_span)["parent_span_id"], (*server)["span_id"]);
  EXPECT_EQ((*down)["parent_span_id"], (*client_span)["span_id"]);
  EXPECT_EQ(*Attr(*server, "http.route"), "/api/activities/home");
  EXPECT_EQ(*Attr(*server, "http.status_code"), 200);

  // Every other route: one server span named after its route template.
  for (size_t i = 1; i < calls.size(); ++i) {
    json trace = WaitForTrace(api_port_, trace_ids[i], 1);
    ASSERT_TRUE(trace.contains("spans")) << calls[i].path;
    const json* span = FindSpan(trace, calls[i].route, "backend-flask");
    ASSERT_NE(span, nullptr) << calls[i].path << " " << trace.dump();
    EXPECT_EQ(*Attr(*span, "http.status_code"), calls[i].status) << calls[i].path;
    EXPECT_EQ(*Attr(*span, "http.method"), calls[i].method);
  }
}

TEST_F(CruddurE2ETest, XRayDaemonPathCarriesTheCustomSubsegment) {
  if (!xray_) GTEST_SKIP() << "this ariadne build has no --xray listener";
  ASSERT_GT(xray_port_, 0);
  auto cruddur =
      StartCruddur({{"AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:" + std::to_string(xray_port_)},
                    {"AWS_XRAY_URL", "*4567-nothing-matches*"},
                    {"OTEL_SERVICE_NAME", "backend-flask"}});
  const int port = cruddur->WaitForListening("listening http ");
  ASSERT_GT(port, 0);
  const std::string hex = Hex(16);
  const std::string root = "1-" + hex.substr(0, 8) + "-" + hex.substr(8);
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/api/activities/home", {{"X-Amzn-Trace-Id", "Root=" + root + ";Sampled=?"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // Sampled=? → the decision comes back (the local default samples the first request/s).
  EXPECT_EQ(r->get_header_value("X-Amzn-Trace-Id"), "Root=" + root + ";Sampled=1");
  json trace = WaitForTrace(api_port_, hex, 2);
  ASSERT_TRUE(trace.contains("spans")) << trace.dump();
  ASSERT_GE(trace["spans"].size(), 2u) << trace.dump(2);
  const json* custom = FindSpan(trace, "home-activities-mock-data");
  ASSERT_NE(custom, nullptr) << trace.dump(2);
  bool has_segment = false;
  for (const auto& s : trace["spans"]) {
    if (s["span_id"] == (*custom)["parent_span_id"]) {
      has_segment = true;
      EXPECT_EQ(s["service_name"], "backend-flask");
    }
  }
  EXPECT_TRUE(has_segment) << trace.dump(2);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--ariadne=", 0) == 0) g_ariadne = a.substr(10);
    if (a.rfind("--cruddur=", 0) == 0) g_cruddur = a.substr(10);
  }
  if (g_ariadne.empty() || g_cruddur.empty()) {
    std::fprintf(stderr, "usage: cruddur_e2e_test --ariadne=PATH --cruddur=PATH\n");
    return 2;
  }
  return RUN_ALL_TESTS();
}
