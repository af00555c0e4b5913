// `ariadne doctor`: reads the tracing environment variables an app would read, explains them,
// spots the usual mistakes, sends one test span down every configured path (OTLP over HTTP or
// gRPC, Zipkin v2 and X-Ray UDP), reads it back through the query API and prints a verdict with a
// fix for every problem.
//
// The interpretation of the variables is the SDK's own (ariadne::sdk's endpoint resolution,
// header parsing and daemon address parsing), so what doctor says is what an app would do.
//
// The class is split by job over the files of this folder: doctor.cc (the run, the environment,
// the query server, service name, reading spans back), doctor_otlp.cc (OTLP configuration and
// send, HTTP and gRPC), doctor_zipkin.cc, doctor_xray.cc and doctor_report.cc (the verdict).
//
// Threads: one Doctor per run, used by one thread.
#pragma once

#include <chrono>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ariadne/sdk/xray_exporter.h"
#include "cli/commands.h"
#include "cli/doctor/doctor_util.h"
#include "cli/doctor/test_span.h"
#include "net/http_client.h"

namespace ariadne::cli::doctor {

class Doctor {
 public:
  explicit Doctor(const DoctorConfig& config);

  // Runs every check and prints the report; 0 when nothing failed, else 1.
  int Run();

 private:
  void Add(std::string id, Level level, std::string title, std::string detail = {},
           std::string fix = {});
  size_t CountFailures() const;
  void Explain(const char* name, std::string meaning, bool secret = false);

  // doctor.cc
  void ReadEnvironment();
  void CheckServer();
  void ResolveServiceName();
  // Polls the query API for `trace_id` until `span_id` shows up or `budget` passes.
  bool ReadBack(const std::string& id, const std::string& label, const std::string& trace_id,
                const std::string& span_id, std::chrono::milliseconds budget,
                const std::string& not_found_detail = {}, const std::string& not_found_fix = {});
  std::set<std::string> KnownServices();
  // Adds `Authorization: Bearer KEY` when a read key was given (--key or $ARIADNE_KEY).
  net::HeaderList ReadHeaders(net::HeaderList headers) const;
  // TLS for an https:// target, verified with `ca_file` (or the system's trust store).
  void Secure(net::HttpClient* client, bool tls, const std::string& ca_file) const;
  TestSpan MakeSpan(std::string trace_id, std::string name);

  // doctor_otlp.cc
  // Returns true when a test span should be sent over OTLP.
  bool CheckOtlpConfig();
  bool CheckGrpcEndpoint(const std::string& shown_var, const std::string& raw);
  void CheckHeaders();
  void SendOtlp();
  void SendOtlpGrpc(const TestSpan& span);
  // The findings for a refused key (HTTP 401 / gRPC UNAUTHENTICATED) with the server's message.
  void ReportKeyRejected(const std::string& message);
  void ReportEmptyKeyAccepted();

  // doctor_zipkin.cc
  // Returns true when a test span should be sent to a Zipkin endpoint.
  bool CheckZipkinConfig();
  void SendZipkin();

  // doctor_xray.cc
  bool CheckXRayConfig();
  void SendXRay();
  // The X-Ray groups' filter expressions must name the service this app reports as.
  void CheckGroups();

  // doctor_report.cc
  int Report();

  const DoctorConfig& config_;
  const std::string read_key_;
  const std::chrono::milliseconds deadline_;
  const std::chrono::milliseconds io_timeout_;
  std::mt19937_64 rng_;
  std::vector<EnvEntry> env_;
  std::vector<Finding> findings_;

  net::ParsedUrl server_;
  bool server_ok_ = false;

  std::string service_;
  std::string service_source_;
  std::string xray_name_;
  std::vector<std::pair<std::string, std::string>> resource_;

  bool otlp_configured_ = false;
  std::string protocol_;  // grpc, http/protobuf or http/json
  bool json_body_ = false;
  bool grpc_ = false;
  std::string otlp_url_;
  net::ParsedUrl otlp_target_;
  std::string otlp_ca_file_;  // https OTLP endpoint: --ca-file or OTEL_EXPORTER_OTLP_*CERTIFICATE
  bool daemon_tls_ = false;   // the X-Ray TCP port answered "use https"
  std::vector<std::pair<std::string, std::string>> headers_;
  bool has_key_header_ = false;
  bool key_empty_ = false;
  std::string key_value_;
  std::string otlp_trace_id_;
  bool otlp_read_back_ = false;

  bool zipkin_configured_ = false;
  std::string zipkin_url_;
  net::ParsedUrl zipkin_target_;
  std::string zipkin_trace_id_;
  bool zipkin_read_back_ = false;

  bool xray_configured_ = false;
  sdk::XRayDaemonAddress daemon_;
  bool xray_api_ok_ = false;
  bool xray_read_back_ = false;
};

}  // namespace ariadne::cli::doctor
