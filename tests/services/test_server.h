#pragma once

// An in-process Atlas server for service tests: the real AtlasServer (store,
// change hub, AtlasService, health, reflection) listening on 127.0.0.1:0 over
// a real Store in a fresh temporary directory, plus a channel and a stub.
//
//   atlas::testing::TestServer server;                 // defaults
//   atlas::testing::TestServer server(hub_options);    // custom hub
//   server.stub().GetEntity(&context, request, &response);
//   server.store().CurrentRevision(); server.hub().subscription_count();

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "atlas/v1/atlas_service.grpc.pb.h"
#include "services/change_hub.h"
#include "services/server.h"
#include "storage/store.h"
#include "tests/testing/temp_dir.h"

namespace atlas::testing {

struct TestServerOptions {
  services::ChangeHubOptions hub;
  // `path` is set by TestServer. WAL syncs are off: tests that need crash
  // durability belong with the storage tests.
  storage::StoreOptions store = [] {
    storage::StoreOptions options;
    options.sync_writes = false;
    return options;
  }();
  // `listen` and `data_dir` are set by TestServer.
  services::ServerConfig config;
};

class TestServer {
 public:
  TestServer() : TestServer(TestServerOptions()) {}
  explicit TestServer(services::ChangeHubOptions hub_options)
      : TestServer(WithHub(std::move(hub_options))) {}
  explicit TestServer(TestServerOptions options) {
    options.config.listen = "127.0.0.1:0";
    options.config.data_dir = data_dir();
    options.store.path = data_dir();
    auto started = services::AtlasServer::Start(
        options.config, std::move(options.store), std::move(options.hub));
    if (!started.ok()) {
      ADD_FAILURE() << "starting the test server: " << started.status();
      std::abort();
    }
    server_ = std::move(*started);
    channel_ = grpc::CreateChannel(server_->address(),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Atlas::NewStub(channel_);
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  services::AtlasServer& server() { return *server_; }
  // Valid until Shutdown().
  storage::Store& store() { return server_->store(); }
  services::ChangeHub& hub() { return server_->hub(); }
  const std::string& address() const { return server_->address(); }
  // The store's directory; it outlives Shutdown() (reopen it to inspect).
  std::string data_dir() const { return dir_.Sub("db"); }

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  v1::Atlas::Stub& stub() { return *stub_; }
  // A stub on a fresh channel (a separate connection).
  std::unique_ptr<v1::Atlas::Stub> NewStub() const {
    return v1::Atlas::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  void Shutdown(absl::Duration grace = absl::Seconds(5)) {
    server_->Shutdown(absl::Now() + grace);
  }

 private:
  static TestServerOptions WithHub(services::ChangeHubOptions hub) {
    TestServerOptions options;
    options.hub = std::move(hub);
    return options;
  }

  TempDir dir_;
  std::unique_ptr<services::AtlasServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Atlas::Stub> stub_;
};

}  // namespace atlas::testing
