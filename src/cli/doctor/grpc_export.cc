#include "cli/doctor/grpc_export.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <sstream>

namespace ariadne::cli::doctor {
namespace {

constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

std::shared_ptr<grpc::ChannelCredentials> Credentials(const GrpcTarget& target,
                                                      std::string* error) {
  if (!target.tls) return grpc::InsecureChannelCredentials();
  if (!target.verify) {
    grpc::experimental::TlsChannelCredentialsOptions options;
    options.set_verify_server_certs(false);
    options.set_check_call_host(false);
    return grpc::experimental::TlsCredentials(options);
  }
  grpc::SslCredentialsOptions options;
  if (!target.ca_file.empty()) {
    std::ifstream in(target.ca_file, std::ios::binary);
    if (!in) {
      *error = "cannot read the CA file " + target.ca_file;
      return nullptr;
    }
    std::ostringstream pem;
    pem << in.rdbuf();
    options.pem_root_certs = pem.str();
  }
  return grpc::SslCredentials(options);
}

}  // namespace

GrpcAnswer ExportOverGrpc(const GrpcTarget& target, const std::string& request,
                          const std::vector<std::pair<std::string, std::string>>& metadata,
                          std::chrono::milliseconds timeout) {
  std::string error;
  std::shared_ptr<grpc::ChannelCredentials> credentials = Credentials(target, &error);
  if (!credentials) return {static_cast<int>(grpc::StatusCode::UNAVAILABLE), error, {}};
  const std::string address =
      (target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host) + ":" +
      std::to_string(target.port);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(address, credentials, args);
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, kExportMethod, grpc::StubOptions(), &request_buffer, &response_buffer,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  grpc::Status status = done.get_future().get();
  GrpcAnswer answer{static_cast<int>(status.error_code()), status.error_message(), {}};
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    if (response_buffer.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        answer.response.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
  }
  return answer;
}

bool TcpConnects(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result) != 0) return false;
  bool connected = false;
  for (addrinfo* ai = result; ai != nullptr && !connected; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    connected = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    close(fd);
  }
  freeaddrinfo(result);
  return connected;
}

std::string GrpcCodeName(int code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(std::size(kNames))) return kNames[code];
  return "code " + std::to_string(code);
}

}  // namespace ariadne::cli::doctor
