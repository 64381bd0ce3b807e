#include "clients/apply_command.h"

#include <iterator>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/output_format.h"
#include "proto/document_files.h"

namespace atlas::client {
namespace {

using documents::DecodedEntity;

absl::Status DocumentError(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return status;
  return absl::InvalidArgumentError(
      absl::StrCat("invalid document ", status.message()));
}

absl::StatusOr<std::vector<DecodedEntity>> ReadStandardInput(std::istream& in) {
  std::ostringstream text;
  text << in.rdbuf();
  return documents::DecodeEntities(text.str(), "<stdin>");
}

class Progress {
 public:
  Progress(CommandContext& context, size_t total, size_t batches, bool dry_run)
      : context_(context),
        enabled_(context.err_is_terminal() && batches > 1),
        total_(total),
        batches_(batches),
        verb_(dry_run ? "checked" : "applied") {}

  // Called before results are printed, so they do not share its line.
  void Clear() {
    if (enabled_) context_.err() << "\r\033[K" << std::flush;
  }
  void Show(size_t done) {
    if (enabled_) {
      context_.err() << "\r" << verb_ << " " << done << "/" << total_
                     << " documents" << std::flush;
    }
  }
  void Finish() {
    if (enabled_) {
      context_.err() << "\r\033[K" << verb_ << " " << total_ << " documents in "
                     << batches_ << " batches\n"
                     << std::flush;
    }
  }

 private:
  CommandContext& context_;
  const bool enabled_;
  const size_t total_;
  const size_t batches_;
  const char* const verb_;
};

absl::Status PrintResults(const atlas::v1::ApplyEntitiesResponse& response,
                          bool dry_run, CommandContext& context) {
  std::string out;
  for (const auto& result : response.results()) {
    if (context.format() == OutputFormat::kTable) {
      absl::StrAppend(&out, result.name(), " ", OutcomeWord(result.outcome()),
                      dry_run ? " (dry run)\n" : "\n");
    } else {
      absl::StatusOr<std::string> text =
          FormatStreamMessage(result, context.format());
      if (!text.ok()) return text.status();
      out += *text;
    }
  }
  return context.Print(out);
}

}  // namespace

std::string OutcomeWord(atlas::v1::ApplyOutcome outcome) {
  switch (outcome) {
    case atlas::v1::APPLY_OUTCOME_CREATED:
      return "created";
    case atlas::v1::APPLY_OUTCOME_UPDATED:
      return "updated";
    case atlas::v1::APPLY_OUTCOME_UNCHANGED:
      return "unchanged";
    default:
      return "applied";
  }
}

absl::StatusOr<std::vector<DecodedEntity>> CollectDocuments(
    const std::vector<std::string>& files, std::istream& in) {
  std::vector<DecodedEntity> all;
  for (const std::string& file : files) {
    absl::StatusOr<std::vector<DecodedEntity>> decoded =
        file == "-" ? ReadStandardInput(in) : documents::LoadEntities(file);
    if (!decoded.ok()) return DocumentError(decoded.status());
    std::move(decoded->begin(), decoded->end(), std::back_inserter(all));
  }
  return all;
}

absl::Status CheckUniqueNames(const std::vector<DecodedEntity>& documents) {
  std::map<std::string, const DecodedEntity*> by_name;
  for (const DecodedEntity& document : documents) {
    auto [it, inserted] = by_name.emplace(document.entity.name(), &document);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid document ", DescribeOrigin(document.origin), ": entity \"",
          document.entity.name(), "\" is also defined in ",
          DescribeOrigin(it->second->origin)));
    }
  }
  return absl::OkStatus();
}

std::string LocateInBatch(const std::string& message,
                          const std::vector<const DecodedEntity*>& batch) {
  // "entities[N]" as in a field path of the request.
  constexpr char kField[] = "entities[";
  for (size_t at = message.find(kField); at != std::string::npos;
       at = message.find(kField, at + 1)) {
    const size_t start = at + sizeof(kField) - 1;
    const size_t end = message.find(']', start);
    size_t index = 0;
    if (end != std::string::npos &&
        absl::SimpleAtoi(message.substr(start, end - start), &index) &&
        index < batch.size()) {
      return DescribeOrigin(batch[index]->origin);
    }
  }
  for (const DecodedEntity* document : batch) {
    if (!document->entity.name().empty() &&
        message.find("\"" + document->entity.name() + "\"") !=
            std::string::npos) {
      return DescribeOrigin(document->origin);
    }
  }
  return "";
}

absl::Status RunApply(const ApplyOptions& options, CommandContext& context) {
  absl::StatusOr<std::vector<DecodedEntity>> documents =
      CollectDocuments(options.files, context.in());
  if (!documents.ok()) return documents.status();
  if (documents->empty()) {
    return absl::InvalidArgumentError("no documents found in the given files");
  }
  if (absl::Status s = CheckUniqueNames(*documents); !s.ok()) return s;
  if (options.force) {
    for (DecodedEntity& document : *documents) document.entity.clear_etag();
  }

  const size_t batch_size = options.batch_size == 0 ? 1 : options.batch_size;
  const size_t total = documents->size();
  const size_t batches = (total + batch_size - 1) / batch_size;
  Progress progress(context, total, batches, options.dry_run);
  for (size_t b = 0; b < batches; ++b) {
    const size_t begin = b * batch_size;
    const size_t end = std::min(total, begin + batch_size);
    atlas::v1::ApplyEntitiesRequest request;
    request.set_validate_only(options.dry_run);
    // The table prints names and outcomes only: no need to get back the
    // content just sent.
    if (context.format() == OutputFormat::kTable) {
      request.set_view(atlas::v1::APPLY_VIEW_BASIC);
    }
    std::vector<const DecodedEntity*> batch;
    for (size_t i = begin; i < end; ++i) {
      *request.add_entities() = (*documents)[i].entity;
      batch.push_back(&(*documents)[i]);
    }
    atlas::v1::ApplyEntitiesResponse response;
    grpc::ClientContext call;
    context.Prepare(&call, /*with_deadline=*/true);
    const grpc::Status status =
        context.stub().ApplyEntities(&call, request, &response);
    if (!status.ok()) {
      progress.Clear();
      const absl::Status failure = context.Fail(status);
      std::string message(failure.message());
      const std::string where = LocateInBatch(status.error_message(), batch);
      if (!where.empty()) absl::StrAppend(&message, " (", where, ")");
      if (batches > 1) {
        absl::StrAppend(
            &message, " [batch ", b + 1, " of ", batches, ", documents ",
            begin + 1, "-", end, ", failed; ",
            b == 0 ? "nothing was applied" : "earlier batches were applied",
            "]");
      }
      return absl::Status(failure.code(), message);
    }
    progress.Clear();
    if (absl::Status s = PrintResults(response, options.dry_run, context);
        !s.ok()) {
      return s;
    }
    progress.Show(end);
  }
  progress.Finish();
  return absl::OkStatus();
}

}  // namespace atlas::client
