#include "services/request_interceptor.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/log.h"

namespace atlas::services {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr size_t kMaxErrorChars = 512;

log::Level LevelFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return log::Level::kDebug;
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNIMPLEMENTED:
      return log::Level::kInfo;
    default:
      return log::Level::kWarning;
  }
}

class RequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  RequestInterceptor(ServerMetrics& metrics,
                     grpc::experimental::ServerRpcInfo* info)
      : metrics_(metrics),
        series_(metrics.ForMethod(info->method())),
        info_(info),
        start_(std::chrono::steady_clock::now()) {}

  // A call that ends without sending a status (not expected) still counts,
  // as CANCELLED; the context is being destroyed, so no peer.
  ~RequestInterceptor() override {
    if (!recorded_.load(std::memory_order_acquire)) {
      Record(grpc::Status(grpc::StatusCode::CANCELLED, "no status sent"),
             std::nullopt);
    }
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      std::optional<std::string> peer;
      if (log::Enabled(LevelFor(status.error_code()))) {
        peer = info_->server_context()->peer();
      }
      Record(status, peer);
    }
    methods->Proceed();
  }

 private:
  void Record(const grpc::Status& status,
              const std::optional<std::string>& peer) {
    recorded_.store(true, std::memory_order_release);
    const absl::Duration duration =
        absl::FromChrono(std::chrono::steady_clock::now() - start_);
    metrics_.RecordRequest(series_, status.error_code(), duration);
    const log::Level level = LevelFor(status.error_code());
    if (!log::Enabled(level)) return;
    const std::string code = absl::StatusCodeToString(
        static_cast<absl::StatusCode>(status.error_code()));
    const double duration_ms = absl::ToDoubleMilliseconds(duration);
    const std::string& method = series_.method;
    const std::string message = method + " " + code;
    if (status.ok()) {
      log::Write(level, "request", message,
                 {{"method", method},
                  {"peer", peer.value_or("")},
                  {"duration_ms", duration_ms},
                  {"status", code}});
    } else {
      log::Write(level, "request", message,
                 {{"method", method},
                  {"peer", peer.value_or("")},
                  {"duration_ms", duration_ms},
                  {"status", code},
                  {"error", status.error_message().substr(0, kMaxErrorChars)}});
    }
  }

  ServerMetrics& metrics_;
  ServerMetrics::MethodSeries& series_;
  grpc::experimental::ServerRpcInfo* info_;
  const std::chrono::steady_clock::time_point start_;
  // Set on one gRPC thread, read by the destructor, perhaps on another.
  std::atomic<bool> recorded_{false};
};

}  // namespace

grpc::experimental::Interceptor*
RequestInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RequestInterceptor(metrics_, info);
}

}  // namespace atlas::services
