#pragma once

// The two status macros Abseil 20220623 does not ship.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ATLAS_STATUS_CONCAT_INNER_(a, b) a##b
#define ATLAS_STATUS_CONCAT_(a, b) ATLAS_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define ATLAS_RETURN_IF_ERROR(expr)                 \
  do {                                              \
    ::absl::Status atlas_status_ = (expr);          \
    if (!atlas_status_.ok()) return atlas_status_;  \
  } while (0)

// `lhs = value of expr` (an absl::StatusOr<T>), or returns its error.
#define ATLAS_ASSIGN_OR_RETURN(lhs, expr)                                   \
  ATLAS_ASSIGN_OR_RETURN_IMPL_(                                             \
      ATLAS_STATUS_CONCAT_(atlas_statusor_, __LINE__), lhs, expr)
#define ATLAS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                 \
  if (!statusor.ok()) return statusor.status();           \
  lhs = std::move(statusor).value()
