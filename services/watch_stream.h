#pragma once

// The server side of one Watch call: a ServerWriteReactor that is also a
// ChangeHub Subscription.

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "atlas/v1/atlas_service.pb.h"
#include "services/call_gate.h"
#include "services/change_hub.h"

namespace atlas::services {

// Starts serving `request` on `context`; the reactor deletes itself when done.
// It writes serialized v1::WatchResponse messages (see watch_encoding.h).
// `ticket` (the stream's slot under the stream limits) is released when the
// call is done.
grpc::ServerWriteReactor<grpc::ByteBuffer>* StartWatch(
    ChangeHub& hub, grpc::CallbackServerContext* context,
    const v1::WatchRequest* request, StreamTicket ticket = StreamTicket());

}  // namespace atlas::services
