// registry.cpp: the paths and workloads this build knows, in canonical order (the order of
// DESIGN.md's table), each added by its own source file's hook.
#include <algorithm>

#include "core/path.h"
#include "core/workload.h"

namespace pb {

namespace {
template <typename T>
void order_by(std::vector<T>& v, const std::vector<std::string>& canon) {
  auto rank = [&](const std::string& n) {
    auto it = std::find(canon.begin(), canon.end(), n);
    return it == canon.end() ? canon.size() : static_cast<size_t>(it - canon.begin());
  };
  std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) { return rank(a.name) < rank(b.name); });
}
}  // namespace

const std::vector<PathInfo>& all_paths() {
  static const std::vector<PathInfo> v = [] {
    std::vector<PathInfo> p;
    add_baseline_path(p);
    add_proxy_paths(p);
    add_forwarding_paths(p);
    order_by(p, {"baseline", "proxy-plain", "tproxy-nft", "tproxy-ipt", "sk-lookup", "tc-sk-assign",
                 "tc-redirect", "xdp-redirect", "tproxy-nft-transparent"});
    return p;
  }();
  return v;
}

const PathInfo* find_path(const std::string& name) {
  for (auto& p : all_paths())
    if (p.name == name) return &p;
  return nullptr;
}

const std::vector<WorkloadInfo>& all_workloads() {
  static const std::vector<WorkloadInfo> v = [] {
    std::vector<WorkloadInfo> w;
    add_socket_workloads(w);
    add_xdp_workloads(w);
    order_by(w, {"tcp_stream", "tcp_rr", "tcp_crr", "udp_rr", "udp_pps", "xdp_pps"});
    return w;
  }();
  return v;
}

const WorkloadInfo* find_workload(const std::string& name) {
  for (auto& w : all_workloads())
    if (w.name == name) return &w;
  return nullptr;
}

nlohmann::json WorkloadOptions::to_json() const {
  return {{"payload_bytes", payload_bytes}, {"response_bytes", response_bytes},
          {"flows", flows},                 {"duration_s", duration_s},
          {"warmup_s", warmup_s},           {"cooldown_s", cooldown_s},
          {"rate_pps", rate_pps},           {"port", port},
          {"stall_timeout_s", stall_timeout_s}, {"client_cpu", client_cpu},
          {"server_cpu", server_cpu}};
}

nlohmann::json WorkloadTotals::to_json() const {
  return {{"transactions", transactions},   {"connections", connections},
          {"bytes_sent", bytes_sent},       {"packets_sent", packets_sent},
          {"packets_received", packets_received}};
}

}  // namespace pb
