// SPDX-License-Identifier: Apache-2.0
// paths/tproxy_nft.cpp: tproxy-nft (and tproxy-nft-transparent): an nft `tproxy` rule in the
// DUT's prerouting hook hands new flows to the transparent proxy; a fwmark policy route makes
// them local (paths/proxy_path.h). Kernel state, all in the DUT's namespace: nft table
// ip pathbench_tproxy; ip rule fwmark 0x1 lookup 100; local default dev lo table 100.
#include <fmt/core.h>

#include "paths/tproxy_nft.h"

#include "common/strings.h"
#include "kernel/netns.h"
#include "kernel/process.h"
#include "paths/proxy_path.h"

namespace pb {
namespace {

constexpr const char* kNftTable = "pathbench_tproxy";

struct Ruleset {
  std::string text;
  uint64_t rules = 0;
};

Ruleset nft_ruleset(const Wiring& w, bool keep_client_source, uint16_t proxy_port) {
  Ruleset r;
  r.text = fmt::format(
      "table ip {t} {{\n"
      "  chain prerouting {{\n"
      "    type filter hook prerouting priority mangle; policy accept;\n"
      // Packets of connections the proxy already has (its accepted sockets): mark for local
      // delivery, skip the tproxy lookup. TCP only: for UDP `socket` also matches an unconnected
      // socket, and the proxy's per-flow socket is briefly unconnected between its bind() to the
      // original destination and its connect() to its client; a new flow's first datagram would
      // then be marked without a socket assigned and dropped (UdpNoPorts) or land in another
      // flow. The tproxy rule's own lookup takes only connected UDP sockets, then the listener.
      "    iifname \"{cli}\" ip daddr {pfx} meta l4proto tcp socket transparent 1 meta mark set {m} counter accept comment \"established\"\n"
      "    iifname \"{cli}\" ip daddr {pfx} meta l4proto {{ tcp, udp }} tproxy to :{port} meta mark set {m} counter accept comment \"tproxy\"\n",
      fmt::arg("t", kNftTable), fmt::arg("cli", w.dut_client_dev), fmt::arg("pfx", w.server_ip + "/32"),
      fmt::arg("m", kTproxyMark), fmt::arg("port", proxy_port));
  r.rules = 2;
  if (keep_client_source) {
    // Full transparency: the server's replies are addressed to the client; those belonging to
    // the proxy's upstream sockets (transparent, bound to the client's address) are delivered
    // locally instead of being forwarded to the client.
    r.text += fmt::format(
        "    iifname \"{srv}\" meta l4proto {{ tcp, udp }} socket transparent 1 meta mark set {m} counter accept comment \"upstream-replies\"\n",
        fmt::arg("srv", w.dut_server_dev), fmt::arg("m", kTproxyMark));
    ++r.rules;
  }
  r.text += "  }\n}\n";
  return r;
}

void install_nft(UndoLog& undo, const Ruleset& rs) {
  undo.command(std::string("nft table ip ") + kNftTable, {{Item::kNftTable, 1}, {Item::kNftChain, 1}, {Item::kNftRule, rs.rules}},
               {"nft", "-f", "-"}, {"nft", "delete", "table", "ip", kNftTable}, rs.text);
}

bool is_tcp(const WorkloadOptions& w) {
  const WorkloadInfo* info = find_workload(w.name);
  return info && info->protocol == Protocol::kTcp;
}

// Every new connection's SYN (or first datagram of a flow) went through the tproxy rule.
std::string check_tproxy_rule(uint64_t tproxied, const WorkloadOptions& w, const WorkloadTotals& t) {
  const bool tcp = is_tcp(w);
  uint64_t need = tcp ? t.connections : w.flows;
  if (tproxied < need)
    return fmt::format("nft tproxy rule matched {} packets, fewer than the {} new {}", tproxied, need,
                       tcp ? "connections" : "flows");
  return {};
}

class TproxyNft : public ProxyPath {
 public:
  explicit TproxyNft(const PathContext& ctx) : ProxyPath(ctx, transparent_config(ctx.info.keeps_client_source)) {
    add_local_table(undo_);
    add_mark_rule(undo_);
    install_nft(undo_, nft_ruleset(wiring_, info_.keeps_client_source, kProxyPort));
  }
  void begin(const WorkloadOptions& w) override {
    ProxyPath::begin(w);
    nft_before_ = nft_counters(roles_.dut().netns);
  }

