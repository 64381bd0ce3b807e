// atlas.v1.Admin through the real server: a backup taken while writes run
// restores (a fresh server on it) to exactly its revision and writes on from
// the next; field validation; the admin gate. And a full disk through the
// service: writes fail with RESOURCE_EXHAUSTED, reads and watches go on, and
// writes resume once space is freed.

#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "atlas/v1/admin_service.grpc.pb.h"
#include "services/call_gate.h"
#include "services/server.h"
#include "tests/services/atlas_calls.h"
#include "tests/services/test_server.h"
#include "tests/services/watcher.h"
#include "tests/testing/disk_full_volume.h"
#include "tests/testing/entities.h"
#include "tests/testing/temp_dir.h"

namespace atlas::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;

grpc::Status Backup(grpc::Channel& channel, const std::string& directory,
                    v1::BackupResponse* response) {
  auto stub = v1::Admin::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext context;
  v1::BackupRequest request;
  request.set_directory(directory);
  return stub->Backup(&context, request, response);
}

grpc::Status Trim(grpc::Channel& channel, uint64_t oldest,
                  v1::TrimChangeLogResponse* response) {
  auto stub = v1::Admin::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext context;
  v1::TrimChangeLogRequest request;
  request.set_oldest_revision(oldest);
  return stub->TrimChangeLog(&context, request, response);
}

std::vector<v1::Entity> ListAll(AtlasCalls& calls) {
  std::vector<v1::Entity> all;
  v1::ListEntitiesRequest request;
  request.set_page_size(1000);
  while (true) {
    auto reply = calls.List(request);
    EXPECT_TRUE(reply.ok()) << reply.status.error_message();
    if (!reply.ok()) return all;
    for (const auto& e : reply.response.entities()) all.push_back(e);
    if (reply.response.next_page_token().empty()) return all;
    request.set_page_token(reply.response.next_page_token());
  }
}

std::unique_ptr<services::AtlasServer> StartOn(const std::string& data_dir) {
  services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = data_dir;
  auto started = services::AtlasServer::Start(config);
  EXPECT_TRUE(started.ok()) << started.status();
  return started.ok() ? std::move(*started) : nullptr;
}

