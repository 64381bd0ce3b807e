#pragma once

// ResumingSubscriber: a Watch client on its own thread and connection that
// survives server restarts the way a real one should: when its stream ends
// it calls Watch again with start_revision = the last revision a message
// reported + 1. It records every event it receives, and flags on the spot
// any event at or below a revision already reported (a duplicate) or out of
// order. Expected() states independently which events of the log its filter
// selects, for the exactly-once comparison.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "atlas/v1/atlas_service.grpc.pb.h"
#include "common/mutex.h"
#include "tests/crash/change_log.h"

namespace atlas::crash {

class ResumingSubscriber {
 public:
  // `request.start_revision` 0 means "now": the revision of the first
  // message (its initial PROGRESS) fixes where the subscriber starts.
  // `read_pause` is slept after each message (a slow reader, served from
  // the change log on disk once it falls behind).
  ResumingSubscriber(std::string label, const std::string& address,
                     v1::WatchRequest request, absl::Duration read_pause);
  ~ResumingSubscriber();
  ResumingSubscriber(const ResumingSubscriber&) = delete;
  ResumingSubscriber& operator=(const ResumingSubscriber&) = delete;

  const std::string& label() const { return label_; }

  // Waits until a message reported `revision` or later.
  bool WaitForRevision(uint64_t revision, absl::Duration timeout);

  // OK if the events received so far are exactly those of `log` its filter
  // selects, from where it started through log.revision(), each once, in
  // order (with `log.revision()` reported); else the first difference and
  // any error seen on the way.
  absl::Status Check(const ChangeLog& log);

  // Streams opened so far (1 + resumptions).
  int streams();

 private:
  // What is compared of an event.
  struct Seen {
    uint64_t revision;
    int type;
    std::string name;
    int64_t version;
    std::string title;
    bool operator==(const Seen& o) const {
      return revision == o.revision && type == o.type && name == o.name &&
             version == o.version && title == o.title;
    }
  };
  static Seen Of(const v1::Change& change);
  std::string Show(const Seen& seen) const;
  // The filter, stated independently of the server's implementation.
  bool Selects(const v1::Change& change) const;

  void Run();
  void Record(const v1::WatchResponse& message);

  const std::string label_;
  const v1::WatchRequest request_;
  const absl::Duration read_pause_;
  std::unique_ptr<v1::Atlas::Stub> stub_;

  atlas::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  // First revision it covers, once started_.
  uint64_t start_ ABSL_GUARDED_BY(mu_) = 0;
  // Highest revision a message reported.
  uint64_t reported_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Seen> seen_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
  int streams_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace atlas::crash
