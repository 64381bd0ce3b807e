#pragma once

// ChangeHub: fans committed change sets out to Watch subscriptions.
// (Owned by the watch work; see watch_stream.h for the gRPC side.)

#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "storage/store.h"

namespace atlas::services {

struct ChangeHubOptions {
  // Most change sets queued in memory per subscription; a subscription that
  // falls further behind is served from the change log on disk.
  size_t subscriber_queue_bound = 1024;
  // A PROGRESS message is sent after this long without a matching event.
  absl::Duration progress_interval = absl::Seconds(10);
};

class ChangeHub : public storage::CommitObserver {
 public:
  ChangeHub(storage::Store& store, ChangeHubOptions options);
  ~ChangeHub() override;
  void OnCommit(const v1::ChangeSet& change_set) override;
  // Ends every open subscription with UNAVAILABLE; new ones are refused.
  void Shutdown();
  size_t subscription_count() const;
  storage::Store& store() { return store_; }
  const ChangeHubOptions& options() const { return options_; }

 private:
  storage::Store& store_;
  ChangeHubOptions options_;
};

}  // namespace atlas::services