TEST(AdminServiceTest, BackupWhileWritingRestoresToItsRevision) {
  TestServer server;
  AtlasCalls calls(server.stub());
  ASSERT_TRUE(calls.Apply({Topic("e-commerce")}).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      auto stub = server.NewStub();
      AtlasCalls mine(*stub);
      for (int i = 0; !stop.load(); ++i) {
        v1::Entity doc = Document(absl::StrCat("w", w, "-", i % 25),
                                  absl::StrCat("S/", i), {"e-commerce"});
        if (!mine.Update(doc, {}, /*allow_missing=*/true).ok()) {
          failures.fetch_add(1);
        }
      }
    });
  }
  while (server.store().CurrentRevision() < 40) std::this_thread::yield();
  TempDir backups;
  v1::BackupResponse backup;
  const grpc::Status status =
      Backup(*server.channel(), backups.Sub("b1"), &backup);
  stop.store(true);
  for (auto& t : writers) t.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(backup.directory(), backups.Sub("b1"));
  EXPECT_GE(backup.revision(), 40u);
  EXPECT_GT(backup.bytes(), 0u);
  const uint64_t revision = backup.revision();
  ASSERT_GT(server.store().CurrentRevision(), revision)
      << "the writers should have gone on after the backup";

  // Restore: a fresh server on (a copy of) the backup directory.
  std::unique_ptr<services::AtlasServer> restored =
      StartOn(backup.directory());
  ASSERT_NE(restored, nullptr);
  auto channel = grpc::CreateChannel(restored->address(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Atlas::NewStub(channel);
  AtlasCalls restored_calls(*stub);
  EXPECT_EQ(restored->store().CurrentRevision(), revision);
  // Entities equal a read of the original at the backup's revision.
  const std::vector<v1::Entity> entities = ListAll(restored_calls);
  EXPECT_GT(entities.size(), 1u);
  for (const v1::Entity& entity : entities) {
    auto then = calls.Get(entity.name(), revision);
    ASSERT_TRUE(then.ok()) << entity.name();
    EXPECT_TRUE(MessageDifferencer::Equals(then.response.entity(), entity))
        << entity.name();
  }
  // The change log is gap-free up to it and equal to the original's.
  auto restored_log = restored->store().ReadChanges(1, 1 << 20);
  auto original_log = server.store().ReadChanges(1, revision);
  ASSERT_TRUE(restored_log.ok() && original_log.ok());
  ASSERT_EQ(restored_log->sets.size(), revision);
  for (uint64_t i = 0; i < revision; ++i) {
    EXPECT_EQ(restored_log->sets[i].revision(), i + 1);
    EXPECT_TRUE(MessageDifferencer::Equals(restored_log->sets[i],
                                           original_log->sets[i]));
  }
  // Writes go on from the next revision.
  auto next = restored_calls.Create(Agreement("after-restore"));
  ASSERT_TRUE(next.ok()) << next.status.error_message();
  EXPECT_EQ(next.response.revision(), revision + 1);
  restored->Shutdown();
}

TEST(AdminServiceTest, BackupAndTrimValidateTheirFields) {
  TestServer server;
  AtlasCalls calls(server.stub());
  ASSERT_TRUE(calls.Apply({Topic("e-commerce")}).ok());
  ASSERT_TRUE(calls.Create(Agreement("tbt")).ok());
  ASSERT_TRUE(calls.Create(Agreement("gats")).ok());

  v1::BackupResponse backup;
  EXPECT_TRUE(HasStatus(Backup(*server.channel(), "", &backup),
                        grpc::StatusCode::INVALID_ARGUMENT, "directory"));
  TempDir dir;
  dir.Write("occupied", "x");
  EXPECT_TRUE(HasStatus(Backup(*server.channel(), dir.path(), &backup),
                        grpc::StatusCode::FAILED_PRECONDITION,
                        "directory: "));
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("occupied")));

  v1::TrimChangeLogResponse trimmed;
  EXPECT_TRUE(HasStatus(Trim(*server.channel(), 0, &trimmed),
                        grpc::StatusCode::INVALID_ARGUMENT, "oldest_revision"));
  EXPECT_TRUE(HasStatus(Trim(*server.channel(), 5, &trimmed),
                        grpc::StatusCode::INVALID_ARGUMENT, "oldest_revision"));
  EXPECT_EQ(server.store().OldestRevision(), 1u);
  ASSERT_TRUE(Trim(*server.channel(), 3, &trimmed).ok());
  EXPECT_EQ(trimmed.oldest_revision(), 3u);
  EXPECT_EQ(trimmed.revision(), 3u);
  EXPECT_EQ(server.store().OldestRevision(), 3u);
}

// Admits everything but administrative calls.
class NoAdminGate final : public services::CallGate {
 public:
  absl::Status Admit(grpc::CallbackServerContext&,
                     services::Access access) override {
    if (access == services::Access::kAdmin) {
      return absl::PermissionDeniedError("admin role required");
    }
    return absl::OkStatus();
  }
};

TEST(AdminServiceTest, AdminCallsPassTheGateFirst) {
  TestServerOptions options;
  options.config.gate = std::make_shared<NoAdminGate>();
  TestServer server(std::move(options));
  TempDir dir;
  v1::BackupResponse backup;
  EXPECT_TRUE(HasStatus(Backup(*server.channel(), dir.Sub("b"), &backup),
                        grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("b")));
  v1::TrimChangeLogResponse trimmed;
  EXPECT_TRUE(HasStatus(Trim(*server.channel(), 1, &trimmed),
                        grpc::StatusCode::PERMISSION_DENIED));
}

// Admits everything and counts what it was asked.
class CountingGate final : public services::CallGate {
 public:
  absl::Status Admit(grpc::CallbackServerContext&, services::Access) override {
    ++admitted_;
    return absl::OkStatus();
  }
  int admitted() const { return admitted_; }

 private:
  std::atomic<int> admitted_{0};
};

