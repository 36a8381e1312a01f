// config.h: the resolved options of one run. Every field is echoed into run.json ("options") so a
// run can be reproduced from its file.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pb {

struct RunConfig {
  std::vector<std::string> paths;      // resolved names, canonical order
  std::vector<std::string> workloads;  // resolved names, canonical order
  double duration_s = 2;
  double warmup_s = 0.5;
  double cooldown_s = 0.2;
  unsigned repetitions = 3;
  std::optional<uint32_t> payload_bytes;   // overrides each workload's default
  std::optional<uint32_t> response_bytes;  // rr/crr response (default: = request)
  uint32_t flows = 1;
  uint32_t threads = 1;
  uint64_t rate_pps = 0;
  double stall_timeout_s = 2;
  std::string pinning = "one-cpu";  // resolved: one-cpu | split | none
  std::string out_dir;           // resolved results directory
  std::string out_parent = "results";
  std::string latest_link;
  std::string run_id;            // also in namespace names
  bool proof_capture = true;     // libpcap proof probe per path and repetition
  bool peers = false;             // also measure with iperf3 / sockperf / wrk (reference rows)
  bool verbose = false;
  nlohmann::json to_json() const;
};

}  // namespace pb
