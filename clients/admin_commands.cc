#include "clients/admin_commands.h"

#include "absl/strings/str_cat.h"
#include "atlas/v1/admin_service.grpc.pb.h"
#include "clients/output_format.h"

namespace atlas::client {
namespace {

absl::Status PrintResponse(const google::protobuf::Message& response,
                           const std::string& table_line,
                           CommandContext& context) {
  if (context.format() == OutputFormat::kTable) {
    return context.Print(table_line + "\n");
  }
  absl::StatusOr<std::string> text =
      FormatMessage(response, context.format());
  if (!text.ok()) return text.status();
  return context.Print(*text);
}

}  // namespace

absl::Status RunBackup(const BackupOptions& options, CommandContext& context) {
  atlas::v1::BackupRequest request;
  request.set_directory(options.directory);
  atlas::v1::BackupResponse response;
  grpc::ClientContext call;
  context.Prepare(&call, /*with_deadline=*/true);
  const grpc::Status status =
      context.admin_stub().Backup(&call, request, &response);
  if (!status.ok()) return context.Fail(status);
  return PrintResponse(
      response,
      absl::StrCat("backup of revision ", response.revision(), " written to ",
                   response.directory(), " (", response.bytes(), " bytes)"),
      context);
}

absl::Status RunTrimChangeLog(const TrimChangeLogOptions& options,
                              CommandContext& context) {
  atlas::v1::TrimChangeLogRequest request;
  request.set_oldest_revision(options.oldest_revision);
  atlas::v1::TrimChangeLogResponse response;
  grpc::ClientContext call;
  context.Prepare(&call, /*with_deadline=*/true);
  const grpc::Status status =
      context.admin_stub().TrimChangeLog(&call, request, &response);
  if (!status.ok()) return context.Fail(status);
  const std::string line =
      response.oldest_revision() > response.revision()
          ? absl::StrCat("change log is empty (current revision ",
                         response.revision(), ")")
          : absl::StrCat("change log holds revisions ",
                         response.oldest_revision(), " to ",
                         response.revision());
  return PrintResponse(response, line, context);
}

}  // namespace atlas::client
