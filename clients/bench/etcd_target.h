#pragma once

// EtcdTarget: the benchmark Target over etcd's v3 gRPC API (declared in
// proto/etcd/etcd_kv.proto). A write is KV.Put of /bench/<space>/<key> (or
// /bench/<space>/t<topic>/<key>), a read a Range of one key (serializable by
// default), a watch one Watch stream with one prefix watcher. etcd acks a
// Put only after its WAL is fsynced, like Atlas.

#include <memory>
#include <vector>

#include "clients/bench/completion_queues.h"
#include "clients/bench/target.h"
#include "etcd/etcd_kv.grpc.pb.h"

namespace atlas::bench {

class EtcdTarget final : public Target {
 public:
  EtcdTarget(const TargetOptions& options, CompletionQueues& queues);

  const char* name() const override { return "etcd"; }
  absl::Status Setup(int topics) override;
  void Write(int lane, const WriteOp& op, OpDone done) override;
  void Read(int lane, char space, uint64_t key, OpDone done) override;
  RawCall WriteCall(const WriteOp& op) const override;
  RawCall ReadCall(char space, uint64_t key) const override;
  bool SupportsApply() const override { return false; }
  void Apply(int lane, const std::vector<WriteOp>& ops, OpDone done) override;
  std::unique_ptr<WatchStream> Watch(int lane,
                                     const std::vector<WatchSpec>& specs,
                                     WatchCallbacks callbacks) override;
  RawStream WatchCall(const std::vector<WatchSpec>& specs,
                      const WatchCallbacks& callbacks) const override;

 private:
  etcdserverpb::KV::Stub& StubFor(int lane) {
    return *kv_stubs_[static_cast<size_t>(lane) % kv_stubs_.size()];
  }

  etcdserverpb::RangeRequest RangeFor(char space, uint64_t key) const;

  const TargetOptions options_;
  CompletionQueues& queues_;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> kv_stubs_;
  std::vector<std::unique_ptr<etcdserverpb::Watch::Stub>> watch_stubs_;
};

}  // namespace atlas::bench
