#pragma once

// Clients of the standard gRPC services (health checking, server reflection)
// as a tool like grpc_health_probe or grpcurl would call them. Their
// protos are not shipped with Debian's gRPC, so the few fields used are
// encoded and decoded by field number through a generic stub.

#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace atlas::testing {
namespace probes_internal {

inline grpc::ByteBuffer ToBuffer(
    const google::protobuf::UnknownFieldSet& fields) {
  std::string bytes;
  fields.SerializeToString(&bytes);
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

inline std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

inline absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// Waits for the completion-queue event tagged `tag`.
inline bool Await(grpc::CompletionQueue& cq, void* tag) {
  void* got = nullptr;
  bool ok = false;
  while (cq.Next(&got, &ok)) {
    if (got == tag) return ok;
  }
  return false;
}

// Shuts `cq` down and drains it (a completion queue must be empty when
// destroyed).
inline void Close(grpc::CompletionQueue& cq) {
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace probes_internal

// grpc.health.v1.HealthCheckResponse.ServingStatus.
enum class ServingStatus { kUnknown = 0, kServing = 1, kNotServing = 2 };

// grpc.health.v1.Health/Check for `service` ("" = the whole server).
inline absl::StatusOr<ServingStatus> CheckHealth(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  namespace internal = probes_internal;
  google::protobuf::UnknownFieldSet request;
  request.AddLengthDelimited(1, service);  // service
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto call = stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check",
                                    internal::ToBuffer(request), &cq);
  call->StartCall();
  grpc::ByteBuffer reply;
  grpc::Status status;
  int tag = 0;
  call->Finish(&reply, &status, &tag);
  internal::Await(cq, &tag);
  internal::Close(cq);
  if (!status.ok()) return internal::FromGrpc(status);
  google::protobuf::UnknownFieldSet response;
  if (!response.ParseFromString(internal::FromBuffer(reply))) {
    return absl::DataLossError("unparsable HealthCheckResponse");
  }
  for (int i = 0; i < response.field_count(); ++i) {
    if (response.field(i).number() == 1) {  // status
      return static_cast<ServingStatus>(response.field(i).varint());
    }
  }
  return ServingStatus::kUnknown;
}

// The services listed by grpc.reflection.v1alpha.ServerReflection.
inline absl::StatusOr<std::vector<std::string>> ListReflectedServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  namespace internal = probes_internal;
  google::protobuf::UnknownFieldSet request;
  request.AddLengthDelimited(7, "*");  // list_services
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  int start = 0, write = 0, read = 0, writes_done = 0, finish = 0;
  auto call = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  call->StartCall(&start);
  internal::Await(cq, &start);
  call->Write(internal::ToBuffer(request), &write);
  internal::Await(cq, &write);
  grpc::ByteBuffer reply;
  call->Read(&reply, &read);
  const bool got_reply = internal::Await(cq, &read);
  call->WritesDone(&writes_done);
  internal::Await(cq, &writes_done);
  grpc::Status status;
  call->Finish(&status, &finish);
  internal::Await(cq, &finish);
  internal::Close(cq);
  if (!status.ok()) return internal::FromGrpc(status);
  if (!got_reply) return absl::UnavailableError("no reflection response");

  google::protobuf::UnknownFieldSet response;
  if (!response.ParseFromString(internal::FromBuffer(reply))) {
    return absl::DataLossError("unparsable ServerReflectionResponse");
  }
  std::vector<std::string> names;
  for (int i = 0; i < response.field_count(); ++i) {
    if (response.field(i).number() != 6) continue;  // list_services_response
    google::protobuf::UnknownFieldSet list;
    list.ParseFromString(response.field(i).length_delimited());
    for (int j = 0; j < list.field_count(); ++j) {
      if (list.field(j).number() != 1) continue;  // service
      google::protobuf::UnknownFieldSet service;
      service.ParseFromString(list.field(j).length_delimited());
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) {  // name
          names.push_back(service.field(k).length_delimited());
        }
      }
    }
  }
  return names;
}

}  // namespace atlas::testing
