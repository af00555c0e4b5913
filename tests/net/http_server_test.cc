// HttpServer over real sockets on 127.0.0.1, driven by the raw HttpClient.
#include "net/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "net/http_client.h"

namespace ariadne::net {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<HttpServer> StartOrDie(HttpHandler handler, HttpServerOptions options = {}) {
  auto server = HttpServer::Start("127.0.0.1", 0, std::move(handler), std::move(options));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return std::move(server).value();
}

// Echoes what it saw, so tests can check parsing.
void EchoHandler(HttpRequest&& request, Responder respond) {
  std::string text = request.method + " " + request.path + " body=" + *request.body;
  if (auto value = request.QueryParam("q")) text += " q=" + std::string(*value);
  if (auto value = request.Header("X-TEST-header")) text += " h=" + std::string(*value);
  HttpResponse response(200, "text/plain", text);
  response.SetHeader("X-Remote", request.remote_address);
  respond(std::move(response));
}

TEST(HttpServerTest, PortZeroBindsAFreePort) {
  auto server = StartOrDie(EchoHandler);
  EXPECT_NE(server->bound_port(), 0);
  EXPECT_EQ(server->bound_host(), "127.0.0.1");
}

TEST(HttpServerTest, BindingABusyPortFailsWithActionableMessage) {
  auto first = StartOrDie(EchoHandler);
  auto second = HttpServer::Start("127.0.0.1", first->bound_port(), EchoHandler);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("cannot listen on 127.0.0.1"), std::string::npos);
}

TEST(HttpServerTest, KeepAliveReusesOneConnectionForManyRequests) {
  auto server = StartOrDie(EchoHandler);
  HttpClient client("127.0.0.1", server->bound_port());
  std::string first_remote;
  for (int i = 0; i < 5; ++i) {
    auto response =
        client.Request("POST", "/x?q=a%20b", {{"x-test-header", "v"}}, "n" + std::to_string(i));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "POST /x body=n" + std::to_string(i) + " q=a b h=v");
    EXPECT_FALSE(response->connection_closed);
    if (i == 0) first_remote = std::string(*response->Header("X-Remote"));
    EXPECT_EQ(*response->Header("X-Remote"), first_remote);
  }
  EXPECT_EQ(client.connection_id(), 1);
}

TEST(HttpServerTest, ChunkedBodyWithoutContentLengthIsReassembled) {
  auto server = StartOrDie(EchoHandler);
  HttpClient client("127.0.0.1", server->bound_port());
  ASSERT_TRUE(client
                  .SendRaw("POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n")
                  .ok());
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /v1/traces body=hello world!");
  // The connection stays usable.
  auto again = client.Request("GET", "/again");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->body, "GET /again body=");
  EXPECT_EQ(client.connection_id(), 1);
}

TEST(HttpServerTest, OverLimitContentLengthGets413WithMessage) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  std::atomic<int> calls{0};
  auto server = StartOrDie(
      [&](HttpRequest&& request, Responder respond) {
        ++calls;
        EchoHandler(std::move(request), std::move(respond));
      },
      options);
  HttpClient client("127.0.0.1", server->bound_port());
  auto response = client.Request("POST", "/v1/traces", {}, std::string(5000, 'x'));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->body.find("1000 bytes"), std::string::npos) << response->body;
  EXPECT_TRUE(response->connection_closed);
  EXPECT_EQ(calls.load(), 0);
  // Exactly at the limit is fine (on a new connection).
  auto ok = client.Request("POST", "/v1/traces", {}, std::string(1000, 'y'));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpServerTest, EndlessChunkedBodyIsCutOffAt413) {
  HttpServerOptions options;
  options.max_body_bytes = 64 * 1024;
  auto server = StartOrDie(EchoHandler, options);
  HttpClient client("127.0.0.1", server->bound_port());
  ASSERT_TRUE(client
                  .SendRaw("POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n")
                  .ok());
  std::string chunk = "1000\r\n" + std::string(0x1000, 'z') + "\r\n";
  // 32 chunks of 4 KiB = 128 KiB, twice the limit; the server must answer without the end.
  for (int i = 0; i < 32; ++i) {
    if (!client.SendRaw(chunk).ok()) break;
  }
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(response->connection_closed);
}

