#pragma once

// AtlasTarget: the benchmark Target over atlas.v1.Atlas. A write is
// UpdateEntity(allow_missing) of documents/bench-<space><key>, a document
// whose summary is the payload; a read is GetEntity; a batch is
// ApplyEntities; a watch is Watch with a topic or name-prefix filter.

#include <memory>
#include <vector>

#include "atlas/v1/atlas_service.grpc.pb.h"
#include "clients/bench/completion_queues.h"
#include "clients/bench/target.h"

namespace atlas::bench {

class AtlasTarget final : public Target {
 public:
  AtlasTarget(const TargetOptions& options, CompletionQueues& queues);

  const char* name() const override { return "atlas"; }
  absl::Status Setup(int topics) override;
  void Write(int lane, const WriteOp& op, OpDone done) override;
  void Read(int lane, char space, uint64_t key, OpDone done) override;
  RawCall WriteCall(const WriteOp& op) const override;
  RawCall ReadCall(char space, uint64_t key) const override;
  bool SupportsApply() const override { return true; }
  void Apply(int lane, const std::vector<WriteOp>& ops, OpDone done) override;
  std::unique_ptr<WatchStream> Watch(int lane,
                                     const std::vector<WatchSpec>& specs,
                                     WatchCallbacks callbacks) override;
  RawStream WatchCall(const std::vector<WatchSpec>& specs,
                      const WatchCallbacks& callbacks) const override;

 private:
  v1::Atlas::Stub& StubFor(int lane) {
    return *stubs_[static_cast<size_t>(lane) % stubs_.size()];
  }

  const TargetOptions options_;
  CompletionQueues& queues_;
  std::vector<std::unique_ptr<v1::Atlas::Stub>> stubs_;
  std::vector<std::unique_ptr<v1::Atlas::Stub>> watch_stubs_;
};

}  // namespace atlas::bench
