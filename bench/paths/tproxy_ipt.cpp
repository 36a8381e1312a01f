// SPDX-License-Identifier: Apache-2.0
// paths/tproxy_ipt.cpp: tproxy-ipt, the same interception as tproxy-nft through xt_TPROXY:
// mangle PREROUTING rules (iptables-nft, the nf_tables backend with the xt target through
// nft_compat, when present; else iptables-legacy; recorded in the proof), the same fwmark rule
// and local route.
#include <fmt/core.h>

#include "common/error.h"
#include "common/strings.h"
#include "kernel/netns.h"
#include "kernel/process.h"
#include "paths/proxy_path.h"

namespace pb {
namespace {

std::string pick_iptables() {
  if (find_program("iptables-nft")) return "iptables-nft";
  if (find_program("iptables-legacy")) return "iptables-legacy";
  return {};
}

class TproxyIpt : public ProxyPath {
 public:
  explicit TproxyIpt(const PathContext& ctx) : ProxyPath(ctx, transparent_config()), ipt_(pick_iptables()) {
    if (ipt_.empty()) throw EnvError("tproxy-ipt: neither iptables-nft nor iptables-legacy found (apt-get install iptables)");
    const std::string& dut = roles_.dut().netns;
    // iptables-nft creates the nft table `ip mangle` on first use; if it was not there before,
    // remove it afterwards (rules alone would leave an empty table and chain behind). Registered
    // first, so it runs after the rules are gone.
    if (ipt_ == "iptables-nft" && run_cmd(in_netns(dut, {"nft", "list", "table", "ip", "mangle"})).status != 0)
      undo_.undo_command("nft table ip mangle made by iptables-nft", {"nft", "delete", "table", "ip", "mangle"});
    add_local_table(undo_);
    add_mark_rule(undo_);
    const std::string port = std::to_string(kProxyPort);
    for (const std::string proto : {"tcp", "udp"}) {
      std::vector<std::string> m = {"-i", wiring_.dut_client_dev, "-d", intercept_prefix(), "-p", proto};
      auto rule = [&](std::vector<std::string> tail) {
        std::vector<std::string> r = m;
        r.insert(r.end(), tail.begin(), tail.end());
        return r;
      };
      // Established: the socket match (xt_socket) finds the proxy's transparent socket. TCP
      // only, for the reason given at tproxy-nft's rules. MARK does not stop traversal;
      // established packets then hit TPROXY, whose own established lookup finds the same
      // socket: the same result as the nft path's accept.
      std::vector<std::vector<std::string>> rules;
      if (proto == "tcp") rules.push_back(rule({"-m", "socket", "--transparent", "-j", "MARK", "--set-mark", kTproxyMark}));
      rules.push_back(rule({"-j", "TPROXY", "--on-port", port, "--tproxy-mark", std::string(kTproxyMark) + "/" + kTproxyMark}));
      for (auto& r : rules) {
        std::vector<std::string> add = {ipt_, "-w", "-t", "mangle", "-A", "PREROUTING"};
        std::vector<std::string> del = {ipt_, "-w", "-t", "mangle", "-D", "PREROUTING"};
        add.insert(add.end(), r.begin(), r.end());
        del.insert(del.end(), r.begin(), r.end());
        undo_.command(ipt_ + " mangle PREROUTING " + join(r, " "), {{Item::kIptablesRule, 1}}, add, del);
      }
    }
  }
  void begin(const WorkloadOptions& w) override {
    ProxyPath::begin(w);
    ipt_before_ = tproxy_packets();
  }

 protected:
  uint64_t tproxy_packets() const {
    CmdResult r = run_cmd(in_netns(roles_.dut().netns, {ipt_, "-w", "-t", "mangle", "-L", "PREROUTING", "-v", "-x", "-n"}));
    uint64_t n = 0;
    for (auto& line : split(r.out, '\n'))
      if (line.find("TPROXY") != std::string::npos) n += std::strtoull(trim(line).c_str(), nullptr, 10);
    return n;
  }
  std::string check_interceptor(const WorkloadOptions& w, const WorkloadTotals& t, nlohmann::json& p) override {
    uint64_t n = tproxy_packets() - ipt_before_;
    p["iptables"] = ipt_;
    p["tproxy_rule_packets"] = n;
    const bool is_tcp = tcp(w);
    uint64_t need = new_flows(w, t, is_tcp);
    if (n < need)
      return fmt::format("TPROXY rules matched {} packets, fewer than the {} new {}", n, need,
                         is_tcp ? "connections" : "flows");
    return {};
  }

 private:
  std::string ipt_;
  uint64_t ipt_before_ = 0;
};

PB_REGISTER_PATH([] {
  PathInfo p = intercepted_path("tproxy-ipt", "iptables -j TPROXY (xt_TPROXY) + fwmark policy route -> transparent proxy",
                                30, Technology::kTproxy);
  p.unsupported = [] {
    if (auto r = need_root("CAP_NET_ADMIN for IP_TRANSPARENT and rules")) return r;
    if (pick_iptables().empty())
      return std::optional<std::string>("neither iptables-nft nor iptables-legacy found (apt-get install iptables)");
    return std::optional<std::string>();
  };
  p.make = [](const PathContext& c) { return std::make_unique<TproxyIpt>(c); };
  return p;
});

}  // namespace
}  // namespace pb
