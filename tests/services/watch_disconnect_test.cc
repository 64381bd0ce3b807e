// Vanished Watch clients: subscribers whose connection is cut mid-stream (a
// TCP proxy closed under them) or whose process is killed with SIGKILL,
// while they read, while they have stopped reading, and while they catch up
// from disk. Each leaves nothing behind in the hub (its subscription count
// returns to what it was), the hub's memory stays bounded meanwhile, writers
// never fail, and the server keeps serving other and new subscribers.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/server_process.h"
#include "tests/e2e/subprocess.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/grpc_probes.h"
#include "tests/services/test_server.h"
#include "tests/services/watcher.h"
#include "tests/testing/entities.h"
#include "tests/testing/scale.h"
#include "tests/testing/tcp_proxy.h"

namespace atlas::services {
namespace {

using testing::AtlasCalls;
using testing::Watcher;

constexpr size_t kBound = 16;
// Generous: only reached when something is wrong.
constexpr absl::Duration kTimeout = absl::Seconds(60);

ChangeHubOptions Hub() {
  ChangeHubOptions options;
  options.progress_interval = absl::Milliseconds(50);
  options.subscriber_queue_bound = kBound;
  return options;
}

v1::WatchRequest All(uint64_t from) {
  v1::WatchRequest request;
  request.set_start_revision(from);
  return request;
}

// Polls `done` every 10 ms until it holds or `timeout` passes.
bool PollUntil(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

// Samples the hub while a test runs: the deepest queue and whether any
// stream was ever served from disk.
class HubSampler {
 public:
  explicit HubSampler(ChangeHub& hub) : hub_(hub) {
    thread_ = std::thread([this] {
      while (!stop_) {
        const HubStats stats = hub_.Stats();
        max_queue_ = std::max<size_t>(max_queue_, stats.max_queued_sets);
        if (stats.catching_up > 0) saw_catch_up_ = true;
        absl::SleepFor(absl::Milliseconds(2));
      }
    });
  }
  ~HubSampler() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t max_queue() const { return max_queue_; }
  bool saw_catch_up() const { return saw_catch_up_; }

 private:
  ChangeHub& hub_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> max_queue_{0};
  std::atomic<bool> saw_catch_up_{false};
  std::thread thread_;
};

// `batches` applies of 20 entities with 1 KiB each, from two writers on
// their own connections; every one must succeed. `halfway` runs once half
// of them are done.
void Write(testing::TestServer& server, int batches,
           const std::function<void()>& halfway) {
  const std::string payload(1024, 'p');
  std::atomic<int> done{0};
  std::atomic<bool> called{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      auto stub = server.NewStub();
      AtlasCalls calls(*stub);
      for (int batch = 0; batch < batches / 2; ++batch) {
        std::vector<v1::Entity> entities;
        for (int k = 0; k < 20; ++k) {
          entities.push_back(testing::Agreement(absl::StrCat("w", w, "-", k),
                                                {"t0"},
                                                absl::StrCat(batch, payload)));
        }
        auto reply = calls.Apply(entities);
        ASSERT_TRUE(reply.ok()) << reply.status.error_message();
        if (++done >= batches / 2 && !called.exchange(true)) halfway();
      }
    });
  }
  for (auto& t : writers) t.join();
}

// Every event from `from` through `last`, 20 per revision, in order.
void ExpectAllEvents(Watcher& watcher, uint64_t from, uint64_t last) {
  ASSERT_TRUE(watcher.WaitForRevision(last, kTimeout));
  const std::vector<v1::WatchEvent> events = watcher.events();
  ASSERT_EQ(events.size(), (last - from + 1) * 20);
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].change().revision(), from + i / 20) << "event " << i;
  }
}

class WatchDisconnectTest : public ::testing::Test {
 protected:
  WatchDisconnectTest() : server_(Hub()), calls_(server_.stub()) {}
  void SetUp() override {
    ASSERT_TRUE(calls_.Apply({testing::Topic("t0")}).ok());
    baseline_ = server_.hub().Stats().subscriptions;
  }
  size_t subscriptions() { return server_.hub().Stats().subscriptions; }
  bool AwaitSubscriptions(size_t n) {
    return PollUntil([&] { return subscriptions() == n; }, kTimeout);
  }

