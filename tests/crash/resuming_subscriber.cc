#include "tests/crash/resuming_subscriber.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace atlas::crash {
namespace {

// The payload kinds the harness writes.
std::string KindOf(const v1::Entity& entity) {
  if (entity.has_agreement()) return "agreement";
  if (entity.has_document()) return "document";
  if (entity.has_topic()) return "topic";
  return "other";
}

bool HasTopic(const v1::Entity& entity,
              const google::protobuf::RepeatedPtrField<std::string>& topics) {
  for (const std::string& topic : entity.topics()) {
    if (std::find(topics.begin(), topics.end(), topic) != topics.end()) {
      return true;
    }
  }
  return false;
}

}  // namespace

ResumingSubscriber::ResumingSubscriber(std::string label,
                                       const std::string& address,
                                       v1::WatchRequest request,
                                       absl::Duration read_pause)
    : label_(std::move(label)),
      request_(std::move(request)),
      read_pause_(read_pause),
      stub_(v1::Atlas::NewStub(NewChannel(address))) {
  thread_ = std::thread([this] { Run(); });
}

ResumingSubscriber::~ResumingSubscriber() {
  {
    atlas::MutexLock lock(&mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  thread_.join();
}

void ResumingSubscriber::Run() {
  for (;;) {
    grpc::ClientContext context;
    // Waits for the restarted server instead of failing while it is down.
    context.set_wait_for_ready(true);
    v1::WatchRequest request = request_;
    {
      atlas::MutexLock lock(&mu_);
      if (stopping_) return;
      context_ = &context;
      ++streams_;
      if (started_) request.set_start_revision(reported_ + 1);
    }
    std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader =
        stub_->Watch(&context, request);
    v1::WatchResponse message;
    while (reader->Read(&message)) {
      Record(message);
      if (read_pause_ > absl::ZeroDuration()) absl::SleepFor(read_pause_);
    }
    const grpc::Status status = reader->Finish();
    {
      atlas::MutexLock lock(&mu_);
      context_ = nullptr;
      if (stopping_) return;
      // A killed server breaks the stream: UNAVAILABLE. Anything else (an
      // error from a resumed Watch, say) is a finding.
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
        errors_.push_back(absl::StrCat(
            "stream ", streams_, " from revision ", request.start_revision(),
            " ended with code ", status.error_code(), " \"",
            status.error_message(), "\""));
      }
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

void ResumingSubscriber::Record(const v1::WatchResponse& message) {
  atlas::MutexLock lock(&mu_);
  if (!started_) {
    started_ = true;
    if (request_.start_revision() != 0) {
      start_ = request_.start_revision();
    } else if (message.events_size() > 0) {
      start_ = message.events(0).change().revision();
    } else {
      start_ = message.revision() + 1;
    }
  }
  if (message.revision() < reported_) {
    errors_.push_back(absl::StrCat("a message reports revision ",
                                   message.revision(), " after ", reported_));
  }
  uint64_t previous = 0;
  for (const v1::WatchEvent& event : message.events()) {
    const uint64_t r = event.change().revision();
    if (r <= reported_ || r < start_ || r < previous ||
        r > message.revision()) {
      errors_.push_back(absl::StrCat(
          "event at revision ", r, " (", event.change().entity().name(),
          ") in a message of revision ", message.revision(),
          " after revision ", reported_,
          " was reported: a duplicate or out of order"));
    }
    previous = r;
    seen_.push_back(Of(event.change()));
  }
  reported_ = std::max(reported_, message.revision());
}

bool ResumingSubscriber::WaitForRevision(uint64_t revision,
                                         absl::Duration timeout) {
  atlas::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(
      [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return started_ && reported_ >= revision;
      },
      timeout);
}

int ResumingSubscriber::streams() {
  atlas::MutexLock lock(&mu_);
  return streams_;
}

ResumingSubscriber::Seen ResumingSubscriber::Of(const v1::Change& change) {
  return Seen{change.revision(), change.type(), change.entity().name(),
              change.entity().version(), change.entity().title()};
}

std::string ResumingSubscriber::Show(const Seen& seen) const {
  return absl::StrCat("{revision ", seen.revision, ", type ", seen.type, ", ",
                      seen.name, " version ", seen.version, " \"", seen.title,
                      "\"}");
}

bool ResumingSubscriber::Selects(const v1::Change& change) const {
  const v1::WatchFilter& filter = request_.filter();
  const v1::Entity& entity = change.entity();
  if (!filter.change_types().empty() &&
      std::find(filter.change_types().begin(), filter.change_types().end(),
                change.type()) == filter.change_types().end()) {
    return false;
  }
  if (!filter.kinds().empty() &&
      std::find(filter.kinds().begin(), filter.kinds().end(),
                KindOf(entity)) == filter.kinds().end()) {
    return false;
  }
  if (!filter.name_prefixes().empty() &&
      std::none_of(filter.name_prefixes().begin(),
                   filter.name_prefixes().end(),
                   [&](const std::string& prefix) {
                     return absl::StartsWith(entity.name(), prefix);
                   })) {
    return false;
  }
  if (!filter.topics().empty() && !HasTopic(entity, filter.topics()) &&
      !(change.has_before() && HasTopic(change.before(), filter.topics()))) {
    return false;
  }
  return true;
}

absl::Status ResumingSubscriber::Check(const ChangeLog& log) {
  atlas::MutexLock lock(&mu_);
  const std::string who = absl::StrCat("subscriber ", label_, ": ");
  if (!errors_.empty()) {
    return absl::DataLossError(absl::StrCat(who, errors_.front(), " (",
                                            errors_.size(), " errors)"));
  }
  if (!started_ || reported_ != log.revision()) {
    return absl::DataLossError(absl::StrCat(
        who, "reported revision ", reported_, ", the log is at ",
        log.revision()));
  }
  std::vector<Seen> expected;
  for (const v1::Change& change : log.changes()) {
    if (change.revision() >= start_ && Selects(change)) {
      expected.push_back(Of(change));
    }
  }
  const size_t common = std::min(expected.size(), seen_.size());
  size_t i = 0;
  while (i < common && seen_[i] == expected[i]) ++i;
  if (i == common && expected.size() == seen_.size()) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      who, "from revision ", start_, ": event ", i, " is ",
      i < seen_.size() ? Show(seen_[i]) : "missing", ", expected ",
      i < expected.size() ? Show(expected[i]) : "none (an extra event)", "; ",
      seen_.size(), " events received, ", expected.size(), " expected"));
}

}  // namespace atlas::crash
