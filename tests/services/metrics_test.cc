// The Prometheus endpoint of an in-process AtlasServer (--metrics_listen on
// 127.0.0.1:0), scraped over HTTP: every named series is served, and the
// series move when requests, commits and Watch streams happen.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/test_server.h"
#include "tests/services/watcher.h"
#include "tests/testing/entities.h"
#include "tests/testing/metrics_scrape.h"

namespace atlas::services {
namespace {

using testing::AtlasCalls;
using testing::Metrics;
using testing::Watcher;

constexpr char kGet[] = "/atlas.v1.Atlas/GetEntity";
constexpr char kApply[] = "/atlas.v1.Atlas/ApplyEntities";
constexpr char kWatch[] = "/atlas.v1.Atlas/Watch";

testing::TestServerOptions WithMetrics(size_t queue_bound = 1024) {
  testing::TestServerOptions options;
  options.config.metrics_listen = "127.0.0.1:0";
  options.hub.progress_interval = absl::Milliseconds(50);
  options.hub.subscriber_queue_bound = queue_bound;
  return options;
}

int MetricsPort(testing::TestServer& server) {
  const std::string& address = server.server().metrics_address();
  return std::stoi(address.substr(address.rfind(':') + 1));
}

Metrics Scrape(testing::TestServer& server) {
  auto text = testing::HttpGet("127.0.0.1", MetricsPort(server), "/metrics");
  EXPECT_TRUE(text.ok()) << text.status();
  return Metrics(text.ok() ? *text : "");
}

// Scrapes until `done` holds (true) or a generous deadline passes (false).
bool ScrapeUntil(testing::TestServer& server,
                 const std::function<bool(const Metrics&)>& done,
                 absl::Duration timeout = absl::Seconds(60)) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (done(Scrape(server))) return true;
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

TEST(MetricsTest, ServesEveryNamedSeries) {
  testing::TestServer server(WithMetrics());
  ASSERT_FALSE(server.server().metrics_address().empty());
  AtlasCalls calls(server.stub());
  ASSERT_TRUE(calls.Apply({testing::Topic("t0")}).ok());

  const Metrics metrics = Scrape(server);
  const std::vector<std::pair<std::string, std::string>> families = {
      {"atlas_grpc_requests_total", "counter"},
      {"atlas_grpc_request_duration_seconds", "histogram"},
      {"atlas_store_commits_total", "counter"},
      {"atlas_store_commit_group_size", "histogram"},
      {"atlas_store_wal_sync_seconds", "histogram"},
      {"atlas_store_revision", "gauge"},
      {"atlas_store_oldest_revision", "gauge"},
      {"atlas_store_live_data_bytes", "gauge"},
      {"atlas_store_pending_compaction_bytes", "gauge"},
      {"atlas_watch_subscriptions", "gauge"},
      {"atlas_watch_subscriptions_catching_up", "gauge"},
      {"atlas_watch_max_lag_revisions", "gauge"},
      {"atlas_watch_queued_change_sets", "gauge"},
      {"atlas_watch_events_delivered_total", "counter"},
      {"atlas_watch_dispatch_backlog", "gauge"},
      {"atlas_watch_dispatch_dropped_total", "counter"},
  };
  for (const auto& [family, type] : families) {
    EXPECT_EQ(metrics.Type(family), type) << family;
  }
  EXPECT_EQ(metrics.Value("atlas_store_revision"),
            static_cast<double>(server.store().CurrentRevision()));
  EXPECT_EQ(metrics.Value("atlas_store_oldest_revision"), 1.0);
  EXPECT_GE(metrics.ValueOr0("atlas_store_live_data_bytes"), 0.0);
  EXPECT_GE(metrics.ValueOr0("atlas_store_pending_compaction_bytes"), 0.0);
  EXPECT_EQ(metrics.Value("atlas_watch_subscriptions"), 0.0);
  EXPECT_EQ(metrics.Value("atlas_grpc_requests_total",
                          {{"method", kApply}, {"code", "OK"}}),
            1.0);
}

TEST(MetricsTest, RequestsAndCommitsMove) {
  testing::TestServer server(WithMetrics());
  AtlasCalls calls(server.stub());
  const Metrics before = Scrape(server);

  EXPECT_EQ(calls.Get("agreements/missing").status.error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(calls.Apply({testing::Topic("t0")}).ok());
  ASSERT_TRUE(
      calls.Apply({testing::Agreement("a1", {"t0"}),
                   testing::Agreement("a2", {"t0"})})
          .ok());
  ASSERT_TRUE(calls.Get("agreements/a1").ok());
  // Validation failures are counted under their code and commit nothing.
  EXPECT_EQ(calls.Apply({testing::Agreement("a3", {"nope"})})
                .status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  const Metrics after = Scrape(server);
  auto delta = [&](const std::string& name, const Metrics::Labels& labels) {
    return after.ValueOr0(name, labels) - before.ValueOr0(name, labels);
  };
  EXPECT_EQ(delta("atlas_grpc_requests_total",
                  {{"method", kGet}, {"code", "NOT_FOUND"}}),
            1);
  EXPECT_EQ(delta("atlas_grpc_requests_total",
                  {{"method", kGet}, {"code", "OK"}}),
            1);
  EXPECT_EQ(delta("atlas_grpc_requests_total",
                  {{"method", kApply}, {"code", "OK"}}),
            2);
  EXPECT_EQ(delta("atlas_grpc_requests_total",
                  {{"method", kApply}, {"code", "INVALID_ARGUMENT"}}),
            1);
  EXPECT_EQ(delta("atlas_grpc_request_duration_seconds_count",
                  {{"method", kGet}}),
            2);
  EXPECT_EQ(delta("atlas_grpc_request_duration_seconds_count",
                  {{"method", kApply}}),
            3);
  EXPECT_GT(delta("atlas_grpc_request_duration_seconds_sum",
                  {{"method", kApply}}),
            0);
  // Two revisions, each its own group (the calls were sequential).
  EXPECT_EQ(delta("atlas_store_commits_total", {}), 2);
  EXPECT_EQ(delta("atlas_store_commit_group_size_count", {}), 2);
  EXPECT_EQ(delta("atlas_store_commit_group_size_sum", {}), 2);
  EXPECT_EQ(delta("atlas_store_wal_sync_seconds_count", {}), 2);
  EXPECT_EQ(after.Value("atlas_store_revision"),
            static_cast<double>(server.store().CurrentRevision()));
}

TEST(MetricsTest, UnknownMethodsShareOneLabel) {
  testing::TestServer server(WithMetrics());
  grpc::GenericStub generic(server.channel());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  grpc::Slice slice(std::string("\n\x04name"));  // any message
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::Status status;
  atlas::Notification done;
  generic.UnaryCall(&context, "/atlas.v1.Atlas/NoSuchMethod",
                    grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  done.WaitForNotification();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);

  const Metrics metrics = Scrape(server);
  for (const Metrics::Sample& sample : metrics.samples()) {
    auto method = sample.labels.find("method");
    if (method == sample.labels.end()) continue;
    EXPECT_NE(method->second, "/atlas.v1.Atlas/NoSuchMethod")
        << "a client-chosen method name became a label";
  }
}

TEST(MetricsTest, WatchSeriesMove) {
  testing::TestServer server(WithMetrics());
  AtlasCalls calls(server.stub());
  ASSERT_TRUE(calls.Apply({testing::Topic("t0")}).ok());
  const double delivered_before =
      Scrape(server).ValueOr0("atlas_watch_events_delivered_total");

  auto watcher = std::make_unique<Watcher>(server.stub(), v1::WatchRequest());
  ASSERT_TRUE(watcher->WaitForType(v1::WatchResponse::TYPE_PROGRESS));
  EXPECT_EQ(Scrape(server).Value("atlas_watch_subscriptions"), 1.0);

  ASSERT_TRUE(calls.Apply({testing::Agreement("a1", {"t0"}),
                           testing::Agreement("a2", {"t0"})})
                  .ok());
  ASSERT_TRUE(watcher->WaitForRevision(server.store().CurrentRevision()));
  EXPECT_TRUE(ScrapeUntil(server, [&](const Metrics& m) {
    return m.ValueOr0("atlas_watch_events_delivered_total") -
               delivered_before ==
           2;
  })) << "two events written, the counter did not say so";

  watcher->Cancel();
  EXPECT_EQ(watcher->WaitForEnd().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(ScrapeUntil(server, [](const Metrics& m) {
    return m.Value("atlas_watch_subscriptions") == 0.0 &&
           m.ValueOr0("atlas_grpc_requests_total", {{"method", kWatch}}) == 1;
  })) << "the ended Watch is still open or was not counted";
  const Metrics metrics = Scrape(server);
  EXPECT_EQ(metrics.ValueOr0("atlas_grpc_request_duration_seconds_count",
                             {{"method", kWatch}}),
            1);
}

TEST(MetricsTest, StalledSubscriberShowsCatchingUpAndLag) {
  // A tiny queue: a subscriber that stops reading soon falls back to disk.
  testing::TestServer server(WithMetrics(/*queue_bound=*/2));
  AtlasCalls calls(server.stub());
  ASSERT_TRUE(calls.Apply({testing::Topic("t0")}).ok());
  v1::WatchRequest request;
  request.set_start_revision(server.store().CurrentRevision());
  Watcher stalled(server.stub(), request, /*paused=*/true);

  // Writes until the transport's buffers are full and the stream is served
  // from disk, behind the current revision.
  const std::string payload(16 * 1024, 'p');
  bool seen = false;
  for (int batch = 0; batch < 2000 && !seen; ++batch) {
    std::vector<v1::Entity> entities;
    for (int k = 0; k < 8; ++k) {
      entities.push_back(testing::Agreement(absl::StrCat("a", k), {"t0"},
                                            absl::StrCat(batch, payload)));
    }
    ASSERT_TRUE(calls.Apply(entities).ok());
    const Metrics m = Scrape(server);
    seen = m.Value("atlas_watch_subscriptions_catching_up") == 1.0 &&
           m.ValueOr0("atlas_watch_max_lag_revisions") > 0;
  }
  ASSERT_TRUE(seen) << "the stalled subscriber never showed as catching up";

  // Reading again, it catches up: nothing served from disk, no lag.
  stalled.Resume();
  ASSERT_TRUE(stalled.WaitForRevision(server.store().CurrentRevision(),
                                      absl::Seconds(120)));
  EXPECT_TRUE(ScrapeUntil(server, [](const Metrics& m) {
    return m.Value("atlas_watch_subscriptions_catching_up") == 0.0 &&
           m.Value("atlas_watch_max_lag_revisions") == 0.0;
  }));
}

TEST(MetricsTest, BadListenAddressFailsStart) {
  testing::TestServer first(WithMetrics());
  const std::string taken = first.server().metrics_address();
  testing::TempDir dir;
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = dir.Sub("db");
  config.metrics_listen = taken;
  auto second = AtlasServer::Start(config);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("--metrics_listen"),
            std::string::npos)
      << second.status();
}

}  // namespace
}  // namespace atlas::services
