#include "services/store_errors.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace atlas::services {

absl::Status RenameErrorField(const absl::Status& status,
                              absl::string_view from, absl::string_view to) {
  const absl::string_view message = status.message();
  if (status.ok() || !absl::StartsWith(message, from) ||
      message.size() == from.size()) {
    return status;
  }
  const char next = message[from.size()];
  if (next != '.' && next != '[' && next != ':') return status;
  return absl::Status(status.code(),
                      absl::StrCat(to, message.substr(from.size())));
}

absl::Status AsApplyError(const absl::Status& status) {
  return RenameErrorField(status, "mutations", "entities");
}

}  // namespace atlas::services
