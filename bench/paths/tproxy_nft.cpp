// SPDX-License-Identifier: Apache-2.0
// paths/tproxy_nft.cpp: tproxy-nft, tproxy-nft-set and tproxy-nft-transparent: an nft `tproxy`
// rule in the DUT's prerouting hook hands new flows to the transparent proxy; a fwmark policy
// route makes them local (paths/proxy_path.h). With --services, tproxy-nft walks a chain of one
// rule per service, tproxy-nft-set makes one lookup in a hashed set of address . port elements;
// tproxy-nft-transparent keeps the client's source address upstream. Kernel state, all in the
// DUT's namespace: nft table ip pathbench_tproxy; ip rule fwmark 0x1 lookup 100; local default
// dev lo table 100.
#include <fmt/core.h>

#include "paths/tproxy_nft.h"

#include "common/strings.h"
#include "kernel/netns.h"
#include "kernel/process.h"
#include "paths/proxy_path.h"
#include "paths/services.h"

namespace pb {
namespace {

constexpr const char* kNftTable = "pathbench_tproxy";

struct Ruleset {
  std::string text;
  std::vector<Installed> installed;
};

// How tproxy-nft finds the intercepted services: the server's whole address (no --services), a
// chain of one rule per service (tproxy-nft), or one rule over a set of address . port elements
// (tproxy-nft-set).
enum class NftForm { kChain, kSet };

std::string tproxy_action(uint16_t proxy_port) {
  return fmt::format("tproxy to :{} meta mark set {}", proxy_port, kTproxyMark);
}

Ruleset nft_ruleset(const Wiring& w, bool keep_client_source, uint16_t proxy_port, NftForm form,
                    const std::vector<Service>& services) {
  Ruleset r;
  const std::string cli = w.dut_client_dev, pfx = w.server_ip + "/32", act = tproxy_action(proxy_port);
  std::string set_def, chains;
  uint64_t rules = 0, elements = 0, nchains = 1;
  std::string pre = fmt::format(
      // Packets of connections the proxy already has (its accepted sockets): mark for local
      // delivery, skip the tproxy lookup. TCP only: docs/gotchas.md "The UDP socket match
      // catches a half-made flow". The tproxy rule's own lookup takes only connected UDP
      // sockets, then the listener. Not a SYN: `socket` also finds a TIME_WAIT socket of an
      // earlier connection with the same 4-tuple (the proxy closes first when the server does,
      // as an HTTP server with Connection: close does), and a SYN delivered to it finds no
      // listener on the service's port: the client waits for a retransmission. The tproxy rule
      // handles a SYN to TIME_WAIT itself (nf_tproxy_handle_time_wait4: the listener takes it),
      // as xt_TPROXY does (docs/gotchas.md "A SYN into TIME_WAIT").
      "    iifname \"{cli}\" ip daddr {pfx} meta l4proto tcp tcp flags & (syn | ack) != syn socket transparent 1 meta mark set {m} counter accept comment \"established\"\n",
      fmt::arg("cli", cli), fmt::arg("pfx", pfx), fmt::arg("m", kTproxyMark));
  ++rules;
  if (services.empty() && form == NftForm::kChain) {
    pre += fmt::format("    iifname \"{}\" ip daddr {} meta l4proto {{ tcp, udp }} {} counter accept comment \"tproxy\"\n",
                       cli, pfx, act);
    ++rules;
  } else if (form == NftForm::kChain) {
    // One rule per service, in a chain the client side jumps to: the first packet of a flow
    // walks it until its service matches (the kube-proxy iptables shape).
    pre += fmt::format("    iifname \"{}\" jump services\n", cli);
    ++rules;
    chains = "  chain services {\n";
    for (auto& sv : services) {
      chains += fmt::format("    ip daddr {} meta l4proto {{ tcp, udp }} th dport {} {}{} accept{}\n", sv.ip, sv.port, act,
                            sv.real ? " counter" : "", sv.real ? " comment \"tproxy\"" : "");
      ++rules;
    }
    chains += "  }\n";
    ++nchains;
  } else {
    // One rule, one lookup in a hashed set of address . port (or of the server's address).
    if (services.empty()) {
      set_def = fmt::format("  set services {{\n    type ipv4_addr\n    elements = {{ {} }}\n  }}\n", w.server_ip);
      elements = 1;
      pre += fmt::format("    iifname \"{}\" meta l4proto {{ tcp, udp }} ip daddr @services {} counter accept comment \"tproxy\"\n",
                         cli, act);
    } else {
      std::string el;
      for (auto& sv : services) {
        if (!el.empty()) el += ", ";
        el += sv.ip + " . " + std::to_string(sv.port);
      }
      elements = services.size();
      set_def = fmt::format("  set services {{\n    type ipv4_addr . inet_service\n    size {}\n    elements = {{ {} }}\n  }}\n",
                            std::max<size_t>(services.size() + 64, 65536), el);
      pre += fmt::format("    iifname \"{}\" meta l4proto {{ tcp, udp }} ip daddr . th dport @services {} counter accept comment \"tproxy\"\n",
                         cli, act);
    }
    ++rules;
  }
  if (keep_client_source) {
    // Full transparency: the server's replies are addressed to the client; those belonging to
    // the proxy's upstream sockets (transparent, bound to the client's address) are delivered
    // locally instead of being forwarded to the client.
    pre += fmt::format(
        "    iifname \"{}\" meta l4proto {{ tcp, udp }} socket transparent 1 meta mark set {} counter accept comment \"upstream-replies\"\n",
        w.dut_server_dev, kTproxyMark);
    ++rules;
  }
  r.text = fmt::format("table ip {} {{\n{}{}  chain prerouting {{\n    type filter hook prerouting priority mangle; policy accept;\n{}  }}\n}}\n",
                       kNftTable, set_def, chains, pre);
  r.installed = {{Item::kNftTable, 1}, {Item::kNftChain, nchains}, {Item::kNftRule, rules}};
  if (!set_def.empty()) {
    r.installed.push_back({Item::kNftSet, 1});
    r.installed.push_back({Item::kNftSetElement, elements});
  }
  return r;
}

void install_nft(UndoLog& undo, const Ruleset& rs) {
  // nft's load time grows faster than linearly with the rules in one chain (14 s for 10000 here,
  // over 30 s in other repetitions): the timeout grows with the ruleset.
  size_t rules = 0;
  for (auto& i : rs.installed)
    if (i.item == Item::kNftRule) rules += i.count;
  undo.command(std::string("nft table ip ") + kNftTable, rs.installed, {"nft", "-f", "-"},
               {"nft", "delete", "table", "ip", kNftTable}, rs.text, {}, 30 + static_cast<int>(rules / 40));
}

// Every new connection's SYN (or first datagram of a flow) went through the tproxy rule.
std::string check_tproxy_rule(uint64_t tproxied, const WorkloadInfo& wl, const WorkloadOptions& w,
                              const WorkloadTotals& t) {
  const bool tcp = wl.protocol == Protocol::kTcp;
  uint64_t need = tcp ? t.connections : w.flows;
  if (tproxied < need)
    return fmt::format("nft tproxy rule matched {} packets, fewer than the {} new {}", tproxied, need,
                       tcp ? "connections" : "flows");
  return {};
}

class TproxyNft : public ProxyPath {
 public:
  TproxyNft(const PathContext& ctx, NftForm form)
      : ProxyPath(ctx, transparent_config(ctx.info.keeps_client_source)), form_(form) {
    add_local_table(undo_);
    add_mark_rule(undo_);
    const std::vector<Service> services = make_services(settings_, wiring_);
    Ruleset rs = nft_ruleset(wiring_, info_.keeps_client_source, kProxyPort, form, services);
    uint64_t ns = time_ns([&] { install_nft(undo_, rs); });
    if (settings_.services) scale_ = scale_record(settings_, ns, form == NftForm::kChain);
  }
  void measure_updates() override {
    // The control-plane change an operator makes: one service more, then gone again, each one
    // nft command (a rule appended to the chain and deleted by handle, or a set element).
    const std::string& ns = roles_.dut().netns;
    const std::string act = tproxy_action(kProxyPort);
    std::vector<std::string> handles(settings_.update_samples);
    auto nft = [&](const std::vector<std::string>& argv) { return run_cmd_checked(in_netns(ns, argv)); };
    auto add = [&](unsigned i) {
      Service sv = extra_service(settings_.services, i);
      if (form_ == NftForm::kSet) {
        nft({"nft", "add", "element", "ip", kNftTable, "services", "{ " + sv.ip + " . " + std::to_string(sv.port) + " }"});
      } else {
        std::string out = nft({"nft", "--echo", "--handle", "add", "rule", "ip", kNftTable, "services", "ip", "daddr", sv.ip,
                               "meta", "l4proto", "{", "tcp,", "udp", "}", "th", "dport", std::to_string(sv.port), "tproxy",
                               "to", ":" + std::to_string(kProxyPort), "meta", "mark", "set", kTproxyMark, "accept"});
        auto h = out.rfind("# handle ");
        handles[i] = h == std::string::npos ? "" : trim(out.substr(h + 9));
      }
    };
    auto remove = [&](unsigned i) {
      Service sv = extra_service(settings_.services, i);
      if (form_ == NftForm::kSet)
        nft({"nft", "delete", "element", "ip", kNftTable, "services", "{ " + sv.ip + " . " + std::to_string(sv.port) + " }"});
      else if (!handles[i].empty())
        nft({"nft", "delete", "rule", "ip", kNftTable, "services", "handle", handles[i]});
    };
    scale_["update"] = time_updates(settings_.update_samples, add, remove);
    scale_["update"]["how"] = form_ == NftForm::kSet ? "nft add element / nft delete element (one command each)"
                                                     : "nft add rule / nft delete rule handle (one command each)";
  }
  void path_begin(const WorkloadInfo& wl, const WorkloadOptions& w) override {
    ProxyPath::path_begin(wl, w);
    nft_before_ = nft_counters(roles_.dut().netns);
  }

