// SPDX-License-Identifier: Apache-2.0
// paths/steer.h: the two BPF steering paths (sk-lookup, tc-sk-assign) are one template over
// what differs between them — their skeleton and where the program attaches. Both: the
// local-delivery policy routes (paths/proxy_path.h), the program loaded with the interception
// scope in rodata (bpf/pb_steer.bpf.h), the proxy's first TCP listener and UDP socket in its
// SOCKMAP (the rest of each SO_REUSEPORT group is reached by the kernel's reuseport selection
// after the assignment), per-CPU counters checked against the generator's totals.
//
// An Attach policy provides:
//   static constexpr const char* kProofKey;           proof key of the program's counters
//   static auto* program(Skel*);                      the bpf_program to attach
//   static void attach(UndoLog&, const Roles&, bpf_program*, nlohmann::json& extra);
#pragma once
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/stats.h"
#include "paths/proxy_path.h"
#include "tproxy/addr_range.h"
#include "tproxy/steer_shared.h"

namespace pb {

static_assert(sizeof(pb_steer_stats) == 8 * 8, "pb_steer_stats layout is shared with BPF");

pb_steer_stats steer_stats_of(int map_fd);
nlohmann::json steer_json(const pb_steer_stats& now, const pb_steer_stats& before);
void fill_sockmap(UndoLog& undo, int map_fd, const tproxy::Proxy& proxy, const std::string& what);
std::string steer_check(bool tcp, const WorkloadOptions& w, const WorkloadTotals& t, const pb_steer_stats& now,
                        const pb_steer_stats& before);

template <class Skel, class Attach>
class SteerPath;

// The registration both steerers share: an eBPF interceptor built as SteerPath<Skel, Attach>.
template <class Skel, class Attach>
PathInfo steer_path_info(std::string name, std::string description, int order) {
  PathInfo p = intercepted_path(std::move(name), std::move(description), order, Technology::kEbpf);
  p.unsupported = [] { return need_root("CAP_NET_ADMIN and CAP_BPF for the program and the proxy's sockets"); };
  p.make = [](const PathContext& c) { return std::make_unique<SteerPath<Skel, Attach>>(c); };
  return p;
}

template <class Skel, class Attach>
class SteerPath : public ProxyPath {
 public:
  explicit SteerPath(const PathContext& ctx) : ProxyPath(ctx, transparent_config()) {
    add_local_table(undo_);
    add_iif_rules(undo_, wiring_);
    const std::string what = Attach::kProofKey;
    skel_ = bpf::load_into<Skel>(undo_, what, [&](Skel* s) {
      tproxy::Ipv4Range r = tproxy::Ipv4Range::parse(intercept_prefix());
      s->rodata->dst_net = r.net;
      s->rodata->dst_mask = r.mask;
      s->rodata->port_min = 1;
      s->rodata->port_max = 65535;
    });
    fill_sockmap(undo_, bpf_map__fd(skel_->maps.proxy_socks), *proxy_, what);
    Attach::attach(undo_, roles_, Attach::program(skel_), extra_);
  }

  void begin(const WorkloadOptions& w) override {
    ProxyPath::begin(w);
    before_stats_ = steer_stats_of(bpf_map__fd(skel_->maps.steer_stats));
  }

 protected:
  std::string check_interceptor(const WorkloadOptions& w, const WorkloadTotals& t, nlohmann::json& p) override {
    auto now = steer_stats_of(bpf_map__fd(skel_->maps.steer_stats));
    p[Attach::kProofKey] = steer_json(now, before_stats_);
    for (auto& [k, v] : extra_.items()) p[k] = v;
    return steer_check(tcp(w), w, t, now, before_stats_);
  }

 private:
  Skel* skel_ = nullptr;  // owned by the undo log
  pb_steer_stats before_stats_{};
  nlohmann::json extra_ = nlohmann::json::object();
};

}  // namespace pb
