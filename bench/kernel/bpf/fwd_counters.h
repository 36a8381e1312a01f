// SPDX-License-Identifier: Apache-2.0
// kernel/bpf/fwd_counters.h: the forwarding programs' per-CPU counters (pb_shared.h: one
// pb_counter per ingress slot x reason), named and summed for proofs.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "pb_shared.h"

namespace pb::bpf {

static_assert(PB_FWD_COUNTERS == 27, "3 slots x 9 reasons");

// Names of the forwarding reasons (pb_fwd_reason), for JSON: "forwarded", "pass_ttl", ...
const char* fwd_reason_name(uint32_t reason);
// {"forwarded": {"packets": n, "bytes": b}, "pass_ttl_expired": ...} of one slot's counters (all
// slots when slot < 0), minus `before` (same size) when given; reasons that did not move are
// left out, "forwarded" is always there.
nlohmann::json fwd_counters_json(const std::vector<pb_counter>& now,
                                 const std::vector<pb_counter>* before, int slot);
uint64_t fwd_packets(const std::vector<pb_counter>& now, const std::vector<pb_counter>* before,
                     uint32_t reason, int slot = -1);

}  // namespace pb::bpf
