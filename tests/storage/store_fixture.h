#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "storage/store.h"
#include "tests/testing/entities.h"
#include "tests/testing/temp_dir.h"

namespace atlas::storage {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  StoreOptions Options() {
    StoreOptions options;
    options.path = dir_.Sub("db");
    options.now = [this] { return now_; };
    return options;
  }

  void Reopen(StoreOptions options) {
    store_.reset();
    auto opened = Store::Open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
  }
  void Reopen() { Reopen(Options()); }

  // Commits puts of `entities`, failing the test on error.
  CommitResult Put(std::vector<v1::Entity> entities) {
    CommitRequest request;
    for (auto& e : entities) request.mutations.push_back(Mutation::Put(e));
    auto result = store_->Commit(std::move(request));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : CommitResult{};
  }
  CommitResult Put(v1::Entity entity) { return Put(std::vector{entity}); }

  absl::StatusOr<CommitResult> Try(Mutation m) {
    CommitRequest request;
    request.mutations.push_back(std::move(m));
    return store_->Commit(std::move(request));
  }

  void SeedTopics() {
    Put({testing::Topic("cybersecurity"), testing::Topic("digital-standards"),
         testing::Topic("e-commerce")});
  }

  testing::TempDir dir_;
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  std::unique_ptr<Store> store_;
};

}  // namespace atlas::storage
