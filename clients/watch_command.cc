#include "clients/watch_command.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "clients/checkpoint.h"
#include "clients/output_format.h"
#include "clients/rpc_error.h"

namespace atlas::client {
namespace {

using atlas::v1::WatchResponse;

// Delivery state of one `atlasctl watch` run across reconnects.
class WatchSession {
 public:
  WatchSession(const WatchOptions& options, CommandContext& context)
      : options_(options), context_(context) {}

  absl::Status Run() {
    if (!options_.checkpoint.empty()) {
      absl::StatusOr<std::optional<uint64_t>> saved =
          ReadCheckpoint(options_.checkpoint);
      if (!saved.ok()) return saved.status();
      delivered_ = *saved;
    }
    Backoff backoff;
    while (true) {
      grpc::ClientContext call;
      context_.Prepare(&call, /*with_deadline=*/false);
      auto reader = context_.stub().Watch(&call, NextRequest());
      WatchResponse response;
      absl::Status handled;
      while (reader->Read(&response)) {
        backoff.Reset();
        handled = Handle(response);
        if (!handled.ok() || Done()) break;
      }
      if (!handled.ok() || Done()) {
        call.TryCancel();
        reader->Finish();
        return handled;
      }
      const grpc::Status status = reader->Finish();
      if (!IsRetryable(status.error_code())) return context_.Fail(status);
      const Backoff::Delay delay = backoff.Next();
      std::string reason = status.ok()
                               ? "server ended the stream"
                               : std::string(context_.Fail(status).message());
      context_.err() << "atlasctl: watch: " << reason << "; reconnecting in "
                     << delay.count() << "ms" << std::endl;
      context_.Sleep(delay);
    }
  }

 private:
  bool Done() const {
    return options_.max_events > 0 && printed_ >= options_.max_events;
  }

  atlas::v1::WatchRequest NextRequest() const {
    atlas::v1::WatchRequest request;
    *request.mutable_filter() = options_.filter;
    request.set_include_before(options_.include_before);
    if (delivered_.has_value()) {
      request.set_start_revision(*delivered_ + 1);
    } else if (options_.from_revision > 0) {
      request.set_start_revision(options_.from_revision);
    } else if (options_.snapshot) {
      // Also after a break before SYNCED: the snapshot starts over.
      request.set_snapshot(true);
    }
    return request;
  }

  uint64_t Remaining() const {
    return options_.max_events == 0 ? 0 : options_.max_events - printed_;
  }

  absl::Status Handle(WatchResponse response) {
    std::optional<uint64_t> reached;
    switch (response.type()) {
      case WatchResponse::TYPE_EVENTS:
        reached = DropRepeatsAndTrim(&response);
        break;
      case WatchResponse::TYPE_SNAPSHOT:
        if (Remaining() > 0 &&
            static_cast<uint64_t>(response.snapshot_size()) > Remaining()) {
          response.mutable_snapshot()->DeleteSubrange(
              static_cast<int>(Remaining()),
              response.snapshot_size() - static_cast<int>(Remaining()));
        }
        printed_ += response.snapshot_size();
        break;  // a snapshot is complete only at SYNCED
      case WatchResponse::TYPE_SYNCED:
      case WatchResponse::TYPE_PROGRESS:
        reached = response.revision();
        break;
      default:
        break;
    }
    if (absl::Status s = Print(response); !s.ok()) return s;
    if (reached.has_value() &&
        (!delivered_.has_value() || *reached > *delivered_)) {
      delivered_ = reached;
      if (!options_.checkpoint.empty()) {
        return WriteCheckpoint(options_.checkpoint, *delivered_);
      }
    }
    return absl::OkStatus();
  }

  // Drops events at or below the delivered revision (defensive: the server
  // does not resend them) and events beyond max_events. Returns the revision
  // up to which everything has then been delivered.
  uint64_t DropRepeatsAndTrim(WatchResponse* response) {
    auto* events = response->mutable_events();
    if (delivered_.has_value()) {
      events->erase(std::remove_if(events->begin(), events->end(),
                                   [&](const atlas::v1::WatchEvent& event) {
                                     return event.change().revision() <=
                                            *delivered_;
                                   }),
                    events->end());
    }
    uint64_t reached = response->revision();
    if (Remaining() > 0 &&
        static_cast<uint64_t>(events->size()) > Remaining()) {
      const int keep = static_cast<int>(Remaining());
      // Changes of the first event cut off are not delivered yet.
      const uint64_t cut = events->Get(keep).change().revision();
      reached = cut > 0 ? cut - 1 : 0;
      events->DeleteSubrange(keep, events->size() - keep);
    }
    printed_ += events->size();
    return reached;
  }

  absl::Status Print(const WatchResponse& response) {
    if (response.type() == WatchResponse::TYPE_PROGRESS) {
      return absl::OkStatus();
    }
    if (context_.format() == OutputFormat::kTable) {
      return context_.Print(WatchLines(response));
    }
    if (response.type() == WatchResponse::TYPE_EVENTS &&
        response.events().empty()) {
      return absl::OkStatus();
    }
    absl::StatusOr<std::string> text =
        FormatStreamMessage(response, context_.format());
    if (!text.ok()) return text.status();
    return context_.Print(*text);
  }

  const WatchOptions& options_;
  CommandContext& context_;
  std::optional<uint64_t> delivered_;
  uint64_t printed_ = 0;
};

}  // namespace

bool IsRetryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:  // the server ended the stream (shutdown)
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNAVAILABLE:
      return true;
    default:
      return false;
  }
}

absl::Status RunWatch(const WatchOptions& options, CommandContext& context) {
  return WatchSession(options, context).Run();
}

}  // namespace atlas::client
