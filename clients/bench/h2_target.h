#pragma once

// H2Target: another target whose writes, reads and watches go through
// H2Client instead of gRPC's client stack (atlas-bench --client h2), as the
// same messages on the wire; setup and applies stay with the wrapped target.

#include <memory>
#include <utility>
#include <vector>

#include "clients/bench/h2_client.h"
#include "clients/bench/target.h"

namespace atlas::bench {

class H2Target final : public Target {
 public:
  // `unary` carries writes and reads, `watch` the streams.
  H2Target(std::unique_ptr<Target> inner, std::unique_ptr<H2Client> unary,
           std::unique_ptr<H2Client> watch)
      : inner_(std::move(inner)),
        unary_(std::move(unary)),
        watch_(std::move(watch)) {}

  const char* name() const override { return inner_->name(); }
  absl::Status Setup(int topics) override { return inner_->Setup(topics); }
  void Write(int lane, const WriteOp& op, OpDone done) override {
    unary_->Call(lane, inner_->WriteCall(op), std::move(done));
  }
  void Read(int lane, char space, uint64_t key, OpDone done) override {
    unary_->Call(lane, inner_->ReadCall(space, key), std::move(done));
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
    return watch_->Stream(lane, inner_->WatchCall(specs, callbacks),
                          std::move(callbacks.on_done));
  }
  RawStream WatchCall(const std::vector<WatchSpec>& specs,
                      const WatchCallbacks& callbacks) const override {
    return inner_->WatchCall(specs, callbacks);
  }

 private:
  std::unique_ptr<Target> inner_;
  std::unique_ptr<H2Client> unary_;
  std::unique_ptr<H2Client> watch_;
};

}  // namespace atlas::bench
