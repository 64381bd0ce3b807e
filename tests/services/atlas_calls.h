#pragma once

// Terse blocking calls to atlas.v1.Atlas for tests, and a check of a
// grpc::Status' code and message.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "atlas/v1/atlas_service.grpc.pb.h"

namespace atlas::testing {

template <typename Response>
struct Reply {
  grpc::Status status;
  Response response;
  bool ok() const { return status.ok(); }
};

// Passes if `status` has `code` and its message contains `substring`.
inline ::testing::AssertionResult HasStatus(const grpc::Status& status,
                                            grpc::StatusCode code,
                                            absl::string_view substring = "") {
  if (status.error_code() == code &&
      absl::StrContains(status.error_message(), substring)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "got code " << status.error_code() << " \""
         << status.error_message() << "\"; want code " << code
         << " with a message containing \"" << substring << "\"";
}

class AtlasCalls {
 public:
  explicit AtlasCalls(v1::Atlas::Stub& stub) : stub_(stub) {}

  Reply<v1::GetEntityResponse> Get(const std::string& name,
                                   uint64_t revision = 0) {
    v1::GetEntityRequest request;
    request.set_name(name);
    request.set_revision(revision);
    return Call(&v1::Atlas::Stub::GetEntity, request);
  }
  Reply<v1::ListEntitiesResponse> List(const v1::ListEntitiesRequest& request) {
    return Call(&v1::Atlas::Stub::ListEntities, request);
  }
  Reply<v1::WriteEntityResponse> Create(
      const v1::Entity& entity,
      v1::WriteView view = v1::WRITE_VIEW_UNSPECIFIED) {
    v1::CreateEntityRequest request;
    *request.mutable_entity() = entity;
    request.set_view(view);
    return Call(&v1::Atlas::Stub::CreateEntity, request);
  }
  Reply<v1::WriteEntityResponse> Update(
      const v1::Entity& entity, std::vector<std::string> mask = {},
      bool allow_missing = false,
      v1::WriteView view = v1::WRITE_VIEW_UNSPECIFIED) {
    v1::UpdateEntityRequest request;
    *request.mutable_entity() = entity;
    for (std::string& path : mask) {
      request.mutable_update_mask()->add_paths(std::move(path));
    }
    request.set_allow_missing(allow_missing);
    request.set_view(view);
    return Call(&v1::Atlas::Stub::UpdateEntity, request);
  }
  Reply<v1::WriteEntityResponse> Delete(
      const std::string& name, const std::string& etag = "",
      bool allow_missing = false,
      v1::WriteView view = v1::WRITE_VIEW_UNSPECIFIED) {
    v1::DeleteEntityRequest request;
    request.set_name(name);
    request.set_etag(etag);
    request.set_allow_missing(allow_missing);
    request.set_view(view);
    return Call(&v1::Atlas::Stub::DeleteEntity, request);
  }
  Reply<v1::ApplyEntitiesResponse> Apply(
      const std::vector<v1::Entity>& entities, bool validate_only = false,
      v1::ApplyView view = v1::APPLY_VIEW_UNSPECIFIED) {
    v1::ApplyEntitiesRequest request;
    for (const v1::Entity& entity : entities) *request.add_entities() = entity;
    request.set_validate_only(validate_only);
    request.set_view(view);
    return Call(&v1::Atlas::Stub::ApplyEntities, request);
  }
  Reply<v1::ListEntityHistoryResponse> History(
      const std::string& name, int page_size = 0,
      const std::string& page_token = "") {
    v1::ListEntityHistoryRequest request;
    request.set_name(name);
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    return Call(&v1::Atlas::Stub::ListEntityHistory, request);
  }

  // Creates `entity`, failing the test on error; returns the stored version.
  v1::Entity MustCreate(const v1::Entity& entity) {
    auto reply = Create(entity);
    EXPECT_TRUE(reply.ok())
        << entity.name() << ": " << reply.status.error_message();
    return reply.response.entity();
  }

 private:
  template <typename Request, typename Response>
  Reply<Response> Call(grpc::Status (v1::Atlas::Stub::*method)(
                           grpc::ClientContext*, const Request&, Response*),
                       const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    Reply<Response> reply;
    reply.status = (stub_.*method)(&context, request, &reply.response);
    return reply;
  }

  v1::Atlas::Stub& stub_;
};

}  // namespace atlas::testing
