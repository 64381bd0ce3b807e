#pragma once

// WriteLoad: writer threads, each on its own connection, each owning its own
// entities ("agreements/wN-K", "documents/wN-K"), issuing a seeded random
// mix of CreateEntity, UpdateEntity (full, masked, upsert), DeleteEntity and
// multi-entity ApplyEntities with etag preconditions taken from what the
// server acknowledged. Every write puts a unique token in the title of each
// entity it writes, so the change log shows which write made which change.
//
// A write either is acknowledged (with its revision), or fails because the
// server was killed while it ran: then its outcome is unknown. Any other
// failure is an error. After a restart, Verify() attributes every change set
// of the log to the write that made it: each acknowledged write exactly at
// its revision with exactly its content, an unknown write at most once and
// whole, nothing else.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
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

// Topic slugs the writers tag entities with (created by the harness first).
inline const std::vector<std::string>& LoadTopics() {
  static const auto* topics =
      new std::vector<std::string>{"t0", "t1", "t2", "t3"};
  return *topics;
}

class WriteLoad {
 public:
  struct Counts {
    uint64_t acknowledged = 0;
    uint64_t unknown_present = 0;  // in flight at a kill, found in the log
    uint64_t unknown_absent = 0;   // in flight at a kill, not in the log
  };

  // Starts `writers` threads, paused, against `address`.
  WriteLoad(int writers, uint64_t seed, const std::string& address);
  ~WriteLoad();
  WriteLoad(const WriteLoad&) = delete;
  WriteLoad& operator=(const WriteLoad&) = delete;

  // Revisions the harness itself wrote (not attributed to a writer).
  void AddSetupRevision(uint64_t revision);

  // Lets the writers write.
  void Resume();
  // Before the kill: no new write starts, and writes that fail from now on
  // count as in flight at the kill (unknown outcome).
  void BeginKill();
  // Waits until no write is in flight (their calls fail once the server is
  // gone).
  void AwaitIdle();
  // After a restart, before Resume(): waits until every writer's channel is
  // connected again, so their first write does not fail fast.
  absl::Status AwaitConnected(absl::Duration timeout);

  // With the writers idle: attributes every change set of `log` (see
  // above), resolves unknown writes and takes each writer's entities from
  // `replayed` as the state to continue from.
  absl::Status Verify(const ChangeLog& log, const EntityMap& replayed);

  // Errors the writers met (failures while the server was up).
  std::vector<std::string> Errors();
  Counts counts();
  // The entity names of writer `w`.
  std::vector<std::string> Names(int w) const;
  int writers() const { return static_cast<int>(writers_.size()); }

 private:
  struct Write;
  struct Writer;

  void Run(Writer& writer);
  // One random write; records it in writer.outstanding.
  void WriteOne(Writer& writer, uint64_t epoch);
  absl::Status Attribute(Writer& writer, const Write& write,
                         const ChangeLog& log, uint64_t revision);
  int OwnerOf(const std::string& name) const;

  atlas::Mutex mu_;
  bool paused_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Incremented by BeginKill: a write that fails after its epoch ended was
  // in flight at a kill.
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
  Counts counts_ ABSL_GUARDED_BY(mu_);

  // Used by Verify only (writers idle).
  std::set<uint64_t> setup_revisions_;
  uint64_t verified_through_ = 0;
  std::vector<std::unique_ptr<Writer>> writers_;
};

}  // namespace atlas::crash
