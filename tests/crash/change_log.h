#pragma once

// The crash harness' view of a restarted server, read through the public API
// only: the whole change log as Watch delivers it from revision 1, its
// replay, the entities ListEntities reports, and the checks between them.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atlas/v1/atlas_service.grpc.pb.h"

namespace atlas::crash {

// Name -> current entity.
using EntityMap = std::map<std::string, v1::Entity>;

// A channel that reconnects quickly after a restart (the default backoff
// grows to minutes) and has a connection of its own.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address);

class ChangeLog {
 public:
  // Watch from revision 1 (with `before`) until a message reports
  // `through`. UNAVAILABLE/DEADLINE_EXCEEDED if the stream breaks or stalls;
  // DATA_LOSS if the log is not every revision 1..through exactly once, in
  // order.
  static absl::StatusOr<ChangeLog> Read(v1::Atlas::Stub& stub,
                                        uint64_t through);

  uint64_t revision() const { return revision_; }
  // Every change, in revision order.
  const std::vector<v1::Change>& changes() const { return changes_; }
  // The changes of revision `r` (1 <= r <= revision()): [first, last).
  std::pair<size_t, size_t> Set(uint64_t r) const { return sets_[r - 1]; }

  // Applies every change in order to an empty map, checking each against the
  // state it applies to (a create finds nothing, an update or delete finds
  // exactly its `before`, versions and revisions advance): the entities live
  // at revision().
  absl::StatusOr<EntityMap> Replay() const;

 private:
  uint64_t revision_ = 0;
  std::vector<v1::Change> changes_;
  std::vector<std::pair<size_t, size_t>> sets_;
};

// The current revision (what a ListEntities response reflects).
absl::StatusOr<uint64_t> CurrentRevision(v1::Atlas::Stub& stub);

// Every entity, all pages; FAILED_PRECONDITION unless every page reflects
// `revision`.
absl::StatusOr<EntityMap> ListAll(v1::Atlas::Stub& stub, uint64_t revision);

// OK if the maps hold the same names with equal entities; else the first
// difference.
absl::Status CompareEntities(const EntityMap& replayed,
                             const EntityMap& listed);

// OK if ListEntityHistory of each name lists exactly the versions the log
// has for it, in order.
absl::Status CheckHistory(v1::Atlas::Stub& stub, const ChangeLog& log,
                          const std::vector<std::string>& names);

// A ClientContext deadline for calls to a possibly restarting server on a
// loaded machine.
void SetDeadline(grpc::ClientContext& context);

}  // namespace atlas::crash
