#include "clients/bench/completion_queues.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace atlas::bench {

CompletionQueues::CompletionQueues(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    queues_.push_back(std::make_unique<grpc::CompletionQueue>());
  }
  for (auto& queue : queues_) {
    threads_.emplace_back([q = queue.get()] {
      void* tag = nullptr;
      bool ok = false;
      while (q->Next(&tag, &ok)) static_cast<Tag*>(tag)->Run(ok);
    });
  }
}

CompletionQueues::~CompletionQueues() {
  for (auto& queue : queues_) queue->Shutdown();
  for (auto& thread : threads_) thread.join();
}

std::vector<std::shared_ptr<grpc::Channel>> OpenChannels(
    const std::string& server, int count, const std::string& purpose,
    const ChannelSecurity& security) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < std::max(1, count); ++i) {
    grpc::ChannelArguments arguments;
    // Channels with equal arguments would share one connection.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    arguments.SetString("atlas_bench.channel", absl::StrCat(purpose, "-", i));
    arguments.SetMaxReceiveMessageSize(-1);
    arguments.SetMaxSendMessageSize(-1);
    // Reconnect quickly: `ready` times how soon a restarted server answers.
    // (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: it is also the connect
    // timeout, which a busy server needs.)
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 5);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
    channels.push_back(CreateSecuredChannel(server, arguments, security));
  }
  return channels;
}

}  // namespace atlas::bench
