// Watch responses assembled from pre-encoded changes are byte for byte what
// protobuf gives for the same WatchResponse, so every client parses them.

#include "services/watch_encoding.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace atlas::services {
namespace {

std::string Bytes(const grpc::Slice& slice) {
  return std::string(reinterpret_cast<const char*>(slice.begin()),
                     slice.size());
}

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

v1::Change MakeChange(uint64_t revision, const std::string& id,
                      bool with_before) {
  v1::Change change;
  change.set_revision(revision);
  change.set_type(with_before ? v1::CHANGE_TYPE_UPDATED
                              : v1::CHANGE_TYPE_CREATED);
  v1::Entity* entity = change.mutable_entity();
  entity->set_name("documents/" + id);
  entity->add_topics("data-governance");
  entity->set_etag("etag-after-" + id);
  entity->mutable_document()->set_summary(std::string(300, 'x') + id);
  if (with_before) {
    *change.mutable_before() = *entity;
    change.mutable_before()->set_etag("etag-before-" + id);
    change.add_changed_paths("etag");
  }
  change.add_changed_paths("document.summary");
  return change;
}

std::shared_ptr<const EncodedChangeSet> MakeSet(uint64_t revision, int count) {
  auto set = std::make_shared<v1::ChangeSet>();
  set->set_revision(revision);
  set->mutable_commit_time()->set_seconds(1764288000);
  for (int i = 0; i < count; ++i) {
    *set->add_changes() =
        MakeChange(revision, std::to_string(i), /*with_before=*/i % 2 == 1);
  }
  return std::make_shared<const EncodedChangeSet>(std::move(set));
}

// What the WatchStream used to build by hand, for comparison.
v1::WatchEvent Expected(const v1::Change& change, bool with_before, bool left,
                        bool entered) {
  v1::WatchEvent event;
  *event.mutable_change() = change;
  if (!with_before) event.mutable_change()->clear_before();
  event.set_left_filter(left);
  event.set_entered_filter(entered);
  return event;
}

TEST(WatchEncodingTest, ChangeBytesWithAndWithoutBefore) {
  auto set = MakeSet(7, 2);
  const v1::Change& plain = set->set().changes(0);
  const v1::Change& updated = set->set().changes(1);
  ASSERT_FALSE(plain.has_before());
  ASSERT_TRUE(updated.has_before());

  EXPECT_EQ(Bytes(set->ChangeBytes(0, false)), plain.SerializeAsString());
  // No `before` to include: both forms are the same bytes.
  EXPECT_EQ(Bytes(set->ChangeBytes(0, true)), plain.SerializeAsString());
  EXPECT_EQ(Bytes(set->ChangeBytes(1, true)), updated.SerializeAsString());
  v1::Change without = updated;
  without.clear_before();
  EXPECT_EQ(Bytes(set->ChangeBytes(1, false)), without.SerializeAsString());
  EXPECT_NE(Bytes(set->ChangeBytes(1, false)),
            Bytes(set->ChangeBytes(1, true)));
}

TEST(WatchEncodingTest, EventsMessageEqualsSerializedResponse) {
  auto first = MakeSet(5, 3);
  auto second = MakeSet(300, 2);  // a revision that takes a 2-byte varint
  struct Pick {
    const EncodedChangeSet* set;
    int index;
    bool with_before;
    bool left;
    bool entered;
  };
  const std::vector<Pick> picks = {{first.get(), 0, false, false, false},
                                   {first.get(), 1, true, true, false},
                                   {first.get(), 2, false, false, true},
                                   {second.get(), 1, false, true, true},
                                   {second.get(), 0, true, false, false}};
  EventsMessage message;
  v1::WatchResponse expected;
  expected.set_type(v1::WatchResponse::TYPE_EVENTS);
  expected.set_revision(300);
  for (const Pick& pick : picks) {
    message.Add(pick.set->ChangeBytes(pick.index, pick.with_before),
                pick.left, pick.entered);
    *expected.add_events() =
        Expected(pick.set->set().changes(pick.index), pick.with_before,
                 pick.left, pick.entered);
  }
  EXPECT_EQ(message.event_count(), 5);
  const std::string bytes = Flatten(message.Finish(300));
  EXPECT_EQ(bytes, expected.SerializeAsString());

  v1::WatchResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  ASSERT_EQ(parsed.events_size(), 5);
  EXPECT_EQ(parsed.events(1).change().before().etag(), "etag-before-1");
  EXPECT_FALSE(parsed.events(3).change().has_before());
  EXPECT_TRUE(parsed.events(3).left_filter());
  EXPECT_TRUE(parsed.events(3).entered_filter());
}

TEST(WatchEncodingTest, FinishLeavesAnEmptyBuilderForTheNextMessage) {
  auto set = MakeSet(9, 1);
  EventsMessage message;
  message.Add(set->ChangeBytes(0, false), false, false);
  Flatten(message.Finish(9));
  EXPECT_EQ(message.event_count(), 0);

  // Large revisions (up to the 10-byte varint) still fit the header room.
  const uint64_t revision = ~uint64_t{0};
  message.Add(set->ChangeBytes(0, false), false, true);
  v1::WatchResponse expected;
  expected.set_type(v1::WatchResponse::TYPE_EVENTS);
  expected.set_revision(revision);
  *expected.add_events() =
      Expected(set->set().changes(0), false, false, true);
  EXPECT_EQ(Flatten(message.Finish(revision)), expected.SerializeAsString());
}

TEST(WatchEncodingTest, AMessageKeepsItsEventsAliveAfterTheSetIsGone) {
  grpc::ByteBuffer buffer;
  v1::WatchResponse expected;
  {
    auto set = MakeSet(12, 2);
    EventsMessage message;
    message.Add(set->ChangeBytes(1, true), true, false);
    buffer = message.Finish(12);
    expected.set_type(v1::WatchResponse::TYPE_EVENTS);
    expected.set_revision(12);
    *expected.add_events() = Expected(set->set().changes(1), true, true, false);
  }  // the set and its encodings are released here; the message holds refs
  EXPECT_EQ(Flatten(buffer), expected.SerializeAsString());
}

TEST(WatchEncodingTest, SerializeResponseRoundTrips) {
  v1::WatchResponse progress;
  progress.set_type(v1::WatchResponse::TYPE_PROGRESS);
  progress.set_revision(42);
  EXPECT_EQ(Flatten(SerializeResponse(progress)),
            progress.SerializeAsString());
}

TEST(WatchEncodingTest, TagWithWatchIdEqualsSerializedManyResponse) {
  auto set = MakeSet(77, 2);
  EventsMessage message;
  message.Add(set->ChangeBytes(0, true), false, true);
  message.Add(set->ChangeBytes(1, false), true, false);
  grpc::ByteBuffer events = message.Finish(77);
  v1::WatchResponse progress;
  progress.set_type(v1::WatchResponse::TYPE_PROGRESS);
  progress.set_revision(3);
  // Ids of one and several varint bytes, and 0 (which proto3 leaves out).
  for (uint64_t id : {uint64_t{0}, uint64_t{1}, uint64_t{300}, ~uint64_t{0}}) {
    for (const grpc::ByteBuffer& inner :
         {events, SerializeResponse(progress)}) {
      v1::WatchManyResponse expected;
      v1::WatchManyItem* item = expected.add_items();
      item->set_watch_id(id);
      ASSERT_TRUE(item->mutable_response()->ParseFromString(Flatten(inner)));
      EXPECT_EQ(Flatten(TagWithWatchId(id, inner)),
                expected.SerializeAsString())
          << "watch id " << id;
    }
  }
  // Concatenated, they are one response with both items.
  v1::WatchManyResponse packed;
  ASSERT_TRUE(packed.ParseFromString(Flatten(TagWithWatchId(5, events)) +
                                     Flatten(TagWithWatchId(6, events))));
  ASSERT_EQ(packed.items_size(), 2);
  EXPECT_EQ(packed.items(0).watch_id(), 5u);
  EXPECT_EQ(packed.items(1).watch_id(), 6u);
  EXPECT_EQ(packed.items(1).response().events_size(), 2);
}

TEST(WatchEncodingTest, ConcurrentFirstUseEncodesOnce) {
  auto set = MakeSet(11, 4);
  std::vector<std::thread> threads;
  std::vector<std::vector<const char*>> seen(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 4; ++i) {
        seen[t].push_back(reinterpret_cast<const char*>(
            set->ChangeBytes(i, t % 2 == 0).begin()));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  // Every thread got the same buffer for the same change and form.
  for (int t = 2; t < 8; ++t) EXPECT_EQ(seen[t], seen[t % 2]);
  for (int i = 0; i < 4; ++i) {
    v1::Change expected = set->set().changes(i);
    EXPECT_EQ(Bytes(set->ChangeBytes(i, true)), expected.SerializeAsString());
  }
}

}  // namespace
}  // namespace atlas::services
