#include "receivers/xray/daemon_udp.h"

#include <utility>  // before Asio: GCC 12 + C++20

#include <array>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "receivers/xray/segment_decoder.h"

namespace ariadne::receivers::xray {

std::string_view UdpDropLabel(UdpDrop reason) {
  switch (reason) {
    case UdpDrop::kMissingHeader:
      return "missing_header";
    case UdpDrop::kBadHeader:
      return "bad_header";
    case UdpDrop::kInvalidJson:
      return "invalid_json";
    case UdpDrop::kInvalidDocument:
      return "invalid_document";
    case UdpDrop::kStoreFailed:
      return "store_failed";
    case UdpDrop::kOverloaded:
      return "overloaded";
    case UdpDrop::kCount:
      break;
  }
  return "unknown";
}

void XrayUdpListener::AppendPrometheus(std::string* out) const {
  const XrayUdpCounters& c = counters();
  *out += "# HELP ariadne_xray_udp_datagrams_total X-Ray daemon datagrams received on UDP.\n";
  *out += "# TYPE ariadne_xray_udp_datagrams_total counter\n";
  *out += "ariadne_xray_udp_datagrams_total " + std::to_string(c.datagrams.load()) + "\n";
  *out += "# HELP ariadne_xray_udp_documents_accepted_total Segment documents stored.\n";
  *out += "# TYPE ariadne_xray_udp_documents_accepted_total counter\n";
  *out += "ariadne_xray_udp_documents_accepted_total " +
          std::to_string(c.documents_accepted.load()) + "\n";
  *out += "# HELP ariadne_xray_udp_dropped_total Datagrams dropped, by reason.\n";
  *out += "# TYPE ariadne_xray_udp_dropped_total counter\n";
  for (int i = 0; i < static_cast<int>(UdpDrop::kCount); ++i) {
    *out += "ariadne_xray_udp_dropped_total{reason=\"" +
            std::string(UdpDropLabel(static_cast<UdpDrop>(i))) + "\"} " +
            std::to_string(c.dropped[i].load()) + "\n";
  }
}

namespace {

namespace asio = boost::asio;
using asio::ip::udp;

// Logs at most one line per second; counts what it held back.
class RateLimitedLog {
 public:
  void Log(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds(1)) {
      ++suppressed_;
      return;
    }
    last_ = now;
    if (suppressed_ > 0) {
      std::fprintf(stderr, "ariadne xray-udp: %s (%llu similar messages suppressed)\n",
                   line.c_str(), static_cast<unsigned long long>(suppressed_));
    } else {
      std::fprintf(stderr, "ariadne xray-udp: %s\n", line.c_str());
    }
    suppressed_ = 0;
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_{};
  uint64_t suppressed_ = 0;
};

class UdpListenerImpl : public XrayUdpListener {
 public:
  UdpListenerImpl(pipeline::Pipeline* pipeline, XrayUdpOptions options)
      : pipeline_(pipeline), options_(std::move(options)), socket_(io_) {}

  ~UdpListenerImpl() override { Stop(); }

  Status Open(const std::string& host, uint16_t port) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return Status::InvalidArgument("bad X-Ray UDP host '" + host + "': " + ec.message());
    udp::endpoint endpoint(address, port);
    socket_.open(endpoint.protocol(), ec);
    if (!ec) {
      socket_.set_option(asio::socket_base::receive_buffer_size(options_.receive_buffer_bytes), ec);
      ec = {};  // a smaller kernel buffer is not fatal
      socket_.bind(endpoint, ec);
    }
    if (ec) {
      return Status::Unavailable(
          "cannot bind X-Ray UDP " + host + ":" + std::to_string(port) + ": " + ec.message() +
          " (is an X-Ray daemon already running? choose another --xray port)");
    }
    port_ = socket_.local_endpoint().port();
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
  }

  uint16_t bound_port() const override { return port_; }
  const XrayUdpCounters& counters() const override { return counters_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    io_.stop();
    if (thread_.joinable()) thread_.join();
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  void Run() {
    Receive();
    io_.run();
  }

  void Receive() {
    socket_.async_receive_from(asio::buffer(buffer_), sender_,
                               [this](const boost::system::error_code& ec, size_t bytes) {
                                 if (ec == asio::error::operation_aborted || stopped_) return;
                                 if (!ec) Handle(std::string_view(buffer_.data(), bytes));
                                 Receive();
                               });
  }

  void Drop(UdpDrop reason, const std::string& why) {
    counters_.dropped[static_cast<int>(reason)].fetch_add(1, std::memory_order_relaxed);
    log_.Log("dropped a datagram from " + sender_.address().to_string() + " (" +
             std::string(UdpDropLabel(reason)) + "): " + why);
  }

  void Handle(std::string_view datagram) {
    counters_.datagrams.fetch_add(1, std::memory_order_relaxed);
    auto body = SplitDaemonDatagram(datagram);
    if (!body.ok()) {
      std::string_view message = body.status().message();
      Drop(message.substr(0, message.find(':')) == "missing_header" ? UdpDrop::kMissingHeader
                                                                    : UdpDrop::kBadHeader,
           std::string(message));
      return;
    }
    model::SpanBatch batch;
    DecodeError error;
    DecodeLimits limits;
    uint64_t invalid_utf8_replaced = 0;
    auto decoded = DecodeSegmentDocument(*body, &batch, limits, &error, &invalid_utf8_replaced);
    if (!decoded.ok()) {
      Drop(error.error_code == "InvalidJson" ? UdpDrop::kInvalidJson : UdpDrop::kInvalidDocument,
           error.message + (error.id.empty() ? "" : " (id " + error.id + ")"));
      return;
    }
    counters_.spans_submitted.fetch_add(*decoded, std::memory_order_relaxed);
    pipeline_->metrics().AddInvalidUtf8(invalid_utf8_replaced);
    pipeline_->Submit(options_.environment, std::move(batch), 0, "",
                      [this](pipeline::SubmitResult result) {
                        if (result.status.ok()) {
                          counters_.documents_accepted.fetch_add(1, std::memory_order_relaxed);
                          if (result.rejected_spans > 0) {
                            log_.Log("spans rejected by validation: " + result.message);
                          }
                        } else if (result.shed) {
                          counters_.dropped[static_cast<int>(UdpDrop::kOverloaded)].fetch_add(1);
                          log_.Log("dropped a segment: " + result.status.ToString());
                        } else {
                          counters_.dropped[static_cast<int>(UdpDrop::kStoreFailed)].fetch_add(1);
                          log_.Log("the store refused a segment: " + result.status.ToString());
                        }
                      });
  }

  pipeline::Pipeline* pipeline_;
  XrayUdpOptions options_;
  asio::io_context io_;
  udp::socket socket_;
  udp::endpoint sender_;
  std::array<char, 65536> buffer_{};
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  uint16_t port_ = 0;
  XrayUdpCounters counters_;
  RateLimitedLog log_;
};

}  // namespace

Result<std::unique_ptr<XrayUdpListener>> XrayUdpListener::Start(const std::string& host,
                                                                uint16_t port,
                                                                pipeline::Pipeline* pipeline,
                                                                XrayUdpOptions options) {
  auto listener = std::make_unique<UdpListenerImpl>(pipeline, std::move(options));
  ARIADNE_RETURN_IF_ERROR(listener->Open(host, port));
  return std::unique_ptr<XrayUdpListener>(std::move(listener));
}

}  // namespace ariadne::receivers::xray
