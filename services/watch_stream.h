#pragma once

// The server side of one Watch call: a ServerWriteReactor that is also a
// ChangeHub Subscription.

#include <grpcpp/support/server_callback.h>

#include "atlas/v1/atlas_service.pb.h"
#include "services/change_hub.h"

namespace atlas::services {

// Starts serving `request` on `context`; the reactor deletes itself when done.
grpc::ServerWriteReactor<v1::WatchResponse>* StartWatch(
    ChangeHub& hub, grpc::CallbackServerContext* context,
    const v1::WatchRequest* request);

}  // namespace atlas::services
