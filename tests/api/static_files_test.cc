// StaticFiles: the web UI served next to the API — content types, caching, client-side routes,
// the "not built" page, and that nothing outside the UI folder can be read (`..`, encoded `..`,
// symlinks). The routing tests go over a real socket through WithStaticFiles.
#include "api/static_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "net/http_client.h"
#include "net/http_server.h"

namespace ariadne::api {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ariadne-static-test-XXXXXX";
    base_ = mkdtemp(pattern);
    dist_ = base_ / "dist";
    WriteFile(dist_ / "index.html", "<!doctype html><title>app</title>");
    WriteFile(dist_ / "assets/index-abc123.js", "console.log(1)");
    WriteFile(dist_ / "assets/index-abc123.css", "body{}");
    WriteFile(dist_ / "favicon.svg", "<svg/>");
    WriteFile(base_ / "secret.txt", "TOP SECRET");
    WriteFile(base_ / "dist-other/x.txt", "sibling with the same prefix");
    fs::create_symlink(base_ / "secret.txt", dist_ / "escape.txt");
    fs::create_directory_symlink(base_, dist_ / "up");
  }
  void TearDown() override { fs::remove_all(base_); }

  net::HttpResponse Get(const StaticFiles& files, const std::string& path,
                        net::HeaderList headers = {}) {
    net::HttpRequest request;
    request.method = "GET";
    request.target = path;
    request.path = path.substr(0, path.find('?'));
    request.headers = std::move(headers);
    request.body = std::make_shared<std::string>();
    return files.Serve(request);
  }

  fs::path base_, dist_;
};

