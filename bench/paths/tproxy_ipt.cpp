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
#include "paths/services.h"

namespace pb {
namespace {

std::string pick_iptables() {
  if (find_program("iptables-nft")) return "iptables-nft";
  if (find_program("iptables-legacy")) return "iptables-legacy";
  return {};
}

constexpr const char* kChain = "PB_TPROXY";

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
    if (settings_.services) install_services();
    else install_prefix();
  }
  void path_begin(const WorkloadInfo& wl, const WorkloadOptions& w) override {
    ProxyPath::path_begin(wl, w);
    ipt_before_ = tproxy_packets();
  }
  void measure_updates() override {
    // One more service and back, as iptables-restore --noflush batches (both protocols' rules
    // in one command), the way a control plane changes a large ruleset.
    auto batch = [&](const char* op, unsigned i) {
      Service sv = extra_service(settings_.services, i);
      std::string text = "*mangle\n";
      for (const char* proto : {"tcp", "udp"}) text += std::string(op) + " " + kChain + " " + service_rule(sv, proto) + "\n";
      run_cmd_checked(in_netns(roles_.dut().netns, {ipt_ + "-restore", "-w", "--noflush"}), text + "COMMIT\n");
    };
    scale_["update"] = time_updates(settings_.update_samples, [&](unsigned i) { batch("-A", i); },
                                    [&](unsigned i) { batch("-D", i); });
    scale_["update"]["how"] = ipt_ + "-restore --noflush: -A / -D of the service's tcp and udp rules (one command each)";
  }

 private:
  std::string tproxy_target() const {
    return std::string("-j TPROXY --on-port ") + std::to_string(kProxyPort) + " --tproxy-mark " + kTproxyMark + "/" +
           kTproxyMark;
  }
  std::string service_rule(const Service& sv, const char* proto) const {
    return "-d " + sv.ip + "/32 -p " + proto + " --dport " + std::to_string(sv.port) + " " + tproxy_target();
  }
  // Established: the socket match (xt_socket) finds the proxy's transparent socket. TCP only
  // (docs/gotchas.md "The UDP socket match catches a half-made flow"). MARK does not stop
  // traversal; established packets then hit TPROXY, whose own established lookup finds the same
  // socket: the same result as the nft path's accept.
  std::vector<std::string> established_rule() const {
    return {"-i", wiring_.dut_client_dev, "-d", intercept_prefix(), "-p", "tcp", "-m", "socket", "--transparent", "-j",
            "MARK", "--set-mark", kTproxyMark};
  }
  void add_rule(const std::vector<std::string>& r) {
    std::vector<std::string> add = {ipt_, "-w", "-t", "mangle", "-A", "PREROUTING"};
    std::vector<std::string> del = {ipt_, "-w", "-t", "mangle", "-D", "PREROUTING"};
    add.insert(add.end(), r.begin(), r.end());
    del.insert(del.end(), r.begin(), r.end());
    undo_.command(ipt_ + " mangle PREROUTING " + join(r, " "), {{Item::kIptablesRule, 1}}, add, del);
  }
  // No --services: the server's whole address, as rules in PREROUTING.
  void install_prefix() {
    const std::string port = std::to_string(kProxyPort);
    for (const std::string proto : {"tcp", "udp"}) {
      if (proto == "tcp") add_rule(established_rule());
      add_rule({"-i", wiring_.dut_client_dev, "-d", intercept_prefix(), "-p", proto, "-j", "TPROXY", "--on-port", port,
                "--tproxy-mark", std::string(kTproxyMark) + "/" + kTproxyMark});
    }
  }
  // --services N: a chain of one rule per service and protocol that the client side jumps to
  // (the kube-proxy shape), loaded in one iptables-restore: 2N separate iptables calls would
  // take minutes at 10k services and is not how anyone loads a large ruleset.
  void install_services() {
    const std::vector<Service> services = make_services(settings_, wiring_);
    std::string text = "*mangle\n:" + std::string(kChain) + " - [0:0]\n";
    text += "-A PREROUTING " + join(established_rule(), " ") + "\n";
    text += "-A PREROUTING -i " + wiring_.dut_client_dev + " -j " + kChain + "\n";
    for (size_t i = 0; i < services.size(); ++i) {
      if (services[i].real) real_rule_ = 2 * i + 1;  // 1-based number of its tcp rule in the chain
      for (const char* proto : {"tcp", "udp"}) text += "-A " + std::string(kChain) + " " + service_rule(services[i], proto) + "\n";
    }
    text += "COMMIT\n";
    auto ipt = [&](std::vector<std::string> a) {
      std::vector<std::string> v = {ipt_, "-w", "-t", "mangle"};
      v.insert(v.end(), a.begin(), a.end());
      return v;
    };
    // Undone in reverse: the jump and the established rule, then the chain's rules, then it.
    undo_.undo_command("delete chain " + std::string(kChain), ipt({"-X", kChain}));
    undo_.undo_command("flush chain " + std::string(kChain), ipt({"-F", kChain}));
    undo_.undo_command("PREROUTING jump to " + std::string(kChain), ipt({"-D", "PREROUTING", "-i", wiring_.dut_client_dev, "-j", kChain}));
    std::vector<std::string> est = {"-D", "PREROUTING"};
    for (auto& a : established_rule()) est.push_back(a);
    undo_.undo_command("PREROUTING established rule", ipt(est));
    uint64_t ns = time_ns([&] {
      undo_.command(ipt_ + "-restore --noflush: " + std::to_string(services.size()) + " services",
                    {{Item::kIptablesChain, 1}, {Item::kIptablesRule, 2 + 2 * services.size()}},
                    {ipt_ + "-restore", "-w", "--noflush"}, {}, text);
    });
    scale_ = scale_record(settings_, ns, true);
  }
  // Packets the TPROXY rule(s) of the intercepted service matched.
  uint64_t tproxy_packets() const {
    uint64_t n = 0;
    if (real_rule_) {
      // Only the real service's two rules (listing 20k rules twice per workload would take longer
      // than the workload).
      for (size_t k : {real_rule_, real_rule_ + 1}) {
        CmdResult r = run_cmd(in_netns(roles_.dut().netns, {ipt_, "-w", "-t", "mangle", "-L", kChain, std::to_string(k), "-v", "-x", "-n"}));
        n += std::strtoull(trim(r.out).c_str(), nullptr, 10);
      }
      return n;
    }
    CmdResult r = run_cmd(in_netns(roles_.dut().netns, {ipt_, "-w", "-t", "mangle", "-L", "PREROUTING", "-v", "-x", "-n"}));
    for (auto& line : split(r.out, '\n'))
      if (line.find("TPROXY") != std::string::npos) n += std::strtoull(trim(line).c_str(), nullptr, 10);
    return n;
  }
  std::string check_interceptor(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t,
                                nlohmann::json& p) override {
    uint64_t n = tproxy_packets() - ipt_before_;
    p["iptables"] = ipt_;
    p["tproxy_rule_packets"] = n;
    const bool is_tcp = tcp(wl);
    uint64_t need = new_flows(w, t, is_tcp);
    if (n < need)
      return fmt::format("TPROXY rules matched {} packets, fewer than the {} new {}", n, need,
                         is_tcp ? "connections" : "flows");
    return {};
  }

  std::string ipt_;
  uint64_t ipt_before_ = 0;
  size_t real_rule_ = 0;  // --services: rule number of the real service's tcp rule in kChain
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
  p.max_services = 100000;
  p.make = [](const PathContext& c) { return std::make_unique<TproxyIpt>(c); };
  return p;
});

}  // namespace
}  // namespace pb
