// SPDX-License-Identifier: Apache-2.0
#include <fmt/core.h>

#include "paths/steer.h"

#include <arpa/inet.h>

#include <algorithm>

#include "common/fs.h"
#include "common/strings.h"

namespace pb {

pb_service_key service_key(const Service& sv) {
  pb_service_key k{};
  inet_pton(AF_INET, sv.ip.c_str(), &k.addr);
  k.port = htons(sv.port);
  return k;
}

uint64_t fill_services(int map_fd, const std::vector<Service>& services) {
  std::vector<pb_service_key> keys;
  keys.reserve(services.size());
  for (auto& sv : services) keys.push_back(service_key(sv));
  std::vector<uint8_t> vals(keys.size(), 1);
  uint64_t calls = 0;
  constexpr size_t kBatch = 4096;
  for (size_t off = 0; off < keys.size(); off += kBatch) {
    __u32 n = static_cast<__u32>(std::min(kBatch, keys.size() - off));
    ++calls;
    if (bpf_map_update_batch(map_fd, &keys[off], &vals[off], &n, nullptr) == 0 && n == std::min(kBatch, keys.size() - off))
      continue;
    // No batch operations for this map type on this kernel: one update per entry.
    for (size_t i = off; i < off + std::min(kBatch, keys.size() - off); ++i) {
      ++calls;
      if (bpf_map_update_elem(map_fd, &keys[i], &vals[i], BPF_ANY))
        throw BpfError(errno_msg("services map: add " + services[i].ip + ":" + std::to_string(services[i].port), errno));
    }
  }
  return calls;
}

nlohmann::json map_memlock_bytes(int map_fd) {
  auto text = read_file("/proc/self/fdinfo/" + std::to_string(map_fd));
  if (!text) return nullptr;
  for (auto& line : split(*text, '\n'))
    if (line.rfind("memlock:", 0) == 0) return std::strtoull(trim(line.substr(8)).c_str(), nullptr, 10);
  return nullptr;
}

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

void fill_sockmap(UndoLog& undo, int map_fd, const std::vector<int>& tcp, const std::vector<int>& udp,
                  const std::string& what) {
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
