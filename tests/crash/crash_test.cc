// The crash harness (see README.md): the real atlas-server under a durable
// write load from several clients and several Watch subscribers, killed
// with SIGKILL at random moments and restarted on the same data directory.
// After every restart, through the public API only:
//   - the change log (Watch from revision 1) is every revision 1..R once;
//   - replaying it gives exactly the entities ListEntities lists at R, and
//     ListEntityHistory agrees with it;
//   - every acknowledged write is in it at its revision with the
//     acknowledged content, every write in flight at a kill is in it at most
//     once and whole, and nothing else is;
//   - every subscriber, resuming from the last revision it was told of,
//     received exactly the events its filter selects, once each, in order.
//
// Cycles and seed: --cycles=N --seed=S, or ATLAS_CRASH_CYCLES and
// ATLAS_CRASH_SEED; 10 cycles and a fixed seed by default. The seed drives
// the kill moments and every writer's choices, and is printed first.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/status_macros.h"
#include "tests/crash/change_log.h"
#include "tests/crash/resuming_subscriber.h"
#include "tests/crash/write_load.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/temp_dir.h"

namespace atlas::crash {
namespace {

struct CrashConfig {
  int cycles = 10;
  uint64_t seed = 20261127;
};

CrashConfig& Config() {
  static CrashConfig config;
  return config;
}

constexpr int kWriters = 4;
// Long enough for a loaded machine; the harness waits this long only when
// something is wrong.
constexpr absl::Duration kCatchUpTimeout = absl::Seconds(120);

// How long the load runs before a kill: mostly 0.1-1.5 s, sometimes at once
// (while subscribers are still catching up after the restart).
absl::Duration KillDelay(std::mt19937_64& random) {
  if (random() % 5 == 0) return absl::Milliseconds(random() % 100);
  return absl::Milliseconds(100 + random() % 1400);
}

v1::WatchRequest Watch(uint64_t start_revision) {
  v1::WatchRequest request;
  request.set_start_revision(start_revision);
  return request;
}

std::vector<std::unique_ptr<ResumingSubscriber>> StartSubscribers(
    const std::string& address) {
  std::vector<std::unique_ptr<ResumingSubscriber>> subscribers;
  auto add = [&](const std::string& label, v1::WatchRequest request,
                 absl::Duration pause = absl::ZeroDuration()) {
    subscribers.push_back(std::make_unique<ResumingSubscriber>(
        label, address, std::move(request), pause));
  };
  add("everything", Watch(1));
  v1::WatchRequest topic = Watch(1);
  topic.mutable_filter()->add_topics("t1");
  add("topic t1", topic);
  v1::WatchRequest documents = Watch(1);
  documents.mutable_filter()->add_kinds("document");
  add("documents", documents);
  v1::WatchRequest prefixes = Watch(1);
  prefixes.mutable_filter()->add_name_prefixes("agreements/w0-");
  prefixes.mutable_filter()->add_name_prefixes("documents/w1-");
  add("agreements of w0, documents of w1", prefixes);
  v1::WatchRequest types = Watch(1);
  types.mutable_filter()->add_change_types(v1::CHANGE_TYPE_CREATED);
  types.mutable_filter()->add_change_types(v1::CHANGE_TYPE_DELETED);
  add("creations and deletions", types);
  // Falls behind its in-memory queue (the server runs with a small bound)
  // and is served from the change log on disk.
  add("slow reader", Watch(1), absl::Milliseconds(5));
  add("from now on", Watch(0));
  return subscribers;
}

absl::StatusOr<uint64_t> CreateTopics(v1::Atlas::Stub& stub) {
  v1::ApplyEntitiesRequest request;
  for (const std::string& slug : LoadTopics()) {
    v1::Entity* topic = request.add_entities();
    topic->set_name(absl::StrCat("topics/", slug));
    topic->set_title(slug);
    topic->mutable_topic()->set_basket("baskets/economic");
  }
  v1::ApplyEntitiesResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  context.set_wait_for_ready(true);
  const grpc::Status status = stub.ApplyEntities(&context, request, &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("creating the topics: ", status.error_message()));
  }
  return response.revision();
}

// Everything checked after a restart (see the top of the file); the
// revision verified.
absl::StatusOr<uint64_t> VerifyRestart(
    v1::Atlas::Stub& stub, WriteLoad& load,
    std::vector<std::unique_ptr<ResumingSubscriber>>& subscribers,
    std::mt19937_64& random) {
  ATLAS_ASSIGN_OR_RETURN(const uint64_t revision, CurrentRevision(stub));
  ATLAS_ASSIGN_OR_RETURN(const ChangeLog log, ChangeLog::Read(stub, revision));
  ATLAS_ASSIGN_OR_RETURN(const EntityMap replayed, log.Replay());
  ATLAS_ASSIGN_OR_RETURN(const EntityMap listed, ListAll(stub, revision));
  ATLAS_RETURN_IF_ERROR(CompareEntities(replayed, listed));
  ATLAS_RETURN_IF_ERROR(load.Verify(log, replayed));
  ATLAS_RETURN_IF_ERROR(CheckHistory(
      stub, log, load.Names(static_cast<int>(random() % load.writers()))));
  for (auto& subscriber : subscribers) {
    if (!subscriber->WaitForRevision(revision, kCatchUpTimeout)) {
      return absl::DeadlineExceededError(
          absl::StrCat("subscriber ", subscriber->label(),
                       " did not reach revision ", revision));
    }
    ATLAS_RETURN_IF_ERROR(subscriber->Check(log));
  }
  ATLAS_RETURN_IF_ERROR(load.AwaitConnected(kCatchUpTimeout));
  return revision;
}

// A free loopback port below the ephemeral range: every restart reuses the
// port, and one from the ephemeral range could meanwhile become the local
// port of some client connection on a busy machine. 0 (any) if none found.
int StablePort() {
  int low = 32768, high = 60999;
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d %d", &low, &high) != 2) low = 32768;
    std::fclose(f);
  }
  std::random_device device;
  for (int attempt = 0; attempt < 100 && low > 10001; ++attempt) {
    const int port = 10000 + static_cast<int>(device() % (low - 10000));
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    const bool free =
        fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address),
                          sizeof(address)) == 0;
    if (fd >= 0) ::close(fd);
    if (free) return port;
  }
  return 0;
}

