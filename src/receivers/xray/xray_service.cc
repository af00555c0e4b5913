#include "receivers/xray/xray_service.h"

#include <filesystem>

#include "api/xray/xray_api.h"
#include "net/http_server.h"
#include "receivers/xray/daemon_udp.h"
#include "sampling/config_store.h"
#include "sampling/sample_weights.h"
#include "sampling/sampling_targets.h"

namespace ariadne::receivers::xray {

using api::xray::SigV4Credentials;
using api::xray::XrayApiHandler;
using api::xray::XrayApiOptions;
using sampling::SamplingTargets;
using sampling::XrayConfigStore;

namespace {

class XrayServiceImpl : public XrayService {
 public:
  std::string address() const override {
    std::string host = tcp_->bound_host();
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return host + ":" + std::to_string(tcp_->bound_port());
  }
  std::string auth_note() const override { return auth_note_; }
  void AppendPrometheus(std::string* out) const override { udp_->AppendPrometheus(out); }
  net::HttpServerStats tcp_stats() const override { return tcp_->stats(); }
  void HandleTrusted(net::HttpRequest&& request, net::Responder respond) override {
    api_->HandleTrusted(std::move(request), std::move(respond));
  }
  void HandleQuery(net::HttpRequest&& request, net::Responder respond) override {
    api_->HandleQuery(std::move(request), std::move(respond));
  }
  void Stop() override {
    if (tcp_) tcp_->Stop();
    if (udp_) udp_->Stop();
    if (weights_hook_ != 0) pipeline_->RemoveBatchHook(weights_hook_);
    weights_hook_ = 0;
  }
  ~XrayServiceImpl() override { Stop(); }

  std::unique_ptr<XrayConfigStore> config_;
  std::unique_ptr<sampling::FleetStatistics> fleet_;  // before sampling_: outlives it
  std::unique_ptr<SamplingTargets> sampling_;
  std::unique_ptr<sampling::XraySampleWeights> weights_;
  pipeline::Pipeline* pipeline_ = nullptr;
  int weights_hook_ = 0;
  std::unique_ptr<XrayApiHandler> api_;
  std::unique_ptr<net::HttpServer> tcp_;
  std::unique_ptr<XrayUdpListener> udp_;
  std::string auth_note_;
};

}  // namespace

Result<std::unique_ptr<XrayService>> XrayService::Start(const XrayServiceConfig& config,
                                                        pipeline::Pipeline* pipeline,
                                                        store::SpanStore* store) {
  auto service = std::make_unique<XrayServiceImpl>();
  XrayApiOptions api_options;
  api_options.environment = config.environment;
  auto parse_key = [](const std::string& text, const char* flag) -> Result<SigV4Credentials> {
    size_t colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
      return Status::InvalidArgument(std::string(flag) +
                                     " must be ACCESS_KEY_ID:SECRET_ACCESS_KEY, e.g. "
                                     "AKIDEXAMPLE:s3cret");
    }
    return SigV4Credentials{text.substr(0, colon), text.substr(colon + 1)};
  };
  if (!config.read_access_key.empty()) {
    if (config.access_key.empty()) {
      return Status::InvalidArgument(
          "--xray-read-access-key needs --xray-access-key (without it no signature is checked)");
    }
    ARIADNE_ASSIGN_OR_RETURN(SigV4Credentials read,
                             parse_key(config.read_access_key, "--xray-read-access-key"));
    api_options.read_credentials = std::move(read);
  }
  if (!config.access_key.empty()) {
    ARIADNE_ASSIGN_OR_RETURN(api_options.credentials,
                             parse_key(config.access_key, "--xray-access-key"));
    service->auth_note_ = "X-Ray API requests must be SigV4-signed with access key " +
                          api_options.credentials->access_key_id +
                          " (the SDK sampling calls /GetSamplingRules and /SamplingTargets are "
                          "accepted unsigned)";
    if (api_options.read_credentials) {
      service->auth_note_ += "; access key " + api_options.read_credentials->access_key_id +
                             " may call the read operations only";
    }
  } else {
    service->auth_note_ =
        "X-Ray API signatures are NOT checked (any or no AWS credentials are accepted); set "
        "--xray-access-key ID:SECRET to require SigV4";
  }
  std::string config_path = (std::filesystem::path(config.data_dir) / "xray-config.json").string();
  auto config_store = config.config_backend ? XrayConfigStore::Open(config.config_backend())
                                            : XrayConfigStore::Open(config_path);
  if (!config_store.ok()) return config_store.status();
  service->config_ = std::move(config_store).value();
  service->sampling_ = std::make_unique<SamplingTargets>();
  if (config.fleet_statistics) {
    service->fleet_ = config.fleet_statistics();
    service->sampling_->SetFleet(service->fleet_.get());
  }
  // Spans of sampled X-Ray traces count as the requests their rule let through (sample_weights.h).
  XrayConfigStore* rules = service->config_.get();
  service->weights_ = std::make_unique<sampling::XraySampleWeights>(
      service->sampling_.get(), [rules] { return rules->Rules(); }, 100000);
  service->pipeline_ = pipeline;
  sampling::XraySampleWeights* weights = service->weights_.get();
  service->weights_hook_ =
      pipeline->AddBatchHook([weights](model::SpanBatch* batch) { weights->Apply(batch); });
  service->api_ = std::make_unique<XrayApiHandler>(pipeline, store, service->config_.get(),
                                                   service->sampling_.get(), api_options);

  net::HttpServerOptions options;
  options.name = "xray";
  options.io_threads = config.io_threads;
  options.max_body_bytes = config.max_body_bytes;
  options.max_connections = config.max_connections;
  options.idle_timeout = config.idle_timeout;
  options.tls = config.tls;
  XrayUdpOptions udp_options;
  udp_options.environment = config.environment;
  Status last;
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto tcp =
        net::HttpServer::Start(config.host, config.port, service->api_->AsHandler(), options);
    if (!tcp.ok()) return tcp.status();
    auto udp = XrayUdpListener::Start(config.host, (*tcp)->bound_port(), pipeline, udp_options);
    if (udp.ok()) {
      service->tcp_ = std::move(tcp).value();
      service->udp_ = std::move(udp).value();
      return std::unique_ptr<XrayService>(std::move(service));
    }
    (*tcp)->Stop();
    last = udp.status();
    if (config.port != 0) break;  // a fixed port: report why
  }
  return last;
}

}  // namespace ariadne::receivers::xray
