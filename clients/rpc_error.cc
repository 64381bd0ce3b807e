#include "clients/rpc_error.h"

#include "absl/strings/str_cat.h"
#include "common/control_characters.h"

namespace atlas::client {

std::string StatusCodeWords(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "ok";
    case grpc::StatusCode::CANCELLED:
      return "cancelled";
    case grpc::StatusCode::UNKNOWN:
      return "unknown error";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid argument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline exceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "not found";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "already exists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "permission denied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "resource exhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "failed precondition";
    case grpc::StatusCode::ABORTED:
      return "precondition failed";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "out of range";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "not implemented by the server";
    case grpc::StatusCode::INTERNAL:
      return "server internal error";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "data loss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "unauthenticated";
    default:
      return absl::StrCat("error code ", static_cast<int>(code));
  }
}

std::string OneLine(const std::string& message) {
  std::string line;
  line.reserve(message.size());
  for (size_t i = 0; i < message.size();) {
    // Line breaks, tabs and every other control character (an ESC from a
    // server or proxy must not reach the terminal) fold into the spaces.
    const size_t control = ControlCharacterAt(message, i);
    if (control > 0 || message[i] == ' ') {
      if (!line.empty() && line.back() != ' ') line.push_back(' ');
      i += control > 0 ? control : 1;
    } else {
      line.push_back(message[i++]);
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

absl::Status RpcError(const grpc::Status& status, const std::string& server,
                      bool connected) {
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  const std::string detail = OneLine(status.error_message());
  std::string message;
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && !connected) {
    message = absl::StrCat("server ", server, " unreachable");
  } else {
    message = StatusCodeWords(status.error_code());
  }
  if (!detail.empty()) absl::StrAppend(&message, ": ", detail);
  return absl::Status(code, message);
}

}  // namespace atlas::client