std::string Tail(const std::string& text) {
  return text.size() <= 6000 ? text : text.substr(text.size() - 6000);
}

TEST(CrashTest, SigkillLosesNoAcknowledgedWriteAndWatchersResumeExactlyOnce) {
  const CrashConfig config = Config();
  std::cout << "[crash] seed " << config.seed << ", " << config.cycles
            << " cycles; replay with --seed=" << config.seed
            << " (or ATLAS_CRASH_SEED=" << config.seed << ")" << std::endl;
  const absl::Time began = absl::Now();
  atlas::testing::TempDir dir;
  e2e::ServerOptions options;
  options.data_dir = dir.Sub("data");
  options.extra_args = {"--subscriber_queue_bound", "16"};
  options.port = StablePort();
  auto started = e2e::ServerProcess::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<e2e::ServerProcess> server = *std::move(started);
  options.port = server->port();  // every restart reuses it
  const std::string address = server->address();
  std::unique_ptr<v1::Atlas::Stub> stub =
      v1::Atlas::NewStub(NewChannel(address));

  WriteLoad load(kWriters, config.seed, address);
  absl::StatusOr<uint64_t> topics = CreateTopics(*stub);
  ASSERT_TRUE(topics.ok()) << topics.status();
  load.AddSetupRevision(*topics);
  auto subscribers = StartSubscribers(address);
  for (auto& subscriber : subscribers) {
    ASSERT_TRUE(subscriber->WaitForRevision(*topics, kCatchUpTimeout))
        << subscriber->label();
  }

  std::mt19937_64 random(config.seed);
  for (int cycle = 1; cycle <= config.cycles; ++cycle) {
    load.Resume();
    const absl::Duration delay = KillDelay(random);
    absl::SleepFor(delay);
    load.BeginKill();
    server->process().Kill();
    const std::optional<e2e::ExitCode> code = server->process().exit_code();
    ASSERT_EQ(code, 128 + SIGKILL)
        << "atlas-server ended before the kill (" << e2e::DescribeExit(code)
        << "); stderr:\n"
        << Tail(server->process().Stderr());
    load.AwaitIdle();
    server.reset();
    started = e2e::ServerProcess::Start(options);
    ASSERT_TRUE(started.ok()) << "restart after cycle " << cycle << ": "
                              << started.status();
    server = *std::move(started);
    const absl::StatusOr<uint64_t> verified =
        VerifyRestart(*stub, load, subscribers, random);
    ASSERT_TRUE(verified.ok())
        << "cycle " << cycle << " (seed " << config.seed << "): "
        << verified.status() << "\natlas-server stderr:\n"
        << Tail(server->process().Stderr());
    const std::vector<std::string> errors = load.Errors();
    ASSERT_TRUE(errors.empty()) << errors.size() << " write errors, first: "
                                << errors.front();
    const WriteLoad::Counts counts = load.counts();
    std::cout << "[crash] cycle " << cycle << "/" << config.cycles
              << ": killed after " << absl::FormatDuration(delay)
              << "; verified revisions 1-" << *verified << "; writes "
              << counts.acknowledged << " acknowledged, "
              << counts.unknown_present << "+" << counts.unknown_absent
              << " in flight at a kill (present+absent); "
              << subscribers.size() << " subscribers exact" << std::endl;
  }
  int streams = 0;
  for (auto& subscriber : subscribers) streams += subscriber->streams();
  subscribers.clear();
  EXPECT_EQ(server->Terminate(e2e::kStartTimeout), 0)
      << Tail(server->process().Stderr());
  std::cout << "[crash] " << config.cycles << " cycles passed in "
            << absl::FormatDuration(absl::Trunc(absl::Now() - began,
                                                absl::Milliseconds(100)))
            << " (" << streams << " subscriber streams)" << std::endl;
}