 protected:
  std::string check_interceptor(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t,
                                nlohmann::json& p) override {
    auto now = nft_counters(roles_.dut().netns);
    nlohmann::json rules = nlohmann::json::object();
    for (auto& [k, v] : now) rules[k] = v - nft_before_[k];
    p["nft_rule_packets"] = rules;
    return check_tproxy_rule(now["tproxy"] - nft_before_["tproxy"], wl, w, t);
  }

 private:
  NftForm form_;
  std::map<std::string, uint64_t> nft_before_;
};

// The same interception toward a proxy that is not ours; no proxy started here.
class TproxyNftExternal : public PathInstance {
 public:
  TproxyNftExternal(const PathContext& ctx, uint16_t port) : PathInstance(ctx), port_(port) {
    add_local_table(undo_);
    add_mark_rule(undo_);
    install_nft(undo_, nft_ruleset(wiring_, false, port, NftForm::kChain, make_services(settings_, wiring_)));
  }
  std::string expected_server_src() const override { return wiring_.dut_server_ip; }
  void path_begin(const WorkloadInfo&, const WorkloadOptions&) override { before_ = nft_counters(roles_.dut().netns); }
  nlohmann::json path_end(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t) override {
    auto now = nft_counters(roles_.dut().netns);
    uint64_t tproxied = now["tproxy"] - before_["tproxy"];
    nlohmann::json p = {{"nft_tproxy_rule_packets", tproxied}, {"proxy_port", port_}, {"ok", true}};
    if (std::string why = check_tproxy_rule(tproxied, wl, w, t); !why.empty()) {
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
  p.max_services = 100000;
  p.unsupported = nft_unsupported;
  p.make = [](const PathContext& c) { return std::make_unique<TproxyNft>(c, NftForm::kChain); };
  return p;
});

PB_REGISTER_PATH([] {
  PathInfo p = intercepted_path("tproxy-nft-transparent",
                                "tproxy-nft with full transparency: upstream connections keep the client's source address",
                                25, Technology::kTproxy);
  p.keeps_client_source = true;
  p.in_default_suite = false;
  p.unsupported = nft_unsupported;
  p.make = [](const PathContext& c) { return std::make_unique<TproxyNft>(c, NftForm::kChain); };
  return p;
});

PB_REGISTER_PATH([] {
  PathInfo p = intercepted_path("tproxy-nft-set",
                                "nft tproxy with one rule over a set of address . port elements (a hashed lookup "
                                "instead of a chain of rules)",
                                22, Technology::kTproxy);
  p.in_default_suite = false;
  p.max_services = 1000000;
  p.unsupported = nft_unsupported;
  p.make = [](const PathContext& c) { return std::make_unique<TproxyNft>(c, NftForm::kSet); };
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
