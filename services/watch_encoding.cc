#include "services/watch_encoding.h"

#include <google/protobuf/io/coded_stream.h>

#include <iterator>
#include <utility>
#include <vector>

namespace atlas::services {
namespace {

using google::protobuf::io::CodedOutputStream;

// Wire tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
constexpr char kResponseType = (1 << 3) | 0;      // WatchResponse.type
constexpr char kResponseRevision = (2 << 3) | 0;  // WatchResponse.revision
constexpr char kResponseEvent = (3 << 3) | 2;     // WatchResponse.events
constexpr char kEventChange = (1 << 3) | 2;       // WatchEvent.change
constexpr char kEventLeft = (2 << 3) | 0;         // WatchEvent.left_filter
constexpr char kEventEntered = (3 << 3) | 0;      // WatchEvent.entered_filter
constexpr char kChangeEntity = (3 << 3) | 2;      // Change.entity
constexpr char kChangePath = (5 << 3) | 2;        // Change.changed_paths
constexpr char kManyItem = (1 << 3) | 2;          // WatchManyResponse.items
constexpr char kItemWatchId = (1 << 3) | 0;       // WatchManyItem.watch_id
constexpr char kItemResponse = (2 << 3) | 2;      // WatchManyItem.response
constexpr size_t kMaxVarint = 10;

void AppendVarint(std::string& out, uint64_t value) {
  uint8_t buffer[kMaxVarint];
  uint8_t* end = CodedOutputStream::WriteVarint64ToArray(value, buffer);
  out.append(reinterpret_cast<const char*>(buffer), end - buffer);
}

// A reference-counted slice that owns the string: no copy.
grpc::Slice OwningSlice(std::string bytes) {
  auto* owned = new std::string(std::move(bytes));
  return grpc::Slice(
      owned->data(), owned->size(),
      [](void* string) { delete static_cast<std::string*>(string); }, owned);
}

// `change` serialized as if `before` were not set, without copying it:
// fields 1-2, then 3 (entity), then 5, as serializing writes them in field
// order.
std::string SerializeWithoutBefore(const v1::Change& change) {
  v1::Change head;
  head.set_revision(change.revision());
  head.set_type(change.type());
  std::string bytes = head.SerializeAsString();
  if (change.has_entity()) {
    bytes.push_back(kChangeEntity);
    AppendVarint(bytes, change.entity().ByteSizeLong());
    change.entity().AppendToString(&bytes);
  }
  for (const std::string& path : change.changed_paths()) {
    bytes.push_back(kChangePath);
    AppendVarint(bytes, path.size());
    bytes.append(path);
  }
  return bytes;
}

}  // namespace

EncodedChangeSet::EncodedChangeSet(std::shared_ptr<const v1::ChangeSet> set)
    : set_(std::move(set)),
      encoded_(std::make_unique<Encoded[]>(2 * set_->changes_size())) {}

const grpc::Slice& EncodedChangeSet::ChangeBytes(int index,
                                                 bool with_before) const {
  const v1::Change& change = set_->changes(index);
  // Without a `before` both forms are the same bytes: encode them once.
  with_before = with_before && change.has_before();
  Encoded& encoded = encoded_[2 * index + (with_before ? 1 : 0)];
  absl::call_once(encoded.once, [&] {
    encoded.bytes = OwningSlice(with_before || !change.has_before()
                                    ? change.SerializeAsString()
                                    : SerializeWithoutBefore(change));
  });
  return encoded.bytes;
}

EventsMessage::EventsMessage() { slices_.emplace_back(); }

void EventsMessage::FlushFraming() {
  if (framing_.empty()) return;
  // Short enough to be inlined in the slice itself: no allocation.
  slices_.emplace_back(framing_.data(), framing_.size());
  framing_.clear();
}

void EventsMessage::Add(const grpc::Slice& change, bool left_filter,
                        bool entered_filter) {
  const size_t size = 1 + CodedOutputStream::VarintSize64(change.size()) +
                      change.size() + (left_filter ? 2 : 0) +
                      (entered_filter ? 2 : 0);
  const size_t before = framing_.size();
  framing_.push_back(kResponseEvent);
  AppendVarint(framing_, size);
  framing_.push_back(kEventChange);
  AppendVarint(framing_, change.size());
  byte_size_ += framing_.size() - before + change.size();
  FlushFraming();
  slices_.push_back(change);  // a reference, not a copy
  // The flags wait to share a slice with the next event's framing.
  if (left_filter) framing_.append({kEventLeft, 1});
  if (entered_filter) framing_.append({kEventEntered, 1});
  byte_size_ += (left_filter ? 2 : 0) + (entered_filter ? 2 : 0);
  ++event_count_;
}

grpc::ByteBuffer EventsMessage::Finish(uint64_t revision) {
  FlushFraming();
  std::string header{kResponseType, v1::WatchResponse::TYPE_EVENTS};
  if (revision != 0) {  // proto3 leaves zero out
    header.push_back(kResponseRevision);
    AppendVarint(header, revision);
  }
  slices_[0] = grpc::Slice(header.data(), header.size());
  grpc::ByteBuffer message(slices_.data(), slices_.size());
  slices_.resize(1);
  event_count_ = 0;
  byte_size_ = 0;
  return message;
}

grpc::ByteBuffer SerializeResponse(const google::protobuf::MessageLite& response) {
  grpc::Slice slice = OwningSlice(response.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

void AppendTagged(uint64_t watch_id, const grpc::ByteBuffer& response,
                  std::vector<grpc::Slice>& out) {
  std::string item;  // WatchManyItem up to the response's bytes
  if (watch_id != 0) {  // proto3 leaves zero out
    item.push_back(kItemWatchId);
    AppendVarint(item, watch_id);
  }
  item.push_back(kItemResponse);
  AppendVarint(item, response.Length());
  std::string header{kManyItem};
  AppendVarint(header, item.size() + response.Length());
  header += item;
  out.emplace_back(header.data(), header.size());
  std::vector<grpc::Slice> body;
  (void)response.Dump(&body);  // fails only for an empty buffer: no slices
  std::move(body.begin(), body.end(), std::back_inserter(out));
}

grpc::ByteBuffer TagWithWatchId(uint64_t watch_id,
                                const grpc::ByteBuffer& response) {
  std::vector<grpc::Slice> slices;
  AppendTagged(watch_id, response, slices);
  return grpc::ByteBuffer(slices.data(), slices.size());
}

}  // namespace atlas::services
