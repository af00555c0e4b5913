// Brings up the real server pieces for API and receiver tests: the embedded store in a temp
// directory, the pipeline, the OTLP/HTTP receiver and the query API, each on its own HTTP server
// on 127.0.0.1 port 0.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/api_handler.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "pipeline/keys.h"
#include "pipeline/pipeline.h"
#include "receivers/otlp_http/otlp_http_receiver.h"
#include "store/embedded/embedded_store.h"

namespace ariadne::testing {

struct TestServerOptions {
  pipeline::KeyRegistry keys;
  size_t max_body_bytes = 16 * 1024 * 1024;
  size_t max_decompressed_bytes = 64 * 1024 * 1024;
  size_t max_pending_spans = 1 << 20;
  std::vector<std::string> cors_origins;  // OtlpHttpOptions::cors_origins
};

class TestServer {
 public:
  explicit TestServer(TestServerOptions options = {}) : keys_(std::move(options.keys)) {
    char pattern[] = "/tmp/ariadne-api-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    store::embedded::EmbeddedStoreOptions store_options;
    store_options.data_dir = dir_;
    store_options.max_pending_spans = options.max_pending_spans;
    auto store = store::embedded::OpenEmbeddedStore(store_options);
    if (!store.ok()) throw std::runtime_error(store.status().ToString());
    store_ = std::move(store).value();
    pipeline_ = std::make_unique<pipeline::Pipeline>(store_.get(), &metrics_);
    receivers::otlp_http::OtlpHttpOptions receiver_options;
    receiver_options.max_decompressed_bytes = options.max_decompressed_bytes;
    receiver_options.cors_origins = options.cors_origins;
    receiver_ = std::make_unique<receivers::otlp_http::OtlpHttpReceiver>(pipeline_.get(), &keys_,
                                                                         receiver_options);
    api_ = std::make_unique<api::ApiHandler>(store_.get(), &metrics_);
    net::HttpServerOptions server_options;
    server_options.max_body_bytes = options.max_body_bytes;
    auto otlp = net::HttpServer::Start("127.0.0.1", 0, receiver_->AsHandler(), server_options);
    if (!otlp.ok()) throw std::runtime_error(otlp.status().ToString());
    otlp_server_ = std::move(otlp).value();
    auto http = net::HttpServer::Start("127.0.0.1", 0, api_->AsHandler());
    if (!http.ok()) throw std::runtime_error(http.status().ToString());
    api_server_ = std::move(http).value();
  }
  ~TestServer() {
    otlp_server_->Stop();
    api_server_->Stop();
    (void)store_->Close();
    std::filesystem::remove_all(dir_);
  }

  uint16_t otlp_port() const { return otlp_server_->bound_port(); }
  uint16_t api_port() const { return api_server_->bound_port(); }
  store::SpanStore& store() { return *store_; }
  pipeline::IngestMetrics& metrics() { return metrics_; }
  api::ApiHandler& api() { return *api_; }

 private:
  std::string dir_;
  pipeline::KeyRegistry keys_;
  pipeline::IngestMetrics metrics_;
  std::unique_ptr<store::SpanStore> store_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<receivers::otlp_http::OtlpHttpReceiver> receiver_;
  std::unique_ptr<api::ApiHandler> api_;
  std::unique_ptr<net::HttpServer> otlp_server_;
  std::unique_ptr<net::HttpServer> api_server_;
};

}  // namespace ariadne::testing
