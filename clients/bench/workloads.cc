#include "clients/bench/workloads.h"

namespace atlas::bench {

const std::vector<std::string>& WorkloadNames() {
  static const auto* names = new std::vector<std::string>{
      "write", "apply", "read", "fanout", "idle", "catchup", "ready"};
  return *names;
}

WorkloadResult RunWorkload(const std::string& workload,
                           const BenchConfig& config, Target& target) {
  if (workload == "write") return RunWrite(config, target);
  if (workload == "apply") return RunApply(config, target);
  if (workload == "read") return RunRead(config, target);
  if (workload == "fanout") return RunFanout(config, target);
  if (workload == "idle") return RunIdle(config, target);
  if (workload == "catchup") return RunCatchup(config, target);
  return RunReady(config, target);
}

}  // namespace atlas::bench
