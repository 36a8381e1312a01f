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
//   static std::optional<std::string> no_reuseport(); why the proxy must listen without
//                                                      SO_REUSEPORT on this kernel (nullopt: it need not)
//   static auto* program(Skel*);                      the bpf_program to attach
//   static void attach(UndoLog&, const Roles&, bpf_program*, nlohmann::json& extra);
#pragma once
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel/bpf/skeleton.h"
#include "kernel/bpf/stats.h"
#include "paths/proxy_path.h"
#include "paths/services.h"
#include "tproxy/addr_range.h"
#include "tproxy/steer_shared.h"

namespace pb {

static_assert(sizeof(pb_steer_stats) == 8 * 8, "pb_steer_stats layout is shared with BPF");

pb_steer_stats steer_stats_of(int map_fd);
pb_service_key service_key(const Service& sv);
// Puts every service in the map (batched updates where the kernel has them); returns the bpf()
// calls it took.
uint64_t fill_services(int map_fd, const std::vector<Service>& services);
// The map's memlock from /proc/self/fdinfo (what the kernel charges for it), or null.
nlohmann::json map_memlock_bytes(int map_fd);
nlohmann::json steer_json(const pb_steer_stats& now, const pb_steer_stats& before);
// The first TCP listener and UDP socket into the program's SOCKMAP.
void fill_sockmap(UndoLog& undo, int map_fd, const std::vector<int>& tcp, const std::vector<int>& udp,
                  const std::string& what);
std::string steer_check(bool tcp, const WorkloadOptions& w, const WorkloadTotals& t, const pb_steer_stats& now,
                        const pb_steer_stats& before);

template <class Skel, class Attach>
class SteerPath;

// The registration both steerers share: an eBPF interceptor built as SteerPath<Skel, Attach>.
template <class Skel, class Attach>
PathInfo steer_path_info(std::string name, std::string description, int order) {
  PathInfo p = intercepted_path(std::move(name), std::move(description), order, Technology::kEbpf);
  p.max_services = 1000000;
  p.unsupported = [] { return need_root("CAP_NET_ADMIN and CAP_BPF for the program and the proxy's sockets"); };
  p.make = [](const PathContext& c) { return std::make_unique<SteerPath<Skel, Attach>>(c); };
  return p;
}

template <class Skel, class Attach>
class SteerPath : public ProxyPath {
 public:
  explicit SteerPath(const PathContext& ctx) : ProxyPath(ctx, listener_config()) {
    extra_["proxy_listener"] = listener_record();
    add_local_table(undo_);
    add_iif_rules(undo_, wiring_);
    const std::string what = Attach::kProofKey;
    skel_ = bpf::load_into<Skel>(undo_, what, [&](Skel* s) {
      tproxy::Ipv4Range r = tproxy::Ipv4Range::parse(intercept_prefix());
      s->rodata->dst_net = r.net;
      s->rodata->dst_mask = r.mask;
      s->rodata->port_min = 1;
      s->rodata->port_max = 65535;
      // --services: the program looks destinations up in a hash map sized to them.
      s->rodata->use_services = settings_.services ? 1 : 0;
      if (settings_.services)
        bpf_map__set_max_entries(s->maps.services, static_cast<__u32>(settings_.services + settings_.update_samples + 16));
    });
    fill_sockmap(undo_, bpf_map__fd(skel_->maps.proxy_socks), tcp_listener_fds(), proxy_->udp_socket_fds(), what);
    if (settings_.services) {
      const int fd = bpf_map__fd(skel_->maps.services);
      auto services = make_services(settings_, wiring_);
      uint64_t calls = 0;
      uint64_t ns = time_ns([&] { calls = fill_services(fd, services); });
      undo_.note(what + ": " + std::to_string(services.size()) + " services into the services map",
                 {{Item::kBpfMapEntry, services.size()}}, calls);
      scale_ = scale_record(settings_, ns, false);
      scale_["memory_bytes"] = map_memlock_bytes(fd);
      scale_["memory_source"] = "the services map's memlock (/proc/self/fdinfo)";
      scale_["install_calls"] = calls;
    }
    Attach::attach(undo_, roles_, Attach::program(skel_), extra_);
  }

  void measure_updates() override {
    // One more service and back: one bpf() map update and one delete, the way a BPF control
    // plane (Cilium's agent) changes its service table.
    const int fd = bpf_map__fd(skel_->maps.services);
    auto key = [&](unsigned i) { return service_key(extra_service(settings_.services, i)); };
    scale_["update"] = time_updates(
        settings_.update_samples,
        [&](unsigned i) {
          pb_service_key k = key(i);
          uint8_t v = 1;
          if (bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST)) throw BpfError(errno_msg("services map: add", errno));
        },
        [&](unsigned i) {
          pb_service_key k = key(i);
          if (bpf_map_delete_elem(fd, &k)) throw BpfError(errno_msg("services map: delete", errno));
        });
    scale_["update"]["how"] = "bpf_map_update_elem / bpf_map_delete_elem on the services hash map (one bpf() each)";
  }

  void path_begin(const WorkloadInfo& wl, const WorkloadOptions& w) override {
    ProxyPath::path_begin(wl, w);
    before_stats_ = steer_stats_of(bpf_map__fd(skel_->maps.steer_stats));
  }

 protected:
  std::string check_interceptor(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t,
                                nlohmann::json& p) override {
    auto now = steer_stats_of(bpf_map__fd(skel_->maps.steer_stats));
    p[Attach::kProofKey] = steer_json(now, before_stats_);
    for (auto& [k, v] : extra_.items()) p[k] = v;
    return steer_check(tcp(wl), w, t, now, before_stats_);
  }

 private:
  static tproxy::Config listener_config() {
    tproxy::Config c = transparent_config();
    c.reuseport = !Attach::no_reuseport();
    return c;
  }
  // What ran, for the proof and the report: the reuseport group, or the single listener and why.
  static nlohmann::json listener_record() {
    auto why = Attach::no_reuseport();
    if (!why) return {{"reuseport", true}};
    return {{"reuseport", false}, {"reason", *why + ": one listener without SO_REUSEPORT"}};
  }
  Skel* skel_ = nullptr;  // owned by the undo log
  pb_steer_stats before_stats_{};
  nlohmann::json extra_ = nlohmann::json::object();
};

}  // namespace pb
