// SPDX-License-Identifier: Apache-2.0
// paths/tproxy_nft.h: nft TPROXY interception, also toward a proxy that is not pathbench's
// (peers mode: HAProxy with `bind ... transparent`, peers/haproxy.h).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "paths/path.h"

namespace pb {

// tproxy-nft's interception (nft table, fwmark rule, local route) toward a proxy listening on
// proxy_port in the DUT that this process does not run. Its proof: the tproxy rule's counter.
std::unique_ptr<PathInstance> make_tproxy_nft_external(const PathContext& ctx, uint16_t proxy_port);

// Packet counts of the rules of pathbench's nft table in namespace ns, by rule comment.
std::map<std::string, uint64_t> nft_counters(const std::string& ns);

}  // namespace pb
