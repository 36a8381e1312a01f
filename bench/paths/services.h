// SPDX-License-Identifier: Apache-2.0
// paths/services.h: the scale axis (--services N): the intercepted destination address:port pairs
// an intercepting path installs, each path in its natural way (a rule per service in a chain,
// elements of a set, entries of a BPF map). Traffic uses one of them — the server's address on the
// service port — placed first, in the middle or last (--match-position); the others are decoys
// in 198.19.0.0/16 that no packet is ever sent to (198.18.0.0/15, RFC 2544, like everything
// pathbench addresses). After setup the path times adding and removing one more service, the
// control-plane cost an operator pays per change.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "paths/path.h"

namespace pb {

struct Service {
  std::string ip;
  uint16_t port = 0;
  bool real = false;
};

// The N services of an instance (settings.services > 0), the real one at its position.
std::vector<Service> make_services(const PathSettings& s, const Wiring& w);
size_t real_service_index(uint64_t n, MatchPosition p);
// A decoy that is not among the first `n` (for timing updates): index n + i.
Service extra_service(uint64_t n, unsigned i);

// Times `samples` cycles of add(i) then remove(i); {"add_ns": {p50, p90, n}, "remove_ns": {...}}.
nlohmann::json time_updates(unsigned samples, const std::function<void(unsigned)>& add,
                            const std::function<void(unsigned)>& remove);

// scale json skeleton for an instance: {"services", "match_position", "install_ns", ...}.
nlohmann::json scale_record(const PathSettings& s, uint64_t install_ns, bool ordered);

// Wall time of fn in ns.
uint64_t time_ns(const std::function<void()>& fn);

}  // namespace pb
