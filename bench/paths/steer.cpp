// SPDX-License-Identifier: Apache-2.0
#include <fmt/core.h>

#include "paths/steer.h"

namespace pb {

pb_steer_stats steer_stats_of(int map_fd) {
  pb_steer_stats s{};
  if (map_fd < 0) return s;
  auto v = bpf::read_percpu_record(map_fd, sizeof(pb_steer_stats) / sizeof(uint64_t));
  std::memcpy(&s, v.data(), sizeof s);
  return s;
}

nlohmann::json steer_json(const pb_steer_stats& a, const pb_steer_stats& b) {
  return {{"runs", a.runs - b.runs},
          {"in_scope", a.in_scope - b.in_scope},
          {"tcp_assigned", a.tcp_assigned - b.tcp_assigned},
          {"udp_assigned", a.udp_assigned - b.udp_assigned},
          {"established", a.established - b.established},
          {"no_socket", a.no_socket - b.no_socket},
          {"assign_failed", a.assign_failed - b.assign_failed},
          {"not_syn", a.not_syn - b.not_syn}};
}

void fill_sockmap(UndoLog& undo, int map_fd, const tproxy::Proxy& proxy, const std::string& what) {
  auto tcp = proxy.tcp_listener_fds();
  auto udp = proxy.udp_socket_fds();
  uint64_t n = 0;
  for (auto [slot, fds] : {std::pair{uint32_t{PB_STEER_SLOT_TCP}, tcp}, std::pair{uint32_t{PB_STEER_SLOT_UDP}, udp}}) {
    if (fds.empty()) continue;
    uint64_t fd = static_cast<uint64_t>(fds.front());
    if (bpf_map_update_elem(map_fd, &slot, &fd, BPF_ANY) != 0)
      throw BpfError(errno_msg(what + ": proxy_socks[" + std::to_string(slot) + "] = proxy socket", errno));
    ++n;
  }
  // The entries go with the map (and the sockets with the proxy).
  undo.note(what + ": proxy sockets into proxy_socks", {{Item::kBpfMapEntry, n}}, n);
}

std::string steer_check(bool tcp, const WorkloadOptions& w, const WorkloadTotals& t, const pb_steer_stats& now,
                        const pb_steer_stats& before) {
  if (tcp) {
    uint64_t assigned = now.tcp_assigned - before.tcp_assigned;
    if (assigned < t.connections)
      return fmt::format("the BPF program assigned {} SYNs to the proxy, fewer than the {} connections", assigned,
                         t.connections);
  } else {
    uint64_t assigned = now.udp_assigned - before.udp_assigned;
    if (assigned < w.flows)
      return fmt::format("the BPF program assigned {} datagrams to the proxy, fewer than the {} flows", assigned,
                         w.flows);
  }
  if (uint64_t f = now.assign_failed - before.assign_failed) return fmt::format("bpf_sk_assign failed {} times", f);
  return {};
}

}  // namespace pb
