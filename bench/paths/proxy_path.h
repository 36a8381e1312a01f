// SPDX-License-Identifier: Apache-2.0
// paths/proxy_path.h: what the five ways to reach pathbench's transparent proxy (tproxy/) share:
// the proxy itself, started in the DUT role, and its proof; plus the local-delivery policy
// routing every interception needs.
//
//   cli 198.18.1.1 ──▶ dut0 ─┬─ proxy-plain:  client connects to 198.18.1.254:<port> (no
//                            │                interception); proxy connects to 198.18.2.2:<port>
//                            ├─ tproxy-nft:   nft `tproxy to :15001` + fwmark rule ─┐
//                            ├─ tproxy-ipt:   iptables -j TPROXY (xt_TPROXY)       ─┤
//                            ├─ sk-lookup:    policy route local + BPF sk_lookup   ─┼─▶ proxy
//                            └─ tc-sk-assign: policy route local + TC bpf_sk_assign ─┘   (IP_TRANSPARENT)
//                                                                                 │
//                                 dut1 198.18.2.254 ──▶ srv 198.18.2.2:<port>  ◀──┘ new connection
//
// The proxy runs as worker threads of this process, created inside the DUT role's namespace (its
// sockets live there), configured by --proxy-workers, --proxy-cpus, --proxy-pipe-bytes and the
// run's --tcp-cc (all recorded in every proof). It is the first thing in the undo log, so at
// teardown the interception goes first and nothing is steered to a closing socket.
#pragma once
#include <memory>
#include <string>

#include "paths/gateway.h"
#include "paths/path.h"
#include "tproxy/proxy.h"

namespace pb {

constexpr uint16_t kProxyPort = 15001;

class ProxyPath : public PathInstance {
 public:
  ProxyPath(const PathContext& ctx, tproxy::Config cfg);
  ~ProxyPath() override;

  void path_begin(const WorkloadInfo&, const WorkloadOptions&) override;
  nlohmann::json path_end(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t) override;
  // With --gateway haproxy: HTTP workloads only (an L7 gateway speaks HTTP; the rest would measure
  // pathbench's proxy, which then carries only the proof probe's UDP).
  std::optional<std::string> unsupported_workload(const WorkloadInfo& w) const override;
  // The sockets TCP is steered to: the gateway's listeners, else the proxy's.
  std::vector<int> tcp_listener_fds() const;

 protected:
  // Per-path evidence (rule or program counters) into p; returns a failure reason or "".
  virtual std::string check_interceptor(const WorkloadInfo&, const WorkloadOptions&, const WorkloadTotals&,
                                        nlohmann::json&) {
    return {};
  }
  // A transparent proxy listening on the wildcard address (TPROXY and the BPF steerers hand it
  // packets for any address).
  static tproxy::Config transparent_config(bool keep_client_source = false);
  // What was intercepted: the server's address (every port), "198.18.2.2/32".
  std::string intercept_prefix() const { return wiring_.server_ip + "/32"; }
  // New flows the interceptor must have seen for a workload: every TCP connection, or each
  // UDP flow once.
  static uint64_t new_flows(const WorkloadOptions& w, const WorkloadTotals& t, bool tcp) {
    return tcp ? t.connections : w.flows;
  }
  static bool tcp(const WorkloadInfo& wl) { return wl.protocol == Protocol::kTcp; }

  tproxy::Proxy* proxy_ = nullptr;  // owned by the undo log
  tproxy::CounterSnapshot before_;
  // --gateway haproxy: it takes TCP (proxy_ keeps UDP, for the proof probe); owned by the undo log.
  HaproxyGateway* gateway_ = nullptr;
  GatewayCounters gateway_before_;
  uint64_t gateway_cpu0_ = 0;
  // --observe gateway-log: the gateway's per-request log, counted (paths/observer.h).
  std::unique_ptr<ApiObserver> gateway_log_;
};

// The local-delivery policy routing every interception needs (docs/gotchas.md "TPROXY needs a
// local route"): TPROXY and the BPF programs hand the packet to a local socket, but routing must
// first decide "local".
//   by mark (netfilter paths):  ip rule fwmark 0x1 lookup 100
//   by match (BPF paths, no netfilter to set a mark): ip rule iif dut0 to <server> ipproto
//       tcp|udp lookup 100. Why not `ip route add local <server> table local`: that would make
//       the server's address local for the DUT's own sockets too, and the proxy's upstream
//       connection to the server would loop back into the DUT. The iif match applies only to
//       packets arriving from the client side; the proxy's own traffic (iif lo) and the
//       server's replies (iif dut1) are routed normally.
//   table 100: local default dev lo
constexpr const char* kTproxyMark = "0x1";
void add_local_table(UndoLog& undo);
void add_mark_rule(UndoLog& undo);
void add_iif_rules(UndoLog& undo, const Wiring& w);

}  // namespace pb