  testing::TestServer server_;
  AtlasCalls calls_;
  size_t baseline_ = 0;
};

TEST_F(WatchDisconnectTest, ConnectionCutMidStreamLeavesNothingBehind) {
  const uint64_t start = server_.store().CurrentRevision() + 1;
  testing::TcpProxy proxy(server_.address());
  auto proxied = v1::Atlas::NewStub(
      grpc::CreateChannel(proxy.address(), grpc::InsecureChannelCredentials()));
  // Through the proxy, on one connection: a live reader, a subscriber that
  // never reads, and one catching up from revision 1 that never reads.
  Watcher reading(*proxied, All(start));
  Watcher stalled(*proxied, All(start), /*paused=*/true);
  Watcher stalled_from_start(*proxied, All(1), /*paused=*/true);
  // Directly: a subscriber that must not notice anything.
  Watcher healthy(server_.stub(), All(start));
  ASSERT_TRUE(AwaitSubscriptions(baseline_ + 4));

  HubSampler sampler(server_.hub());
  int dropped = 0;
  Write(server_, testing::Scaled(400), [&] {
    // Mid-stream: the stalled streams have filled every buffer by now (400
    // KiB of events each) and the live one is reading.
    dropped = proxy.DropConnections();
  });
  const uint64_t last = server_.store().CurrentRevision();
  EXPECT_EQ(dropped, 1);
  EXPECT_TRUE(AwaitSubscriptions(baseline_ + 1))
      << subscriptions() << " subscriptions, want " << baseline_ + 1;
  sampler.Stop();
  EXPECT_LE(sampler.max_queue(), kBound);

  for (Watcher* cut : {&reading, &stalled, &stalled_from_start}) {
    cut->Resume();
    EXPECT_EQ(cut->WaitForEnd(kTimeout).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  ExpectAllEvents(healthy, start, last);
  // The server still serves: a new subscriber through the proxy gets
  // everything, and health checks pass.
  Watcher fresh(*proxied, All(start));
  ExpectAllEvents(fresh, start, last);
  auto health = testing::CheckHealth(server_.channel(), "");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, testing::ServingStatus::kServing);
  EXPECT_EQ(server_.hub().Stats().queued_sets, 0u);
}

TEST_F(WatchDisconnectTest, KilledClientProcessesLeaveNothingBehind) {
  const uint64_t start = server_.store().CurrentRevision() + 1;
  auto atlasctl_watch = [&] {
    auto process = e2e::Subprocess::Start(
        {e2e::AtlasctlBinary(), "--server", server_.address(), "watch",
         "--from-revision", absl::StrCat(start)});
    EXPECT_TRUE(process.ok()) << process.status();
    return process.ok() ? *std::move(process) : nullptr;
  };
  // One reads everything; one is stopped (SIGSTOP: it reads nothing) before
  // the writes, so its stream backs up and falls back to disk.
  std::unique_ptr<e2e::Subprocess> reading = atlasctl_watch();
  std::unique_ptr<e2e::Subprocess> stopped = atlasctl_watch();
  ASSERT_TRUE(reading && stopped);
  Watcher healthy(server_.stub(), All(start));
  ASSERT_TRUE(AwaitSubscriptions(baseline_ + 3));
  stopped->Signal(SIGSTOP);

  HubSampler sampler(server_.hub());
  Write(server_, testing::Scaled(400), [&] {
    EXPECT_TRUE(reading->AwaitStdout(
        [](const std::string& out) { return !out.empty(); }, kTimeout));
    reading->Kill();  // SIGKILL, mid-stream
    stopped->Kill();  // SIGKILL while stopped: never reads again
  });
  const uint64_t last = server_.store().CurrentRevision();
  EXPECT_EQ(reading->exit_code(), 128 + SIGKILL);
  EXPECT_EQ(stopped->exit_code(), 128 + SIGKILL);
  EXPECT_TRUE(AwaitSubscriptions(baseline_ + 1))
      << subscriptions() << " subscriptions, want " << baseline_ + 1;
  sampler.Stop();
  EXPECT_LE(sampler.max_queue(), kBound);
  ExpectAllEvents(healthy, start, last);
  EXPECT_EQ(server_.hub().Stats().queued_sets, 0u);
}

}  // namespace
}  // namespace atlas::services