TEST(HttpServerTest, MalformedRequestGets400) {
  auto server = StartOrDie(EchoHandler);
  HttpClient client("127.0.0.1", server->bound_port());
  ASSERT_TRUE(client.SendRaw("THIS IS NOT HTTP\r\n\r\n").ok());
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 400);

  HttpClient bad_chunk("127.0.0.1", server->bound_port());
  ASSERT_TRUE(bad_chunk
                  .SendRaw("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "zz\r\nabc\r\n0\r\n\r\n")
                  .ok());
  auto chunk_response = bad_chunk.ReadResponse();
  ASSERT_TRUE(chunk_response.ok());
  EXPECT_EQ(chunk_response->status, 400);
}

TEST(HttpServerTest, DelayedRespondFromAnotherThreadIsDelivered) {
  std::vector<std::thread> workers;
  std::mutex mu;
  auto server = StartOrDie([&](HttpRequest&& request, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    workers.emplace_back([respond = std::move(respond), path = request.path] {
      std::this_thread::sleep_for(150ms);
      respond(HttpResponse(202, "text/plain", "late " + path));
    });
  });
  HttpClient client("127.0.0.1", server->bound_port());
  auto start = std::chrono::steady_clock::now();
  auto response = client.Request("GET", "/slow");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 202);
  EXPECT_EQ(response->body, "late /slow");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 140ms);
  for (auto& worker : workers) worker.join();
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  std::vector<std::thread> workers;
  std::mutex mu;
  auto server = StartOrDie([&](HttpRequest&& request, Responder respond) {
    // The first request answers late, the second at once: order must still hold.
    auto delay = request.path == "/first" ? 200ms : 0ms;
    std::lock_guard<std::mutex> lock(mu);
    workers.emplace_back([respond = std::move(respond), path = request.path, delay] {
      std::this_thread::sleep_for(delay);
      respond(HttpResponse(200, "text/plain", path));
    });
  });
  HttpClient client("127.0.0.1", server->bound_port());
  ASSERT_TRUE(client
                  .SendRaw("GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
                           "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                           "GET /third HTTP/1.1\r\nHost: x\r\n\r\n")
                  .ok());
  for (const char* expected : {"/first", "/second", "/third"}) {
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->body, expected);
  }
  std::lock_guard<std::mutex> lock(mu);
  for (auto& worker : workers) worker.join();
}

TEST(HttpServerTest, HandlerThatDropsRespondYields500) {
  auto server = StartOrDie([](HttpRequest&&, Responder) {});
  HttpClient client("127.0.0.1", server->bound_port());
  auto response = client.Request("GET", "/");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 500);
}

TEST(HttpServerTest, SecondRespondCallIsIgnored) {
  auto server = StartOrDie([](HttpRequest&&, Responder respond) {
    respond(HttpResponse(200, "text/plain", "one"));
    respond(HttpResponse(500, "text/plain", "two"));
  });
  HttpClient client("127.0.0.1", server->bound_port());
  for (int i = 0; i < 2; ++i) {
    auto response = client.Request("GET", "/");
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "one");
  }
}

TEST(HttpServerTest, ExpectContinueGetsInterimResponse) {
  auto server = StartOrDie(EchoHandler);
  HttpClient client("127.0.0.1", server->bound_port());
  ASSERT_TRUE(client
                  .SendRaw("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                           "Content-Length: 4\r\n\r\n")
                  .ok());
  // Without the interim 100 the client would wait; we send the body only after reading it here.
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(client.SendRaw("data").ok());
  auto response = client.ReadResponse();  // skips the 100
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /e body=data");
}

TEST(HttpServerTest, RespondAfterStopIsHarmless) {
  std::promise<Responder> saved;
  auto server = StartOrDie([&](HttpRequest&&, Responder respond) { saved.set_value(respond); });
  std::thread client_thread([port = server->bound_port()] {
    HttpClient client("127.0.0.1", port, 2s);
    auto response = client.Request("GET", "/");
    EXPECT_FALSE(response.ok());  // the server went away without answering
  });
  Responder respond = saved.get_future().get();
  server->Stop();
  respond(HttpResponse(200, "text/plain", "too late"));
  client_thread.join();
  server.reset();
}

TEST(HttpServerTest, ConnectionCloseRequestIsHonoured) {
  auto server = StartOrDie(EchoHandler);
  HttpClient client("127.0.0.1", server->bound_port());
  auto response = client.Request("GET", "/", {{"Connection", "close"}});
  ASSERT_TRUE(response.ok());
  EXPECT_TRUE(response->connection_closed);
  auto second = client.Request("GET", "/");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(client.connection_id(), 2);
}

TEST(ParseHttpUrlTest, SplitsHostPortAndPath) {
  auto url = ParseHttpUrl("http://127.0.0.1:8686/api");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8686);
  EXPECT_EQ(url->path, "/api");
  EXPECT_FALSE(url->tls);
  // https:// (issue 12): TLS, port 443 unless given.
  auto secure = ParseHttpUrl("https://x");
  ASSERT_TRUE(secure.ok());
  EXPECT_TRUE(secure->tls);
  EXPECT_EQ(secure->port, 443);
  EXPECT_EQ(secure->path, "/");
  EXPECT_FALSE(ParseHttpUrl("ftp://x").ok());
  EXPECT_FALSE(ParseHttpUrl("http://x:99999/").ok());
}

