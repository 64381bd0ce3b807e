#pragma once

// H2Target: another target whose writes and reads go through H2UnaryClient
// instead of gRPC's client stack (atlas-bench --unary_client h2), as the
// same bytes on the wire; setup, applies and watches stay with the wrapped
// target.

#include <memory>
#include <utility>
#include <vector>

#include "clients/bench/h2_unary_client.h"
#include "clients/bench/target.h"

namespace atlas::bench {

class H2Target final : public Target {
 public:
  H2Target(std::unique_ptr<Target> inner, std::unique_ptr<H2UnaryClient> client)
      : inner_(std::move(inner)), client_(std::move(client)) {}

  const char* name() const override { return inner_->name(); }
  absl::Status Setup(int topics) override { return inner_->Setup(topics); }
  void Write(int lane, const WriteOp& op, OpDone done) override {
    client_->Call(lane, inner_->WriteCall(op), std::move(done));
  }
  void Read(int lane, char space, uint64_t key, OpDone done) override {
    client_->Call(lane, inner_->ReadCall(space, key), std::move(done));
  }
  RawCall WriteCall(const WriteOp& op) const override {
    return inner_->WriteCall(op);
  }
  RawCall ReadCall(char space, uint64_t key) const override {
    return inner_->ReadCall(space, key);
  }
  bool SupportsApply() const override { return inner_->SupportsApply(); }
  void Apply(int lane, const std::vector<WriteOp>& ops, OpDone done) override {
    inner_->Apply(lane, ops, std::move(done));
  }
  std::unique_ptr<WatchStream> Watch(int lane,
                                     const std::vector<WatchSpec>& specs,
                                     WatchCallbacks callbacks) override {
    return inner_->Watch(lane, specs, std::move(callbacks));
  }

 private:
  std::unique_ptr<Target> inner_;
  std::unique_ptr<H2UnaryClient> client_;
};

}  // namespace atlas::bench
