#include "receivers/otlp_grpc/otlp_grpc_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "pipeline/keys.h"
#include "pipeline/metrics.h"
#include "pipeline/pipeline.h"
#include "receivers/otlp/otlp_codec.h"
#include "receivers/otlp_grpc/connection_gate.h"
#include "receivers/otlp_grpc/tls_identity.h"

namespace ariadne::receivers::otlp_grpc {
namespace {

using opentelemetry::proto::collector::trace::v1::TraceService;

// The HTTP status an OTLP/HTTP client would have seen, for the shared requests counter.
int HttpEquivalent(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return 400;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void PutLengthDelimited(std::string& out, uint32_t field, std::string_view bytes) {
  PutVarint(out, field << 3 | 2);
  PutVarint(out, bytes.size());
  out.append(bytes);
}

// google.rpc.Status{code, message, details: [Any{google.rpc.RetryInfo{retry_delay}}]}, the
// grpc-status-details-bin payload that makes OTLP clients retry after `seconds`.
std::string StatusWithRetryInfo(grpc::StatusCode code, std::string_view message, int seconds) {
  std::string duration;  // google.protobuf.Duration{seconds = 1}
  if (seconds > 0) {
    PutVarint(duration, 1 << 3 | 0);
    PutVarint(duration, static_cast<uint64_t>(seconds));
  }
  std::string retry_info;  // google.rpc.RetryInfo{retry_delay = 1}
  PutLengthDelimited(retry_info, 1, duration);
  std::string any;  // google.protobuf.Any{type_url = 1, value = 2}
  PutLengthDelimited(any, 1, "type.googleapis.com/google.rpc.RetryInfo");
  PutLengthDelimited(any, 2, retry_info);
  std::string status = otlp::EncodeProtobufStatus(static_cast<int32_t>(code), message);
  PutLengthDelimited(status, 3, any);
  return status;
}

std::optional<std::string_view> FirstMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, std::string_view key) {
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

// The request message as one contiguous string (the decoder's zero-copy views point into it).
std::shared_ptr<const std::string> Flatten(const grpc::ByteBuffer& buffer) {
  auto body = std::make_shared<std::string>();
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return body;
  body->reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    body->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return body;
}

class TraceServiceImpl final
    : public TraceService::WithRawCallbackMethod_Export<TraceService::Service> {
 public:
  TraceServiceImpl(pipeline::Pipeline* pipeline, const pipeline::KeyRegistry* keys,
                   const OtlpGrpcOptions* options)
      : pipeline_(pipeline), keys_(keys), options_(options) {}

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    pipeline::IngestMetrics* metrics = &pipeline_->metrics();
    // Every answer goes through here: the requests counter, then the reactor.
    auto finish = [reactor, metrics, name = options_->receiver_name](const grpc::Status& status) {
      metrics->RecordRequest(name, HttpEquivalent(status.error_code()));
      reactor->Finish(status);
    };

    const auto& metadata = context->client_metadata();
    Result<std::string> environment = keys_->Authenticate(
        FirstMetadata(metadata, "x-honeycomb-team"), FirstMetadata(metadata, "authorization"));
    if (!environment.ok()) {
      finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          std::string(environment.status().message()) +
                              " (send the key as gRPC metadata x-honeycomb-team or "
                              "authorization: Bearer KEY)"));
      return reactor;
    }
    std::shared_ptr<const std::string> body = Flatten(*request);
    const size_t request_bytes = body->size();
    Result<otlp::DecodedRequest> decoded = otlp::DecodeProtobufRequest(body);
    if (!decoded.ok()) {
      finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "failed to parse the ExportTraceServiceRequest: " +
                              std::string(decoded.status().message())));
      return reactor;
    }
    otlp::DecodedRequest& data = decoded.value();
    metrics->AddInvalidUtf8(data.invalid_utf8_replaced);
    pipeline_->Submit(
        std::move(environment).value(), std::move(data.batch), data.rejected_spans,
        std::move(data.rejection_message),
        [finish = std::move(finish), response,
         retry_after = options_->retry_after_seconds](pipeline::SubmitResult result) {
          if (result.status.ok()) {
            grpc::Slice slice(otlp::EncodeProtobufResponse(result.rejected_spans, result.message));
            *response = grpc::ByteBuffer(&slice, 1);
            finish(grpc::Status::OK);
            return;
          }
          if (pipeline::IsRetryable(result.status)) {
            const grpc::StatusCode code = result.status.code() == StatusCode::kResourceExhausted
                                              ? grpc::StatusCode::RESOURCE_EXHAUSTED
                                              : grpc::StatusCode::UNAVAILABLE;
            const std::string message =
                "the span store cannot take more data right now, retry later: " +
                std::string(result.status.message());
            finish(grpc::Status(code, message, StatusWithRetryInfo(code, message, retry_after)));
            return;
          }
          const grpc::StatusCode code = result.status.code() == StatusCode::kInvalidArgument
                                            ? grpc::StatusCode::INVALID_ARGUMENT
                                            : grpc::StatusCode::INTERNAL;
          finish(
              grpc::Status(code, "storing spans failed: " + std::string(result.status.message())));
        },
        request_bytes);
    return reactor;
  }

 private:
  pipeline::Pipeline* pipeline_;
  const pipeline::KeyRegistry* keys_;
  const OtlpGrpcOptions* options_;
};

}  // namespace

