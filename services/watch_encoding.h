#pragma once

// Watch events encoded once for every subscription that delivers them.
//
// A change that matches 100 subscriptions used to be copied into 100
// WatchResponse messages and serialized 100 times. Now each change is
// serialized once, on first use by whichever stream gets there first, and
// every stream splices those bytes into its own message. The protobuf wire
// format of a message is the concatenation of its fields, so a response
// assembled this way is byte for byte what serializing the equivalent
// WatchResponse would give (tests/services/watch_encoding_test.cc checks it).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include "absl/base/call_once.h"
#include "atlas/v1/atlas_service.pb.h"
#include "atlas/v1/change.pb.h"

namespace atlas::services {

// A committed change set with the lazily encoded bytes of each change.
// Shared (read-only) by every subscription the set is dispatched to.
class EncodedChangeSet {
 public:
  explicit EncodedChangeSet(std::shared_ptr<const v1::ChangeSet> set);

  const v1::ChangeSet& set() const { return *set_; }
  uint64_t revision() const { return set_->revision(); }

  // The serialized v1::Change `index`, with its `before` only if
  // `with_before`, as a reference-counted slice: every message that carries
  // it shares these bytes. Thread-safe; encoded on the first call.
  const grpc::Slice& ChangeBytes(int index, bool with_before) const;

 private:
  struct Encoded {
    absl::once_flag once;
    grpc::Slice bytes;
  };
  std::shared_ptr<const v1::ChangeSet> set_;
  // Two per change: [2i] without `before`, [2i + 1] with it.
  std::unique_ptr<Encoded[]> encoded_;
};

// Assembles one WatchResponse{type: TYPE_EVENTS, revision, events} on the
// wire without copying the events: the message is a chain of slices, the
// few framing bytes in small inline ones and each change as a reference to
// its shared encoding.
class EventsMessage {
 public:
  EventsMessage();

  // Adds WatchEvent{change, left_filter, entered_filter}; `change` is a
  // serialized v1::Change (see EncodedChangeSet::ChangeBytes).
  void Add(const grpc::Slice& change, bool left_filter, bool entered_filter);
  int event_count() const { return event_count_; }
  // Bytes of the events added so far.
  size_t byte_size() const { return byte_size_; }

  // The finished message; leaves this builder empty for the next one.
  grpc::ByteBuffer Finish(uint64_t revision);

 private:
  void FlushFraming();

  // slices_[0] is left for the header, written by Finish.
  std::vector<grpc::Slice> slices_;
  std::string framing_;  // bytes not yet in a slice
  int event_count_ = 0;
  size_t byte_size_ = 0;
};

// Any other response (snapshot pages, SYNCED, PROGRESS; a WatchMany
// response that ends a watch), serialized.
grpc::ByteBuffer SerializeResponse(const google::protobuf::MessageLite& response);

// WatchManyResponse{items: [{watch_id, response}]} on the wire, where
// `response` is a serialized v1::WatchResponse; shares its slices instead of
// copying them. Serialized WatchManyResponses concatenated are one
// WatchManyResponse with all their items (repeated fields append).
grpc::ByteBuffer TagWithWatchId(uint64_t watch_id,
                                const grpc::ByteBuffer& response);
// The same, appended to `out` as slices (for packing several into one).
void AppendTagged(uint64_t watch_id, const grpc::ByteBuffer& response,
                  std::vector<grpc::Slice>& out);

}  // namespace atlas::services