TEST_F(StaticFilesTest, ServesFilesWithTypesAndCaching) {
  StaticFiles files(dist_.string());
  ASSERT_TRUE(files.available());
  auto js = Get(files, "/assets/index-abc123.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(*js.Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(*js.Header("Cache-Control"), "public, max-age=31536000, immutable");
  auto css = Get(files, "/assets/index-abc123.css");
  EXPECT_EQ(*css.Header("Content-Type"), "text/css; charset=utf-8");
  auto svg = Get(files, "/favicon.svg");
  EXPECT_EQ(*svg.Header("Content-Type"), "image/svg+xml");
  EXPECT_EQ(*svg.Header("Cache-Control"), "public, max-age=3600");
  auto index = Get(files, "/index.html");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(*index.Header("Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, AppRoutesGetIndexHtml) {
  StaticFiles files(dist_.string());
  for (std::string path : {"/", "/query", "/query?calc=COUNT", "/traces", "/traces/abc",
                           "/traces/1-5759e988-bd862e3fe1be46a994272793", "/service-map",
                           "/xray/groups", "/xray/sampling-rules"}) {
    auto response = Get(files, path);
    EXPECT_EQ(response.status, 200) << path;
    EXPECT_EQ(response.body, "<!doctype html><title>app</title>") << path;
    EXPECT_EQ(*response.Header("Content-Type"), "text/html; charset=utf-8") << path;
    EXPECT_EQ(*response.Header("Cache-Control"), "no-cache") << path;
  }
  // An unknown page: the app with 404, so it can show its not-found page.
  auto unknown = Get(files, "/no-such-page");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, "<!doctype html><title>app</title>");
  // A missing file: a plain 404.
  auto missing = Get(files, "/assets/gone-123.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body.find("<!doctype"), std::string::npos);
  // A route prefix is not a file prefix.
  EXPECT_EQ(Get(files, "/queryx").status, 404);
}

TEST_F(StaticFilesTest, EtagRevalidation) {
  StaticFiles files(dist_.string());
  auto first = Get(files, "/assets/index-abc123.js");
  ASSERT_TRUE(first.Header("ETag"));
  auto second = Get(files, "/assets/index-abc123.js",
                    {{"If-None-Match", std::string(*first.Header("ETag"))}});
  EXPECT_EQ(second.status, 304);
  EXPECT_TRUE(second.body.empty());
}

TEST_F(StaticFilesTest, NoTraversal) {
  StaticFiles files(dist_.string());
  for (std::string path : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                           "/%2E%2E%2Fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
                           "/..%2fsecret.txt", "/.%2e/secret.txt", "/assets/..\\..\\secret.txt",
                           "/%5c..%5csecret.txt", "/index.html%00.js", "/./index.html"}) {
    auto response = Get(files, path);
    EXPECT_EQ(response.status, 400) << path;
    EXPECT_EQ(response.body.find("TOP SECRET"), std::string::npos) << path;
  }
  // Symlinks that lead out of the folder.
  for (std::string path : {"/escape.txt", "/up/secret.txt", "/up/dist-other/x.txt"}) {
    auto response = Get(files, path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.body.find("TOP SECRET"), std::string::npos) << path;
    EXPECT_EQ(response.body.find("sibling"), std::string::npos) << path;
  }
  // A folder is not a file.
  EXPECT_EQ(Get(files, "/assets").status, 404);
  // A root given with a trailing slash or relative parts works the same.
  StaticFiles other((dist_ / "../dist/").string());
  EXPECT_EQ(Get(other, "/assets/index-abc123.js").status, 200);
  EXPECT_EQ(Get(other, "/escape.txt").status, 404);
}

TEST_F(StaticFilesTest, NotBuiltPage) {
  StaticFiles files((base_ / "missing").string());
  EXPECT_FALSE(files.available());
  auto response = Get(files, "/");
  EXPECT_EQ(response.status, 503);
  EXPECT_NE(response.body.find("has not been built"), std::string::npos);
  EXPECT_NE(response.body.find("npm run build"), std::string::npos);
  EXPECT_NE(response.body.find("--ui-dir"), std::string::npos);
  EXPECT_EQ(Get(files, "/../secret.txt").status, 400);
}

TEST_F(StaticFilesTest, OnlyGetAndHead) {
  StaticFiles files(dist_.string());
  net::HttpRequest request;
  request.method = "POST";
  request.path = request.target = "/";
  request.body = std::make_shared<std::string>();
  EXPECT_EQ(files.Serve(request).status, 405);
  request.method = "HEAD";
  auto head = files.Serve(request);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(StaticFilesTest, RoutesApiAndFilesOverARealSocket) {
  StaticFiles files(dist_.string());
  net::HttpHandler api = [](net::HttpRequest&& request, net::Responder respond) {
    respond(net::HttpResponse(200, "application/json", "{\"api\":\"" + request.path + "\"}"));
  };
  auto server = net::HttpServer::Start("127.0.0.1", 0, WithStaticFiles(api, &files));
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  net::HttpClient client("127.0.0.1", (*server)->bound_port());
  auto api_response = client.Request("GET", "/api/v1/services");
  ASSERT_TRUE(api_response.ok());
  EXPECT_EQ(api_response->body, "{\"api\":\"/api/v1/services\"}");
  auto health = client.Request("GET", "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->body, "{\"api\":\"/healthz\"}");
  auto page = client.Request("GET", "/traces/4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<!doctype html><title>app</title>");
  auto js = client.Request("GET", "/assets/index-abc123.js");
  ASSERT_TRUE(js.ok());
  EXPECT_EQ(*js->Header("Content-Type"), "text/javascript; charset=utf-8");
  // Raw traversal on the wire, unnormalized by any client.
  auto raw = client.Request("GET", "/assets/../../secret.txt");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->status, 400);
  EXPECT_EQ(raw->body.find("TOP SECRET"), std::string::npos);
  (*server)->Stop();
}

TEST(XrayProxyTest, ForwardsOperationsToTheXrayApi) {
  // A stand-in X-Ray API that echoes what it got, with an X-Ray style error for one path.
  net::HttpHandler xray = [](net::HttpRequest&& request, net::Responder respond) {
    if (request.path == "/DeleteGroup") {
      net::HttpResponse error(400, "application/json", "{\"__type\":\"InvalidRequestException\"}");
      error.SetHeader("x-amzn-ErrorType", "InvalidRequestException");
      respond(std::move(error));
      return;
    }
    std::string user_agent(request.Header("user-agent").value_or("none"));
    respond(net::HttpResponse(
        200, "application/x-amz-json-1.1",
        request.method + " " + request.target + " " + *request.body + " ua=" + user_agent));
  };
  net::HttpHandler inner = [](net::HttpRequest&& request, net::Responder respond) {
    respond(net::HttpResponse(200, "text/plain", "inner " + request.path));
  };
  auto server = net::HttpServer::Start("127.0.0.1", 0, WithXrayProxy(inner, xray));
  ASSERT_TRUE(server.ok());
  net::HttpClient client("127.0.0.1", (*server)->bound_port());
  auto created = client.Request("POST", "/api/v1/xray/CreateGroup", {{"User-Agent", "browser"}},
                                "{\"GroupName\":\"g\"}");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->status, 200);
  EXPECT_EQ(created->body, "POST /CreateGroup {\"GroupName\":\"g\"} ua=none");
  EXPECT_EQ(*created->Header("Content-Type"), "application/x-amz-json-1.1");
  auto failed = client.Request("POST", "/api/v1/xray/DeleteGroup", {}, "{}");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, 400);
  EXPECT_EQ(*failed->Header("x-amzn-ErrorType"), "InvalidRequestException");
  auto get = client.Request("GET", "/api/v1/xray/Groups");
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 405);
  auto other = client.Request("GET", "/api/v1/services");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->body, "inner /api/v1/services");
  (*server)->Stop();
}

}  // namespace
}  // namespace ariadne::api