struct OtlpGrpcServer::Impl {
  OtlpGrpcOptions options;
  std::string host;
  uint16_t port = 0;
  std::string identity_path;  // the PEM gRPC watches; empty without TLS
  std::unique_ptr<TraceServiceImpl> service;
  // With max_connections: the gate accepts and hands connections to gRPC through `acceptor`.
  std::unique_ptr<ConnectionGate> gate;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor;
  std::unique_ptr<grpc::Server> server;
  bool stopped = false;
};

OtlpGrpcServer::OtlpGrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OtlpGrpcServer::~OtlpGrpcServer() { Stop(); }

Result<std::unique_ptr<OtlpGrpcServer>> OtlpGrpcServer::Start(const std::string& host,
                                                              uint16_t port,
                                                              pipeline::Pipeline* pipeline,
                                                              const pipeline::KeyRegistry* keys,
                                                              OtlpGrpcOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->host = host;
  const OtlpGrpcOptions& opts = impl->options;

  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (opts.tls_cert_file.empty() != opts.tls_key_file.empty()) {
    return Status::InvalidArgument("OTLP/gRPC TLS needs both a certificate and a key");
  }
  if (!opts.tls_cert_file.empty()) {
    if (opts.tls_state_dir.empty()) {
      return Status::InvalidArgument("OTLP/gRPC TLS needs a state directory");
    }
    ARIADNE_ASSIGN_OR_RETURN(std::string identity,
                             LoadIdentityPem(opts.tls_cert_file, opts.tls_key_file));
    std::error_code ec;
    std::filesystem::create_directories(opts.tls_state_dir, ec);
    if (ec) {
      return Status::Unavailable("cannot create " + opts.tls_state_dir + ": " + ec.message());
    }
    std::filesystem::permissions(opts.tls_state_dir, std::filesystem::perms::owner_all, ec);
    impl->identity_path =
        (std::filesystem::path(opts.tls_state_dir) / "otlp-grpc-identity.pem").string();
    ARIADNE_RETURN_IF_ERROR(WriteFileAtomically(impl->identity_path, identity));
    auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        impl->identity_path, impl->identity_path,
        static_cast<unsigned int>(std::max(1, opts.tls_refresh_seconds)));
    grpc::experimental::TlsServerCredentialsOptions tls_options(provider);
    tls_options.watch_identity_key_cert_pairs();
    tls_options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    credentials = grpc::experimental::TlsServerCredentials(tls_options);
  }

  impl->service = std::make_unique<TraceServiceImpl>(pipeline, keys, &impl->options);
  const std::string address =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  grpc::ServerBuilder builder;
  int selected_port = 0;
  if (opts.max_connections > 0) {
    // Our own accept loop, with the cap (connection_gate.h); gRPC gets each connection's fd.
    auto gate = ConnectionGate::Bind(host, port, opts.max_connections);
    if (!gate.ok()) {
      return Status::Unavailable(std::string(gate.status().message()) +
                                 " (address in use or not local?); choose another with "
                                 "--otlp-grpc HOST:PORT");
    }
    impl->gate = std::move(gate).value();
    selected_port = impl->gate->port();
    impl->acceptor = builder.experimental().AddExternalConnectionAcceptor(
        grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD, credentials);
  } else {
    builder.AddListeningPort(address, credentials, &selected_port);
  }
  builder.RegisterService(impl->service.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<size_t>(opts.max_decompressed_bytes, static_cast<size_t>(INT32_MAX))));
  // gRPC sets SO_REUSEPORT by default: a second server on the same port would then start and
  // share the connections. Binding an address in use must fail like the other listeners.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, opts.max_concurrent_streams);
  if (opts.idle_timeout_seconds > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, opts.idle_timeout_seconds * 1000);
  }
  impl->server = builder.BuildAndStart();
  if (!impl->server || selected_port == 0) {
    if (impl->server) impl->server->Shutdown();
    return Status::Unavailable("cannot listen on " + address +
                               " for OTLP/gRPC (address in use or not local?); choose another "
                               "with --otlp-grpc HOST:PORT");
  }
  impl->port = static_cast<uint16_t>(selected_port);
  if (impl->gate) {
    grpc::experimental::ExternalConnectionAcceptor* acceptor = impl->acceptor.get();
    impl->gate->Start([acceptor](int fd) {
      grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters connection;
      connection.fd = fd;
      acceptor->HandleNewConnection(&connection);
    });
  }
  return std::unique_ptr<OtlpGrpcServer>(new OtlpGrpcServer(std::move(impl)));
}

void OtlpGrpcServer::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->gate) impl_->gate->Stop();  // no new connections; open ones finish below
  // Calls waiting for the store get a few seconds to finish before they are cancelled.
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
  if (!impl_->identity_path.empty()) {
    std::error_code ec;
    std::filesystem::remove(impl_->identity_path, ec);
  }
}

Status OtlpGrpcServer::ReloadTls() {
  if (impl_->identity_path.empty()) return Status::Ok();
  ARIADNE_ASSIGN_OR_RETURN(std::string identity, LoadIdentityPem(impl_->options.tls_cert_file,
                                                                 impl_->options.tls_key_file));
  return WriteFileAtomically(impl_->identity_path, identity);
}

const std::string& OtlpGrpcServer::bound_host() const { return impl_->host; }
uint16_t OtlpGrpcServer::bound_port() const { return impl_->port; }
bool OtlpGrpcServer::tls() const { return !impl_->identity_path.empty(); }

ConnectionGateStats OtlpGrpcServer::connection_stats() const {
  return impl_->gate ? impl_->gate->Stats() : ConnectionGateStats{};
}

}  // namespace ariadne::receivers::otlp_grpc
