// HTTP/2 keepalive. A Watch client whose network vanishes without its
// connection being closed (a TCP proxy frozen under it: no FIN, no RST, no
// more bytes either way) loses its subscription once the server's keepalive
// ping goes unanswered, instead of holding it until TCP gives up; a healthy
// idle client answers the pings and keeps its stream. And the policy for
// clients' own pings: a client pinging as often as min_client_ping_interval
// allows keeps its connection, one pinging faster is cut off.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <utility>

#include "services/server.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/test_server.h"
#include "tests/services/watcher.h"
#include "tests/testing/entities.h"
#include "tests/testing/tcp_proxy.h"
#include "tests/testing/temp_dir.h"

namespace atlas::services {
namespace {

using testing::AtlasCalls;
using testing::TestServer;
using testing::TestServerOptions;
using testing::Watcher;

// Generous: only reached when something is wrong.
constexpr absl::Duration kTimeout = absl::Seconds(10);

// An HTTP/2 PING frame: a 9-byte header and 8 bytes of payload.
constexpr uint64_t kPingFrameBytes = 17;

// Polls `done` every 10 ms until it holds or `timeout` passes.
bool PollUntil(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

// Idle streams stay silent (no PROGRESS), so nothing but pings crosses an
// idle connection.
TestServerOptions Quiet() {
  TestServerOptions options;
  options.hub.progress_interval = absl::Hours(1);
  return options;
}

// The server pings after 200 ms without reads and gives up 200 ms later.
TestServerOptions ShortKeepalive() {
  TestServerOptions options = Quiet();
  options.config.keepalive_time = absl::Milliseconds(200);
  options.config.keepalive_timeout = absl::Milliseconds(200);
  return options;
}

v1::WatchRequest FromNow() { return v1::WatchRequest(); }

size_t Subscriptions(TestServer& server) {
  return server.hub().Stats().subscriptions;
}

std::unique_ptr<v1::Atlas::Stub> StubVia(
    const std::string& address,
    grpc::ChannelArguments arguments = grpc::ChannelArguments()) {
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::Atlas::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), arguments));
}

TEST(KeepaliveTest, FrozenConnectionLosesItsWatch) {
  TestServer server(ShortKeepalive());
  testing::TcpProxy proxy(server.address());
  auto stub = StubVia(proxy.address());
  Watcher watcher(*stub, FromNow());
  ASSERT_TRUE(watcher.WaitForType(v1::WatchResponse::TYPE_PROGRESS));
  ASSERT_EQ(Subscriptions(server), 1u);

  proxy.Freeze();
  // Without keepalive the server would wait for TCP (minutes to hours).
  EXPECT_TRUE(PollUntil([&] { return Subscriptions(server) == 0; }, kTimeout))
      << "the frozen client still holds its Watch";

  // The server goes on serving everyone else.
  AtlasCalls calls(server.stub());
  EXPECT_TRUE(calls.Apply({testing::Topic("after-freeze")}).ok());
}

TEST(KeepaliveTest, HealthyIdleWatchSurvivesKeepalivePeriods) {
  TestServerOptions options = ShortKeepalive();
  // Pings every 200 ms as above, but a whole second for the answer: on a
  // loaded test machine a 200 ms stall of the client is not a lost network.
  options.config.keepalive_timeout = absl::Seconds(1);
  TestServer server(std::move(options));
  testing::TcpProxy proxy(server.address());
  auto stub = StubVia(proxy.address());
  Watcher watcher(*stub, FromNow());
  ASSERT_TRUE(watcher.WaitForType(v1::WatchResponse::TYPE_PROGRESS));
  const uint64_t before = proxy.BytesFromServer();

  // Many keepalive periods with nothing else to send.
  absl::SleepFor(absl::Seconds(4));
  // The server did ping, a few times at least (else this test would prove
  // nothing; the odd frame it sends anyway is no more than one ping's
  // worth)...
  const uint64_t sent = proxy.BytesFromServer() - before;
  EXPECT_GE(sent, 5 * kPingFrameBytes) << "few or no keepalive pings: " << sent;
  // ...and the answered pings left the stream alone.
  EXPECT_EQ(Subscriptions(server), 1u);
  AtlasCalls calls(server.stub());
  auto reply = calls.Apply({testing::Topic("after-idle")});
  ASSERT_TRUE(reply.ok()) << reply.status.error_message();
  EXPECT_TRUE(
      watcher.WaitForRevision(server.store().CurrentRevision(), kTimeout));
}

// A client that pings every 200 ms (gRPC sends at most one a second) on an
// idle connection, for ~5 pings: more than the 2 strikes allowed if pings
// came too often.
grpc::ChannelArguments EagerPinger() {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 200);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  arguments.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return arguments;
}

TEST(KeepaliveTest, ClientPingingAsOftenAsAllowedKeepsItsWatch) {
  TestServerOptions options = Quiet();
  options.config.min_client_ping_interval = absl::Milliseconds(100);
  TestServer server(std::move(options));
  testing::TcpProxy proxy(server.address());
  auto stub = StubVia(proxy.address(), EagerPinger());
  Watcher watcher(*stub, FromNow());
  ASSERT_TRUE(watcher.WaitForType(v1::WatchResponse::TYPE_PROGRESS));
  const uint64_t before = proxy.BytesFromServer();

  absl::SleepFor(absl::Seconds(5));
  // The server acknowledged the client's pings (else this proves nothing)...
  EXPECT_GE(proxy.BytesFromServer() - before, 3 * kPingFrameBytes);
  // ...and kept the stream.
  EXPECT_EQ(Subscriptions(server), 1u);
  AtlasCalls calls(server.stub());
  ASSERT_TRUE(calls.Apply({testing::Topic("after-pings")}).ok());
  EXPECT_TRUE(
      watcher.WaitForRevision(server.store().CurrentRevision(), kTimeout));
}

TEST(KeepaliveTest, ClientPingingTooOftenIsCutOff) {
  // The default policy: one ping per 10 s on a connection without data.
  TestServer server(Quiet());
  auto stub = StubVia(server.address(), EagerPinger());
  Watcher watcher(*stub, FromNow());
  ASSERT_TRUE(watcher.WaitForType(v1::WatchResponse::TYPE_PROGRESS));

  // GOAWAY ENHANCE_YOUR_CALM after the third strike ends the stream.
  const grpc::Status status = watcher.WaitForEnd(absl::Seconds(20));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_TRUE(PollUntil([&] { return Subscriptions(server) == 0; }, kTimeout));
}

TEST(KeepaliveTest, ANonPositiveKeepaliveStopsTheStart) {
  testing::TempDir dir;
  for (const bool timeout : {false, true}) {
    ServerConfig config;
    config.listen = "127.0.0.1:0";
    config.data_dir = dir.Sub("db");
    (timeout ? config.keepalive_timeout : config.keepalive_time) =
        absl::ZeroDuration();
    auto started = AtlasServer::Start(config);
    ASSERT_FALSE(started.ok());
    EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(started.status().message().find(timeout ? "--keepalive_timeout:"
                                                      : "--keepalive_time:"),
              std::string::npos)
        << started.status();
  }
}

}  // namespace
}  // namespace atlas::services
