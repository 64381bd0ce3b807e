#pragma once

// Base fixture for the in-process service tests: a TestServer, terse calls,
// and the topics most test entities refer to.

#include <gtest/gtest.h>

#include "tests/services/atlas_calls.h"
#include "tests/services/test_server.h"
#include "tests/testing/entities.h"

namespace atlas::testing {

class ServiceTest : public ::testing::Test {
 protected:
  // Creates topics/cybersecurity, topics/e-commerce and
  // topics/digital-standards in one revision.
  void SeedTopics() {
    auto reply = calls_.Apply({Topic("cybersecurity"), Topic("e-commerce"),
                               Topic("digital-standards")});
    ASSERT_TRUE(reply.ok()) << reply.status.error_message();
  }
  uint64_t Revision() { return server_.store().CurrentRevision(); }

  TestServer server_;
  AtlasCalls calls_{server_.stub()};
};

}  // namespace atlas::testing
