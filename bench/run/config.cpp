// SPDX-License-Identifier: Apache-2.0
#include "run/config.h"

#include "common/testhook.h"
#include "roles/topology.h"
#include "run/runstate.h"
#include "workloads/workload.h"

namespace pb {

nlohmann::json RunConfig::to_json() const {
  nlohmann::json j = {{"paths", paths},
                      {"workloads", workloads},
                      {"duration_s", duration_s},
                      {"warmup_s", warmup_s},
                      {"cooldown_s", cooldown_s},
                      {"repetitions", repetitions},
                      {"flows", flows},
                      {"rate_pps", rate_pps},
                      {"rate_rps", rate_rps > 0 ? nlohmann::json(rate_rps) : nlohmann::json("closed loop")},
                      {"stall_timeout_s", stall_timeout_s},
                      {"pinning", pinning},
                      {"tcp_cc", tcp_cc.empty() ? nlohmann::json("default") : nlohmann::json(tcp_cc)},
                      {"tcp_buffer_bytes", tcp_buffer_bytes ? nlohmann::json(tcp_buffer_bytes) : nlohmann::json("autotuning")},
                      {"responder", responder},
                      {"order", order},
                      {"seed", seed},
                      {"proxy_workers", proxy_workers},
                      {"proxy_cpus", proxy_cpus.empty() ? nlohmann::json("pinning policy") : nlohmann::json(proxy_cpus)},
                      {"proxy_pipe_bytes", proxy_pipe_bytes ? nlohmann::json(proxy_pipe_bytes) : nlohmann::json("default")},
                      {"proxy_model", proxy_model},
                      {"bpf_stats", bpf_stats},
                      {"tc_attach", tc_attach},
                      {"kernel_profile_ns", kernel_profile_ns ? nlohmann::json(kernel_profile_ns) : nlohmann::json("off")},
                      {"inject_cost_ns_per_packet", inject_cost_ns ? nlohmann::json(*inject_cost_ns) : nlohmann::json(nullptr)},
                      {"out", out_dir},
                      {"run_id", run_id},
                      {"proof_capture", proof_capture},
                      {"peers", peers},
                      {"hosts_file", hosts_file.empty() ? nlohmann::json(nullptr) : nlohmann::json(hosts_file)},
                      {"fresh_topology_per_path", true},
                      {"verbose", verbose},
                      // Where pathbench found its pieces and left its state: PATHBENCH_TOPOLOGY_SCRIPT,
                      // PATHBENCH_STATE_DIR (environment knobs, recorded here), and the test hook.
                      {"topology_script", topology_script()},
                      {"state_dir", state_dir()},
                      {"fault", fault_hook().empty() ? nlohmann::json(nullptr) : nlohmann::json(fault_hook())}};
  j["payload_bytes"] = payload_bytes.empty() ? nlohmann::json("default") : nlohmann::json(payload_bytes);
  j["response_bytes"] = response_bytes ? nlohmann::json(*response_bytes) : nlohmann::json("= payload");
  bool http = false;
  for (auto& w : workloads)
    if (const WorkloadInfo* i = find_workload(w)) http = http || i->application == Application::kHttp;
  if (!response_bytes && http) j["response_bytes"] = "= payload (http workloads: their default_response_bytes)";
  j["http_routes"] = http ? nlohmann::json(http_routes) : nlohmann::json(nullptr);
  j["services"] = services.empty() ? nlohmann::json(nullptr) : nlohmann::json(services);
  j["gateway"] = gateways.empty() ? nlohmann::json("none") : nlohmann::json(gateways);
  j["observe"] = observes.empty() ? nlohmann::json("none") : nlohmann::json(observes);
  if (!services.empty()) {
    j["match_position"] = match_position;
    j["update_samples"] = update_samples;
  }
  j["adaptive"] = adaptive.target_ci_pct > 0
                      ? nlohmann::json{{"target_ci_pct", adaptive.target_ci_pct},
                                       {"budget_s", adaptive.budget_s},
                                       {"max_repetitions", adaptive.max_repetitions},
                                       {"min_repetitions", repetitions}}
                      : nlohmann::json(nullptr);
  return j;
}

WorkloadOptions for_workload(const RunConfig& cfg, const WorkloadInfo& w, WorkloadOptions o) {
  if (!cfg.response_bytes && w.default_response) o.response_bytes = *w.default_response;
  if (w.open_loop) o.rate_rps = cfg.rate_rps;
  if (w.application == Application::kHttp) o.http_routes = cfg.http_routes;
  return o;
}

}  // namespace pb
