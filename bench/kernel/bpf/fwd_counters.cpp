// SPDX-License-Identifier: Apache-2.0
#include "kernel/bpf/fwd_counters.h"

namespace pb::bpf {

const char* fwd_reason_name(uint32_t reason) {
  switch (reason) {
    case PB_FWD_FORWARDED: return "forwarded";
    case PB_FWD_PASS_NOT_IPV4: return "pass_not_ipv4";
    case PB_FWD_PASS_TTL: return "pass_ttl_expired";
    case PB_FWD_PASS_NO_ROUTE: return "pass_no_route";
    case PB_FWD_PASS_NO_NEIGH: return "pass_no_neighbour";
    case PB_FWD_PASS_FRAG: return "pass_frag_needed";
    case PB_FWD_PASS_NO_TXPORT: return "pass_not_in_devmap";
    case PB_FWD_PASS_MALFORMED: return "pass_malformed";
    case PB_FWD_DROP_REDIRECT: return "dropped_redirect_failed";
    default: return "unknown";
  }
}

uint64_t fwd_packets(const std::vector<pb_counter>& now, const std::vector<pb_counter>* before,
                     uint32_t reason, int slot) {
  uint64_t sum = 0;
  for (int s = 0; s < PB_SLOTS; ++s) {
    if (slot >= 0 && s != slot) continue;
    size_t k = static_cast<size_t>(s) * PB_FWD_REASONS + reason;
    if (k >= now.size()) continue;
    sum += now[k].packets - (before && k < before->size() ? (*before)[k].packets : 0);
  }
  return sum;
}

nlohmann::json fwd_counters_json(const std::vector<pb_counter>& now,
                                 const std::vector<pb_counter>* before, int slot) {
  nlohmann::json j = nlohmann::json::object();
  for (uint32_t r = 0; r < PB_FWD_REASONS; ++r) {
    uint64_t pk = 0, by = 0;
    for (int s = 0; s < PB_SLOTS; ++s) {
      if (slot >= 0 && s != slot) continue;
      size_t k = static_cast<size_t>(s) * PB_FWD_REASONS + r;
      if (k >= now.size()) continue;
      pk += now[k].packets - (before && k < before->size() ? (*before)[k].packets : 0);
      by += now[k].bytes - (before && k < before->size() ? (*before)[k].bytes : 0);
    }
    if (pk || r == PB_FWD_FORWARDED) j[fwd_reason_name(r)] = {{"packets", pk}, {"bytes", by}};
  }
  return j;
}

}  // namespace pb::bpf
