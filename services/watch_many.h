#pragma once

// The server side of one WatchMany call: many watches (WatchSessions) on
// one bidirectional stream, each under a watch id the client chose.
//
// gRPC keeps about 16 KB of state per call whatever the call does, so a
// client holding thousands of watches needs them to share streams; a watch
// on a shared stream costs only its session. The stream writes one gRPC
// message at a time, packing into it every watch's response queued in its
// outbox meanwhile. Each session has at most one response waiting (its next
// one is built only once the previous one is written), so a slow reader
// holds at most one response per watch.

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "services/call_gate.h"
#include "services/change_hub.h"

namespace atlas::services {

// Most watches open on one WatchMany stream at a time.
inline constexpr int kMaxWatchesPerStream = 1000;

// Starts serving a WatchMany call; the reactor deletes itself when done.
// `ticket` (the stream's slot under the stream limits) is released when the
// call is done.
grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* StartWatchMany(
    ChangeHub& hub, StreamTicket ticket = StreamTicket());

}  // namespace atlas::services