TEST(ParseHttpUrlTest, BracketedIpv6HostKeepsItsColonsOutOfThePort) {
  auto with_port = ParseHttpUrl("http://[::1]:8686/v1/traces");
  ASSERT_TRUE(with_port.ok()) << with_port.status().ToString();
  EXPECT_EQ(with_port->host, "::1");
  EXPECT_EQ(with_port->port, 8686);
  EXPECT_EQ(with_port->path, "/v1/traces");
  auto default_port = ParseHttpUrl("https://[2001:db8::7]");
  ASSERT_TRUE(default_port.ok()) << default_port.status().ToString();
  EXPECT_EQ(default_port->host, "2001:db8::7");
  EXPECT_EQ(default_port->port, 443);
  EXPECT_FALSE(ParseHttpUrl("http://[::1/").ok());    // never closed
  EXPECT_FALSE(ParseHttpUrl("http://[::1]x/").ok());  // junk after the bracket
  EXPECT_FALSE(ParseHttpUrl("http://[::1]:/").ok());  // empty port
  EXPECT_FALSE(ParseHttpUrl("http://[::1]:70000/").ok());
}

}  // namespace
}  // namespace ariadne::net

namespace ariadne::net {
namespace {

// Issue 10: a handler still working when its client goes away sees request.cancel set, so long
// queries stop instead of running on for nobody.
TEST(HttpServerCancelTest, ClientDisconnectSetsTheCancelFlag) {
  std::promise<CancelFlagPtr> got_flag;
  std::mutex mu;
  std::vector<Responder> parked;  // the handler never answers while the test runs
  auto server = StartOrDie([&](HttpRequest&& request, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    parked.push_back(std::move(respond));
    got_flag.set_value(request.cancel);
  });
  CancelFlagPtr flag;
  {
    HttpClient client("127.0.0.1", server->bound_port());
    ASSERT_TRUE(client.SendRaw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    auto future = got_flag.get_future();
    ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
    flag = future.get();
    EXPECT_FALSE(flag->cancelled());
    client.Close();
  }
  // Waits for the server to notice; the loop bound only keeps a broken build from hanging.
  for (int i = 0; i < 1000 && !flag->cancelled(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(flag->cancelled());
  server->Stop();
}

TEST(HttpServerCancelTest, AnsweredAndPipelinedRequestsAreNotCancelled) {
  std::mutex mu;
  std::vector<CancelFlagPtr> flags;
  auto server = StartOrDie([&](HttpRequest&& request, Responder respond) {
    {
      std::lock_guard<std::mutex> lock(mu);
      flags.push_back(request.cancel);
    }
    respond(HttpResponse(200, "text/plain", "ok"));
  });
  HttpClient client("127.0.0.1", server->bound_port());
  ASSERT_TRUE(client
                  .SendRaw("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
                  .ok());
  for (int i = 0; i < 2; ++i) {
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->status, 200);
  }
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(flags.size(), 2u);
  for (const CancelFlagPtr& flag : flags) EXPECT_FALSE(flag->cancelled());
  server->Stop();
}

}  // namespace
}  // namespace ariadne::net
