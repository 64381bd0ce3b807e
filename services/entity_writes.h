#pragma once

// The write methods of atlas.v1.Atlas over a Store. Each validates its
// request, turns it into one Store commit (one revision, all or nothing) and
// names fields in errors the way the request does.
//
// They do not wait for the commit: each returns at once and calls `reply`
// exactly once when the write is durable or has failed (bad input: before
// returning), possibly on another thread. A server thread is never blocked
// on a WAL sync, so many writes stay in flight and share each sync (group
// commit). Each takes its request by value: the entities in it move into
// the commit instead of being copied (the server moves the call's request
// in; see TakeRequest in atlas_service.cc).

#include <functional>
#include <utility>

#include "absl/status/statusor.h"
#include "atlas/v1/atlas_service.pb.h"
#include "common/mutex.h"
#include "storage/store.h"

namespace atlas::services {

template <typename Response>
using WriteReply = std::function<void(absl::StatusOr<Response>)>;

// How often UpdateEntity with an update_mask and no etag re-reads and retries
// when a concurrent writer changed the entity between its read and its write.
inline constexpr int kMaskedUpdateAttempts = 5;

void CreateEntity(storage::Store& store, v1::CreateEntityRequest request,
                  WriteReply<v1::WriteEntityResponse> reply);

// Without an update_mask the request entity replaces the stored one. With a
// mask the stored entity is read, the masked fields are copied into it, and
// it is written only if nothing changed it in between (expected_revision), so
// a concurrent write is never lost.
void UpdateEntity(storage::Store& store, v1::UpdateEntityRequest request,
                  WriteReply<v1::WriteEntityResponse> reply);

void DeleteEntity(storage::Store& store, v1::DeleteEntityRequest request,
                  WriteReply<v1::WriteEntityResponse> reply);

void ApplyEntities(storage::Store& store, v1::ApplyEntitiesRequest request,
                   WriteReply<v1::ApplyEntitiesResponse> reply);

// Runs one of the writes above and waits for its reply (tools, benchmarks).
template <typename Request, typename Response>
absl::StatusOr<Response> WaitForWrite(void (*write)(storage::Store&, Request,
                                                    WriteReply<Response>),
                                      storage::Store& store, Request request) {
  absl::StatusOr<Response> out = absl::UnknownError("no reply");
  atlas::Notification replied;
  write(store, std::move(request), [&](absl::StatusOr<Response> result) {
    out = std::move(result);
    replied.Notify();
  });
  replied.WaitForNotification();
  return out;
}

}  // namespace atlas::services