 protected:
  std::string check_interceptor(const WorkloadOptions& w, const WorkloadTotals& t, nlohmann::json& p) override {
    auto now = nft_counters(roles_.dut().netns);
    nlohmann::json rules = nlohmann::json::object();
    for (auto& [k, v] : now) rules[k] = v - nft_before_[k];
    p["nft_rule_packets"] = rules;
    return check_tproxy_rule(now["tproxy"] - nft_before_["tproxy"], w, t);
  }

 private:
  std::map<std::string, uint64_t> nft_before_;
};

// The same interception toward a proxy that is not ours; no proxy started here.
class TproxyNftExternal : public PathInstance {
 public:
  TproxyNftExternal(const PathContext& ctx, uint16_t port) : PathInstance(ctx), port_(port) {
    add_local_table(undo_);
    add_mark_rule(undo_);
    install_nft(undo_, nft_ruleset(wiring_, false, port));
  }
  std::string expected_server_src() const override { return wiring_.dut_server_ip; }
  void begin(const WorkloadOptions&) override { before_ = nft_counters(roles_.dut().netns); }
  nlohmann::json end(const WorkloadOptions& w, const WorkloadTotals& t) override {
    auto now = nft_counters(roles_.dut().netns);
    uint64_t tproxied = now["tproxy"] - before_["tproxy"];
    nlohmann::json p = {{"nft_tproxy_rule_packets", tproxied}, {"proxy_port", port_}, {"ok", true}};
    if (std::string why = check_tproxy_rule(tproxied, w, t); !why.empty()) {
      p["ok"] = false;
      p["reason"] = why;
    }
    return p;
  }

 private:
  uint16_t port_;
  std::map<std::string, uint64_t> before_;
};

std::optional<std::string> nft_unsupported() {
  if (auto r = need_root("CAP_NET_ADMIN for IP_TRANSPARENT and rules")) return r;
  return need_program("nft", "nftables");
}

PB_REGISTER_PATH([] {
  PathInfo p = intercepted_path("tproxy-nft", "nft tproxy rule + fwmark policy route -> transparent proxy", 20,
                                Technology::kTproxy);
  p.haproxy_reference = true;
  p.unsupported = nft_unsupported;
  p.make = [](const PathContext& c) { return std::make_unique<TproxyNft>(c); };
  return p;
});

PB_REGISTER_PATH([] {
  PathInfo p = intercepted_path("tproxy-nft-transparent",
                                "tproxy-nft with full transparency: upstream connections keep the client's source address",
                                25, Technology::kTproxy);
  p.keeps_client_source = true;
  p.in_default_suite = false;
  p.unsupported = nft_unsupported;
  p.make = [](const PathContext& c) { return std::make_unique<TproxyNft>(c); };
  return p;
});

}  // namespace

std::map<std::string, uint64_t> nft_counters(const std::string& ns) {
  std::map<std::string, uint64_t> out;
  CmdResult r = run_cmd(in_netns(ns, {"nft", "-j", "list", "table", "ip", kNftTable}));
  if (r.status != 0) return out;
  try {
    auto j = nlohmann::json::parse(r.out);
    for (auto& item : j.at("nftables")) {
      if (!item.contains("rule")) continue;
      auto& rule = item["rule"];
      std::string comment = rule.value("comment", std::string());
      for (auto& e : rule["expr"])
        if (e.contains("counter")) out[comment] += e["counter"].value("packets", uint64_t{0});
    }
  } catch (const std::exception&) {
  }
  return out;
}

std::unique_ptr<PathInstance> make_tproxy_nft_external(const PathContext& ctx, uint16_t proxy_port) {
  return std::make_unique<TproxyNftExternal>(ctx, proxy_port);
}

}  // namespace pb