// StopServing is the first step of every shutdown (Shutdown runs the same
// code): from then on Backup and TrimChangeLog fail with UNAVAILABLE before
// the gate, and neither writes a backup nor trims.
TEST(AdminServiceTest, RefusesNewCallsOnceShutdownStarts) {
  auto gate = std::make_shared<CountingGate>();
  TestServerOptions options;
  options.config.gate = gate;
  TestServer server(std::move(options));
  AtlasCalls calls(server.stub());
  ASSERT_TRUE(calls.Apply({Topic("e-commerce")}).ok());
  ASSERT_TRUE(calls.Create(Agreement("tbt")).ok());
  TempDir dir;
  v1::BackupResponse backup;
  ASSERT_TRUE(Backup(*server.channel(), dir.Sub("before"), &backup).ok());

  server.server().StopServing();
  const int admitted = gate->admitted();
  EXPECT_TRUE(HasStatus(Backup(*server.channel(), dir.Sub("after"), &backup),
                        grpc::StatusCode::UNAVAILABLE,
                        "server is shutting down"));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("after")));
  v1::TrimChangeLogResponse trimmed;
  EXPECT_TRUE(HasStatus(Trim(*server.channel(), 3, &trimmed),
                        grpc::StatusCode::UNAVAILABLE,
                        "server is shutting down"));
  EXPECT_EQ(server.store().OldestRevision(), 1u);
  EXPECT_EQ(gate->admitted(), admitted) << "a refused call reached the gate";
}

TEST(AdminServiceTest, FullDiskRefusesWritesWhileReadsAndWatchesGoOn) {
  TempDir dir;
  DiskFullVolume volume(dir.Sub("volume"), "16m");
  if (!volume.mounted()) GTEST_SKIP() << volume.skip_reason();
  services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  storage::StoreOptions store_options;
  store_options.path = volume.path() + "/db";
  store_options.resume_interval = absl::Milliseconds(20);
  auto started = services::AtlasServer::Start(config, store_options,
                                              services::ChangeHubOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<services::AtlasServer> server = std::move(*started);
  auto channel = grpc::CreateChannel(server->address(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Atlas::NewStub(channel);
  AtlasCalls calls(*stub);
  ASSERT_TRUE(calls.Apply({Topic("e-commerce")}).ok());
  auto big = [](int i) {
    v1::Entity doc =
        Document(absl::StrCat("d", i), absl::StrCat("S/", i), {"e-commerce"});
    doc.mutable_document()->set_summary(std::string(4000, 'x'));
    return doc;
  };
  int next_doc = 0;
  for (; next_doc < 20; ++next_doc) ASSERT_TRUE(calls.Create(big(next_doc)).ok());

  v1::WatchRequest request;
  request.set_start_revision(1);
  {
    Watcher watcher(*stub, request);
    volume.Fill();
    grpc::Status failure;
    for (int i = 0; i < 5000 && failure.ok(); ++i, ++next_doc) {
      failure = calls.Create(big(next_doc)).status;
    }
    EXPECT_TRUE(HasStatus(failure, grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "disk full"));
    const uint64_t last_good = server->store().CurrentRevision();
    // Reads and the watch go on.
    EXPECT_TRUE(calls.Get("documents/d0").ok());
    EXPECT_EQ(ListAll(calls).size(), last_good);  // topic + one per doc
    EXPECT_TRUE(watcher.WaitForRevision(last_good));

    volume.Free();
    Reply<v1::WriteEntityResponse> resumed;
    resumed.status = grpc::Status(grpc::StatusCode::UNKNOWN, "not tried");
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (!resumed.ok() && std::chrono::steady_clock::now() < give_up) {
      resumed = calls.Create(Agreement("after-full"));
      if (!resumed.ok()) {
        ASSERT_EQ(resumed.status.error_code(),
                  grpc::StatusCode::RESOURCE_EXHAUSTED)
            << resumed.status.error_message();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    ASSERT_TRUE(resumed.ok()) << resumed.status.error_message();
    EXPECT_EQ(resumed.response.revision(), last_good + 1);
    // The watcher saw every revision once, in order, the new one included.
    ASSERT_TRUE(watcher.WaitForRevision(last_good + 1));
    uint64_t expected = 1;
    for (const v1::WatchEvent& event : watcher.events()) {
      if (event.change().revision() != expected) {
        EXPECT_EQ(event.change().revision(), expected - 1)
            << "events of one revision are adjacent";
        continue;
      }
      ++expected;
    }
    EXPECT_EQ(expected, last_good + 2);
  }
  server->Shutdown();
}

}  // namespace
}  // namespace atlas::testing