// "--name=value" in argv: its value, removed from argv.
std::optional<std::string> TakeFlag(int& argc, char** argv,
                                    const std::string& name) {
  const std::string prefix = absl::StrCat("--", name, "=");
  for (int i = 1; i < argc; ++i) {
    if (absl::StartsWith(argv[i], prefix)) {
      std::string value = std::string(argv[i]).substr(prefix.size());
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      return value;
    }
  }
  return std::nullopt;
}

bool ReadConfig(int& argc, char** argv, CrashConfig& config) {
  std::optional<std::string> cycles, seed;
  if (const char* env = std::getenv("ATLAS_CRASH_CYCLES")) cycles = env;
  if (const char* env = std::getenv("ATLAS_CRASH_SEED")) seed = env;
  if (auto flag = TakeFlag(argc, argv, "cycles")) cycles = flag;
  if (auto flag = TakeFlag(argc, argv, "seed")) seed = flag;
  if (cycles && (!absl::SimpleAtoi(*cycles, &config.cycles) ||
                 config.cycles < 1)) {
    std::cerr << "cycles: want a positive integer, got \"" << *cycles
              << "\"\n";
    return false;
  }
  if (seed && !absl::SimpleAtoi(*seed, &config.seed)) {
    std::cerr << "seed: want an unsigned integer, got \"" << *seed << "\"\n";
    return false;
  }
  if (argc > 1) {
    std::cerr << "unknown argument " << argv[1]
              << " (flags: --cycles=N --seed=S and GoogleTest's)\n";
    return false;
  }
  return true;
}

}  // namespace
}  // namespace atlas::crash

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!atlas::crash::ReadConfig(argc, argv, atlas::crash::Config())) return 2;
  return RUN_ALL_TESTS();
}
