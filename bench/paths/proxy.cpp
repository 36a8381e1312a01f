// paths/proxy.cpp: the five ways to reach pathbench's transparent proxy (tproxy/), each a
// PathInstance that owns what it adds to the DUT and removes exactly that in its destructor.
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
// The proxy runs as worker threads of this process, created inside the DUT namespace (its
// sockets live there). Knobs until the CLI has options for them (recorded in every proof):
//   PATHBENCH_PROXY_WORKERS  proxy worker threads (default 1: measured best on 2 CPUs, where a
//                            second worker competes with softirq and the generators)
//   PATHBENCH_PROXY_CPUS     comma-separated CPUs to pin workers to (default: the run's
//                            --pinning policy, environment.cpu_pinning.proxy_cpu)
//   PATHBENCH_PROXY_PIPE_BYTES  relay pipe size (default: tproxy::Config's)
// Kernel state per path (all inside the DUT namespace):
//   tproxy-nft   nft table ip pathbench_tproxy; ip rule fwmark 0x1 lookup 100; local default
//                dev lo table 100
//   tproxy-ipt   mangle PREROUTING rules (iptables-nft, else iptables-legacy); same rule/route
//   sk-lookup    ip rules iif dut0 to 198.18.2.2 ipproto tcp|udp lookup 100; local route;
//                sk_lookup program + netns bpf_link
//   tc-sk-assign same rules and route; TC ingress program on dut0 (TCX link, clsact fallback)
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/bpf_util.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/path.h"
#include "core/runner.h"
#include "core/util.h"
#include "sk_lookup.skel.h"
#include "tc_sk_assign.skel.h"
#include "tproxy/proxy.h"
#include "tproxy/steer_shared.h"

namespace pb {
namespace {

static_assert(sizeof(pb_steer_stats) == 8 * 8, "pb_steer_stats layout is shared with BPF");

constexpr uint16_t kProxyPort = 15001;
constexpr const char* kMark = "0x1";
constexpr const char* kTable = "100";
constexpr const char* kRulePrio = "100";
constexpr const char* kNftTable = "pathbench_tproxy";
// What is intercepted: traffic from the client side to the server (any port).
constexpr const char* kInterceptPrefix = "198.18.2.2/32";

std::string proxy_env(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : def;
}

// Undo stack of kernel state: each step runs a command now and registers the command that
// undoes exactly it; the destructor runs the undo commands in reverse order, logging failures,
// never throwing. Commands run inside the DUT namespace.
class KernelState {
 public:
  explicit KernelState(std::string ns) : ns_(std::move(ns)) {}
  ~KernelState() { undo_all(); }
  KernelState(const KernelState&) = delete;
  KernelState& operator=(const KernelState&) = delete;

  void apply(const std::string& what, const std::vector<std::string>& argv,
             const std::vector<std::string>& undo_argv, const std::string& stdin_text = {}) {
    try {
      run_cmd_checked(in_netns(ns_, argv), stdin_text);
    } catch (const Error& e) {
      throw EnvError(what + " in " + ns_ + ": " + e.what());
    }
    log::debug("{}: {}", ns_, what);
    undo_.push_back({what, undo_argv, {}});
  }
  void apply_stdin(const std::string& what, const std::vector<std::string>& argv,
                   const std::string& stdin_text, const std::vector<std::string>& undo_argv,
                   const std::string& undo_stdin = {}) {
    try {
      run_cmd_checked(in_netns(ns_, argv), stdin_text);
    } catch (const Error& e) {
      throw EnvError(what + " in " + ns_ + ": " + e.what());
    }
    log::debug("{}: {}", ns_, what);
    undo_.push_back({what, undo_argv, undo_stdin});
  }
  void undo_all() noexcept {
    while (!undo_.empty()) {
      Step s = std::move(undo_.back());
      undo_.pop_back();
      try {
        CmdResult r = run_cmd(in_netns(ns_, s.argv), s.stdin_text);
        if (r.status != 0)
          log::error("{}: undo '{}' ({}) failed: {}", ns_, s.what, join(s.argv, " "), trim(r.err));
        else
          log::debug("{}: undone: {}", ns_, s.what);
      } catch (const std::exception& e) {
        log::error("{}: undo '{}': {}", ns_, s.what, e.what());
      }
    }
  }
  const std::string& ns() const { return ns_; }

 private:
  struct Step {
    std::string what;
    std::vector<std::string> argv;
    std::string stdin_text;
  };
  std::string ns_;
  std::vector<Step> undo_;
};

// The local-delivery policy route every interception needs (FIELD-NOTES gotcha 8): TPROXY and
// the BPF programs hand the packet to a local socket, but routing must first decide "local".
//   by mark (netfilter paths):  ip rule fwmark 0x1 lookup 100
//   by match (BPF paths, no netfilter to set a mark): ip rule iif dut0 to 198.18.2.2 ipproto
//       tcp|udp lookup 100. Why not `ip route add local 198.18.2.2 table local`: that would make
//       the server's address local for the DUT's own sockets too, and the proxy's upstream
//       connection to 198.18.2.2 would loop back into the DUT. The iif match applies only to
//       packets arriving from the client side; the proxy's own traffic (iif lo) and the
//       server's replies (iif dut1) are routed normally.
//   table 100: local default dev lo
void add_local_table(KernelState& ks) {
  ks.apply("route local default dev lo table 100",
           {"ip", "route", "add", "local", "default", "dev", "lo", "table", kTable},
           {"ip", "route", "del", "local", "default", "dev", "lo", "table", kTable});
}
void add_mark_rule(KernelState& ks) {
  ks.apply("ip rule fwmark 0x1 lookup 100",
           {"ip", "rule", "add", "fwmark", kMark, "lookup", kTable, "priority", kRulePrio},
           {"ip", "rule", "del", "fwmark", kMark, "lookup", kTable, "priority", kRulePrio});
}
void add_iif_rules(KernelState& ks) {
  for (const char* proto : {"tcp", "udp"}) {
    std::vector<std::string> rule = {"iif", Addr::kDutClientDev, "to", kInterceptPrefix, "ipproto",
                                     proto, "lookup", kTable, "priority", kRulePrio};
    std::vector<std::string> add = {"ip", "rule", "add"}, del = {"ip", "rule", "del"};
    add.insert(add.end(), rule.begin(), rule.end());
    del.insert(del.end(), rule.begin(), rule.end());
    ks.apply(std::string("ip rule iif dut0 to ") + kInterceptPrefix + " ipproto " + proto + " lookup 100", add, del);
  }
}

nlohmann::json counters_json(const tproxy::CounterSnapshot& s) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [k, v] : s.items()) j[k] = v;
  return j;
}

bool is_tcp(const WorkloadOptions& w) { return w.name.rfind("tcp", 0) == 0; }

// ---------------------------------------------------------------------------------------------
// The proxy and the proof shared by all five paths.

class ProxyPath : public PathInstance {
 public:
  ProxyPath(const PathContext& ctx, std::string name, tproxy::Config cfg)
      : name_(std::move(name)), dut_(ctx.topo.dut()) {
    cfg.netns = dut_;
    cfg.port = cfg.port ? cfg.port : kProxyPort;
    try {
      cfg.workers = static_cast<unsigned>(std::stoul(proxy_env("PATHBENCH_PROXY_WORKERS", "1")));
      cfg.pipe_bytes = static_cast<unsigned>(std::stoul(proxy_env("PATHBENCH_PROXY_PIPE_BYTES", std::to_string(cfg.pipe_bytes))));
      // Default: the run's pinning policy (environment.cpu_pinning.proxy_cpu); the variable
      // overrides it.
      nlohmann::json pin = pinning_json(ctx.cfg);
      std::string def_cpus = pin["proxy_cpu"].is_number() ? std::to_string(pin["proxy_cpu"].get<int>()) : "";
      std::string cpus = proxy_env("PATHBENCH_PROXY_CPUS", def_cpus);
      for (auto& c : split(cpus, ','))
        if (!c.empty()) cfg.cpus.push_back(std::stoi(c));
    } catch (const std::exception&) {
      throw UsageError("PATHBENCH_PROXY_WORKERS / _PIPE_BYTES / _CPUS: want a number / a list of CPUs");
    }
    cfg.log = [](tproxy::LogLevel l, std::string_view m) {
      switch (l) {
        case tproxy::LogLevel::kDebug: log::debug("{}", m); break;
        case tproxy::LogLevel::kInfo: log::info("{}", m); break;
        case tproxy::LogLevel::kWarn: log::warn("{}", m); break;
        case tproxy::LogLevel::kError: log::error("{}", m); break;
      }
    };
    // Each TCP connection holds 2 fds in the proxy and 1 at each end (all in this process).
    tproxy::raise_nofile_limit(1 << 20);
    proxy_ = std::make_unique<tproxy::Proxy>(cfg);
    try {
      proxy_->start();
    } catch (const std::exception& e) {
      throw EnvError(name_ + ": proxy start in " + dut_ + ": " + e.what());
    }
  }
  ~ProxyPath() override {
    // Runs after the subclass has removed its interception (its members go first), so nothing is
    // steered to the proxy's sockets once they close.
    if (proxy_) {
      auto c = proxy_->counters();
      proxy_->stop();
      log::debug("{}: proxy stopped (accepted {}, udp flows {})", name_, c.tcp_accepted, c.udp_flows_created);
    }
  }

  std::optional<std::string> unsupported_workload(const WorkloadInfo& w) const override {
    if (w.name == "xdp_pps")
      return "xdp_pps injects raw frames counted by XDP at the server; there is no socket for "
             "the proxy to terminate, so it cannot go through a proxy";
    return std::nullopt;
  }
  std::string expected_server_src() const override {
    return proxy_->config().keep_client_source ? Addr::kClient : Addr::kDutServerSide;
  }
  bool routes() const override { return false; }

  void begin(const WorkloadOptions&) override {
    before_ = proxy_->counters();
    bpf_before_ = bpf_stats();
  }

  nlohmann::json end(const WorkloadOptions& w, const WorkloadTotals& t) override {
    nlohmann::json p;
    const bool tcp = is_tcp(w);
    // Connections the client completed are accepted by the proxy within microseconds; give a
    // straggler at the stop a moment instead of failing the proof on a race.
    tproxy::CounterSnapshot d = proxy_->counters() - before_;
    for (int i = 0; i < 50 && tcp && d.tcp_accepted < t.connections; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      d = proxy_->counters() - before_;
    }
    p["proxy"] = counters_json(d);
    p["proxy_workers"] = proxy_->config().workers;
    p["proxy_cpus"] = proxy_->config().cpus;
    p["proxy_pipe_bytes"] = proxy_->config().pipe_bytes;
    p["proxy_port"] = kProxyPort;
    p["full_transparency"] = proxy_->config().keep_client_source;
    std::string reason;
    if (tcp) {
      // Every connection the generator made was accepted by the proxy (and none more than
      // could have been in flight when it stopped).
      if (d.tcp_accepted < t.connections)
        reason = fmt::format("proxy accepted {} TCP connections, the generator made {}: traffic bypassed the proxy",
                             d.tcp_accepted, t.connections);
      else if (d.tcp_accepted > t.connections + w.flows)
        reason = fmt::format("proxy accepted {} TCP connections, more than the generator's {} (+{} in flight)",
                             d.tcp_accepted, t.connections, w.flows);
      else if (t.connections == 0)
        reason = "the generator made no connection";
      else if (d.upstream_connect_failed)
        reason = fmt::format("{} upstream connects failed", d.upstream_connect_failed);
    } else {
      // Each client socket is one flow; the server cannot receive more datagrams than the proxy
      // forwarded.
      if (d.udp_flows_created < w.flows)
        reason = fmt::format("proxy created {} UDP flows, the generator used {}", d.udp_flows_created, w.flows);
      else if (d.udp_datagrams_client_to_upstream < t.packets_received)
        reason = fmt::format("server received {} datagrams but the proxy forwarded only {}: traffic bypassed the proxy",
                             t.packets_received, d.udp_datagrams_client_to_upstream);
      else if (d.udp_datagrams_client_to_upstream == 0)
        reason = "the proxy forwarded no datagram";
    }
    if (reason.empty()) reason = check_interceptor(w, t, p);
    p["ok"] = reason.empty();
    if (!reason.empty()) p["reason"] = reason;
    return p;
  }

 protected:
  // Per-path evidence (rule or program counters) into p; returns a failure reason or "".
  virtual std::string check_interceptor(const WorkloadOptions&, const WorkloadTotals&, nlohmann::json&) {
    return {};
  }
  virtual pb_steer_stats bpf_stats() const { return {}; }

  std::string name_, dut_;
  std::unique_ptr<tproxy::Proxy> proxy_;
  tproxy::CounterSnapshot before_;
  pb_steer_stats bpf_before_{};
};

tproxy::Config transparent_config(bool keep_client_source = false) {
  tproxy::Config c;
  c.listen_ip = "0.0.0.0";
  c.transparent = true;
  c.keep_client_source = keep_client_source;
  return c;
}

// ---------------------------------------------------------------------------------------------
// proxy-plain: the control. No interception: the client targets the proxy's own address on the
// DUT, the proxy connects on to the server on the same port. The proxy listens on whatever port
// a client is pointed at (client_target() opens it), since workloads and the probe each use
// their own port.

class ProxyPlain : public ProxyPath {
 public:
  explicit ProxyPlain(const PathContext& ctx) : ProxyPath(ctx, "proxy-plain", config()) {}
  Endpoint client_target(const WorkloadOptions&, const Endpoint& server) const override {
    try {
      proxy_->listen_on(server.port);
    } catch (const std::exception& e) {
      // The runner calls this outside its error handling; the workload will fail to connect
      // and say so, with this in the log.
      log::error("proxy-plain: listen on {}:{}: {}", Addr::kDutClientSide, server.port, e.what());
    }
    return {Addr::kDutClientSide, server.port};
  }

 private:
  static tproxy::Config config() {
    tproxy::Config c;
    c.listen_ip = Addr::kDutClientSide;
    c.transparent = false;
    c.fixed_upstream_ip = tproxy::parse_ipv4(Addr::kServer);
    c.fixed_upstream_port = 0;  // same port the client used
    return c;
  }
};

// ---------------------------------------------------------------------------------------------
// tproxy-nft

std::string nft_ruleset(bool keep_client_source, uint16_t proxy_port = kProxyPort) {
  std::string s = fmt::format(
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
      fmt::arg("t", kNftTable), fmt::arg("cli", Addr::kDutClientDev), fmt::arg("pfx", kInterceptPrefix),
      fmt::arg("m", kMark), fmt::arg("port", proxy_port));
  if (keep_client_source)
    // Full transparency: the server's replies are addressed to the client; those belonging to
    // the proxy's upstream sockets (transparent, bound to the client's address) are delivered
    // locally instead of being forwarded to the client.
    s += fmt::format(
        "    iifname \"{srv}\" meta l4proto {{ tcp, udp }} socket transparent 1 meta mark set {m} counter accept comment \"upstream-replies\"\n",
        fmt::arg("srv", Addr::kDutServerDev), fmt::arg("m", kMark));
  s += "  }\n}\n";
  return s;
}

// Packet counts of the rules of our nft table, by comment.
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

class TproxyNft : public ProxyPath {
 public:
  TproxyNft(const PathContext& ctx, bool keep_client_source)
      : ProxyPath(ctx, keep_client_source ? "tproxy-nft-transparent" : "tproxy-nft",
                  transparent_config(keep_client_source)),
        ks_(ctx.topo.dut()) {
    add_local_table(ks_);
    add_mark_rule(ks_);
    ks_.apply_stdin(std::string("nft table ip ") + kNftTable, {"nft", "-f", "-"},
                    nft_ruleset(keep_client_source), {"nft", "delete", "table", "ip", kNftTable});
  }
  void begin(const WorkloadOptions& w) override {
    ProxyPath::begin(w);
    nft_before_ = nft_counters(ks_.ns());
  }

 protected:
  std::string check_interceptor(const WorkloadOptions& w, const WorkloadTotals& t, nlohmann::json& p) override {
    auto now = nft_counters(ks_.ns());
    nlohmann::json rules = nlohmann::json::object();
    for (auto& [k, v] : now) rules[k] = v - nft_before_[k];
    p["nft_rule_packets"] = rules;
    uint64_t tproxied = now["tproxy"] - nft_before_["tproxy"];
    // Every new connection's SYN (or first datagram of a flow) went through the tproxy rule.
    uint64_t need = is_tcp(w) ? t.connections : w.flows;
    if (tproxied < need)
      return fmt::format("nft tproxy rule matched {} packets, fewer than the {} new {}", tproxied, need,
                         is_tcp(w) ? "connections" : "flows");
    return {};
  }

 private:
  KernelState ks_;
  std::map<std::string, uint64_t> nft_before_;
};

// ---------------------------------------------------------------------------------------------
// tproxy-ipt: the same through xt_TPROXY. iptables-nft (the nf_tables backend, with the xt
// target through nft_compat) when present, else iptables-legacy; recorded in the proof.

std::string pick_iptables() {
  if (find_program("iptables-nft")) return "iptables-nft";
  if (find_program("iptables-legacy")) return "iptables-legacy";
  return {};
}

class TproxyIpt : public ProxyPath {
 public:
  explicit TproxyIpt(const PathContext& ctx)
      : ProxyPath(ctx, "tproxy-ipt", transparent_config()), ks_(ctx.topo.dut()), ipt_(pick_iptables()) {
    if (ipt_.empty()) throw EnvError("tproxy-ipt: neither iptables-nft nor iptables-legacy found (apt-get install iptables)");
    // iptables-nft creates the nft table `ip mangle` on first use; if it was not there before,
    // remove it afterwards (rules alone would leave an empty table and chain behind).
    const bool had_mangle = ipt_ == "iptables-nft" &&
                            run_cmd(in_netns(dut_, {"nft", "list", "table", "ip", "mangle"})).status == 0;
    if (ipt_ == "iptables-nft" && !had_mangle)
      undo_table_ = true;
    add_local_table(ks_);
    add_mark_rule(ks_);
    const std::string port = std::to_string(kProxyPort);
    for (const std::string proto : {"tcp", "udp"}) {
      std::vector<std::string> m = {"-i", Addr::kDutClientDev, "-d", kInterceptPrefix, "-p", proto};
      auto rule = [&](std::vector<std::string> tail) {
        std::vector<std::string> r = m;
        r.insert(r.end(), tail.begin(), tail.end());
        return r;
      };
      // Established: the socket match (xt_socket) finds the proxy's transparent socket.
      auto est = rule({"-m", "socket", "--transparent", "-j", "MARK", "--set-mark", kMark});
      auto tp = rule({"-j", "TPROXY", "--on-port", port, "--tproxy-mark", std::string(kMark) + "/" + kMark});
      // xt_socket for TCP only, for the reason given at the nft rules above.
      std::vector<std::vector<std::string>*> rules = {&tp};
      if (proto == "tcp") rules.insert(rules.begin(), &est);
      for (auto* r : rules) {
        std::vector<std::string> add = {ipt_, "-w", "-t", "mangle", "-A", "PREROUTING"};
        std::vector<std::string> del = {ipt_, "-w", "-t", "mangle", "-D", "PREROUTING"};
        add.insert(add.end(), r->begin(), r->end());
        del.insert(del.end(), r->begin(), r->end());
        ks_.apply(ipt_ + " mangle PREROUTING " + join(*r, " "), add, del);
      }
      // MARK does not stop traversal; established packets then hit TPROXY, whose own
      // established lookup finds the same socket. Same result as the nft path's accept.
    }
  }
  ~TproxyIpt() override {
    ks_.undo_all();
    if (undo_table_) {
      CmdResult r = run_cmd(in_netns(dut_, {"nft", "delete", "table", "ip", "mangle"}));
      if (r.status != 0) log::error("tproxy-ipt: nft delete table ip mangle in {}: {}", dut_, trim(r.err));
    }
  }
  void begin(const WorkloadOptions& w) override {
    ProxyPath::begin(w);
    ipt_before_ = tproxy_packets();
  }

 protected:
  uint64_t tproxy_packets() const {
    CmdResult r = run_cmd(in_netns(dut_, {ipt_, "-w", "-t", "mangle", "-L", "PREROUTING", "-v", "-x", "-n"}));
    uint64_t n = 0;
    for (auto& line : split(r.out, '\n'))
      if (line.find("TPROXY") != std::string::npos) {
        auto t = trim(line);
        n += std::strtoull(t.c_str(), nullptr, 10);
      }
    return n;
  }
  std::string check_interceptor(const WorkloadOptions& w, const WorkloadTotals& t, nlohmann::json& p) override {
    uint64_t n = tproxy_packets() - ipt_before_;
    p["iptables"] = ipt_;
    p["tproxy_rule_packets"] = n;
    uint64_t need = is_tcp(w) ? t.connections : w.flows;
    if (n < need)
      return fmt::format("TPROXY rules matched {} packets, fewer than the {} new {}", n, need,
                         is_tcp(w) ? "connections" : "flows");
    return {};
  }

 private:
  KernelState ks_;
  std::string ipt_;
  bool undo_table_ = false;
  uint64_t ipt_before_ = 0;
};

// ---------------------------------------------------------------------------------------------
// BPF steering paths: sk-lookup and tc-sk-assign.

pb_steer_stats sum_steer_stats(int map_fd) {
  pb_steer_stats total{};
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0 || map_fd < 0) return total;
  std::vector<pb_steer_stats> v(static_cast<size_t>(ncpu));
  uint32_t key = 0;
  if (bpf_map_lookup_elem(map_fd, &key, v.data()) != 0) return total;
  for (auto& s : v) {
    total.runs += s.runs;
    total.in_scope += s.in_scope;
    total.tcp_assigned += s.tcp_assigned;
    total.udp_assigned += s.udp_assigned;
    total.established += s.established;
    total.no_socket += s.no_socket;
    total.assign_failed += s.assign_failed;
    total.not_syn += s.not_syn;
  }
  return total;
}

nlohmann::json steer_json(const pb_steer_stats& a, const pb_steer_stats& b) {
  return {{"runs", a.runs - b.runs},
          {"in_scope", a.in_scope - b.in_scope},
          {"tcp_assigned", a.tcp_assigned - b.tcp_assigned},
          {"udp_assigned", a.udp_assigned - b.udp_assigned},
          {"established", a.established - b.established},
          {"no_socket", a.no_socket - b.no_socket},
          {"assign_failed", a.assign_failed - b.assign_failed},
          {"not_syn", a.not_syn - b.not_syn}};
}

template <class Skel>
void set_filter(Skel* s) {
  tproxy::Ipv4Range r = tproxy::Ipv4Range::parse(kInterceptPrefix);
  s->rodata->dst_net = r.net;
  s->rodata->dst_mask = r.mask;
  s->rodata->port_min = 1;
  s->rodata->port_max = 65535;
}

// Puts the proxy's first TCP listener and UDP socket into the SOCKMAP (the rest of each
// SO_REUSEPORT group is reached by the kernel's reuseport selection after the assignment).
void fill_sockmap(int map_fd, const tproxy::Proxy& proxy, const std::string& what) {
  auto tcp = proxy.tcp_listener_fds();
  auto udp = proxy.udp_socket_fds();
  for (auto [slot, fds] : {std::pair{uint32_t{PB_STEER_SLOT_TCP}, tcp}, std::pair{uint32_t{PB_STEER_SLOT_UDP}, udp}}) {
    if (fds.empty()) continue;
    uint64_t fd = static_cast<uint64_t>(fds.front());
    if (bpf_map_update_elem(map_fd, &slot, &fd, BPF_ANY) != 0)
      throw BpfError(errno_msg(what + ": proxy_socks[" + std::to_string(slot) + "] = proxy socket", errno));
  }
}

std::string steer_check(const WorkloadOptions& w, const WorkloadTotals& t, const pb_steer_stats& d) {
  if (is_tcp(w)) {
    if (d.tcp_assigned < t.connections)
      return fmt::format("the BPF program assigned {} SYNs to the proxy, fewer than the {} connections",
                         d.tcp_assigned, t.connections);
  } else if (d.udp_assigned < w.flows) {
    return fmt::format("the BPF program assigned {} datagrams to the proxy, fewer than the {} flows",
                       d.udp_assigned, w.flows);
  }
  if (d.assign_failed) return fmt::format("bpf_sk_assign failed {} times", d.assign_failed);
  return {};
}

class SkLookup : public ProxyPath {
 public:
  explicit SkLookup(const PathContext& ctx)
      : ProxyPath(ctx, "sk-lookup", transparent_config()), ks_(ctx.topo.dut()) {
    add_local_table(ks_);
    add_iif_rules(ks_);
    skel_ = sk_lookup::open();
    if (!skel_) throw BpfError(errno_msg("sk_lookup: open skeleton", errno));
    set_filter(skel_);
    if (int e = sk_lookup::load(skel_); e) throw BpfError(errno_msg("sk_lookup: load (verifier refused?)", -e));
    fill_sockmap(bpf_map__fd(skel_->maps.proxy_socks), *proxy_, "sk_lookup");
    // The netns link holds the attachment; it goes when the link is destroyed (or this process
    // dies). Attached from a thread inside the DUT namespace, as for every attachment here.
    run_in_netns(dut_, [&] {
      NetnsFd ns(dut_);
      link_ = bpf_program__attach_netns(skel_->progs.pb_sk_lookup, ns.fd());
      if (!link_) throw BpfError(errno_msg("bpf_program__attach_netns(sk_lookup, " + dut_ + ")", errno));
    });
    log::debug("sk-lookup: program attached to {}", dut_);
  }
  ~SkLookup() override {
    if (link_) bpf_link__destroy(link_);
    if (skel_) sk_lookup::destroy(skel_);
    log::debug("sk-lookup: program detached from {}", dut_);
  }

 protected:
  pb_steer_stats bpf_stats() const override {
    return skel_ ? sum_steer_stats(bpf_map__fd(skel_->maps.steer_stats)) : pb_steer_stats{};
  }
  std::string check_interceptor(const WorkloadOptions& w, const WorkloadTotals& t, nlohmann::json& p) override {
    auto now = bpf_stats();
    p["sk_lookup"] = steer_json(now, bpf_before_);
    pb_steer_stats d{};
    d.tcp_assigned = now.tcp_assigned - bpf_before_.tcp_assigned;
    d.udp_assigned = now.udp_assigned - bpf_before_.udp_assigned;
    d.assign_failed = now.assign_failed - bpf_before_.assign_failed;
    return steer_check(w, t, d);
  }

 private:
  KernelState ks_;
  sk_lookup* skel_ = nullptr;
  bpf_link* link_ = nullptr;
};

class TcSkAssign : public ProxyPath {
 public:
  explicit TcSkAssign(const PathContext& ctx)
      : ProxyPath(ctx, "tc-sk-assign", transparent_config()), ks_(ctx.topo.dut()) {
    add_local_table(ks_);
    add_iif_rules(ks_);
    skel_ = tc_sk_assign::open();
    if (!skel_) throw BpfError(errno_msg("tc_sk_assign: open skeleton", errno));
    set_filter(skel_);
    if (int e = tc_sk_assign::load(skel_); e) throw BpfError(errno_msg("tc_sk_assign: load (verifier refused?)", -e));
    fill_sockmap(bpf_map__fd(skel_->maps.proxy_socks), *proxy_, "tc_sk_assign");
    // The same TC ingress attachment as tc-redirect: TCX link, clsact fallback (bpf_util.h).
    tc_ = std::make_unique<bpf::TcIngress>(dut_, Addr::kDutClientDev, bpf_program__fd(skel_->progs.pb_tc_sk_assign));
    log::debug("tc-sk-assign: program attached to {} ingress in {} ({})", Addr::kDutClientDev, dut_, tc_->mode());
  }
  ~TcSkAssign() override {
    tc_.reset();  // detach before the program's maps go
    if (skel_) tc_sk_assign::destroy(skel_);
    log::debug("tc-sk-assign: program detached");
  }

 protected:
  pb_steer_stats bpf_stats() const override {
    return skel_ ? sum_steer_stats(bpf_map__fd(skel_->maps.steer_stats)) : pb_steer_stats{};
  }
  std::string check_interceptor(const WorkloadOptions& w, const WorkloadTotals& t, nlohmann::json& p) override {
    auto now = bpf_stats();
    p["tc_sk_assign"] = steer_json(now, bpf_before_);
    p["attach"] = tc_ ? tc_->mode() : "none";
    pb_steer_stats d{};
    d.tcp_assigned = now.tcp_assigned - bpf_before_.tcp_assigned;
    d.udp_assigned = now.udp_assigned - bpf_before_.udp_assigned;
    d.assign_failed = now.assign_failed - bpf_before_.assign_failed;
    return steer_check(w, t, d);
  }

 private:
  KernelState ks_;
  tc_sk_assign* skel_ = nullptr;
  std::unique_ptr<bpf::TcIngress> tc_;
};

std::optional<std::string> need_root() {
  if (!is_root()) return std::string("needs root (CAP_NET_ADMIN for IP_TRANSPARENT and rules)");
  return std::nullopt;
}

}  // namespace

void add_proxy_paths(std::vector<PathInfo>& v) {
  auto add = [&](std::string name, std::string desc, bool def,
                 std::function<std::optional<std::string>()> unsup,
                 std::function<std::unique_ptr<PathInstance>(const PathContext&)> make) {
    PathInfo p;
    p.name = std::move(name);
    p.description = std::move(desc);
    p.in_default_suite = def;
    p.unsupported = std::move(unsup);
    p.make = std::move(make);
    v.push_back(std::move(p));
  };
  add("proxy-plain", "user-space proxy at the DUT's own address, no interception (control)", true,
      need_root, [](const PathContext& c) { return std::make_unique<ProxyPlain>(c); });
  add("tproxy-nft", "nft tproxy rule + fwmark policy route -> transparent proxy", true,
      [] {
        if (auto r = need_root()) return r;
        if (!find_program("nft")) return std::optional<std::string>("nft not found (apt-get install nftables)");
        return std::optional<std::string>();
      },
      [](const PathContext& c) { return std::make_unique<TproxyNft>(c, false); });
  add("tproxy-ipt", "iptables -j TPROXY (xt_TPROXY) + fwmark policy route -> transparent proxy", true,
      [] {
        if (auto r = need_root()) return r;
        if (pick_iptables().empty())
          return std::optional<std::string>("neither iptables-nft nor iptables-legacy found (apt-get install iptables)");
        return std::optional<std::string>();
      },
      [](const PathContext& c) { return std::make_unique<TproxyIpt>(c); });
  add("sk-lookup", "BPF sk_lookup (netns link) assigns the proxy socket; policy route local, no netfilter", true,
      need_root, [](const PathContext& c) { return std::make_unique<SkLookup>(c); });
  add("tc-sk-assign", "TC ingress BPF bpf_sk_assign to the proxy socket (Cilium's way); policy route local", true,
      need_root, [](const PathContext& c) { return std::make_unique<TcSkAssign>(c); });
  add("tproxy-nft-transparent",
      "tproxy-nft with full transparency: upstream connections keep the client's source address", false,
      [] {
        if (auto r = need_root()) return r;
        if (!find_program("nft")) return std::optional<std::string>("nft not found (apt-get install nftables)");
        return std::optional<std::string>();
      },
      [](const PathContext& c) { return std::make_unique<TproxyNft>(c, true); });
}

// ---------------------------------------------------------------------------------------------
// tproxy-nft toward a proxy that is not ours (peers mode: HAProxy with `bind ... transparent`):
// the same table, rule and route as tproxy-nft, pointed at `proxy_port`; no proxy started here.

namespace {
class TproxyNftExternal : public PathInstance {
 public:
  TproxyNftExternal(const PathContext& ctx, uint16_t port) : ks_(ctx.topo.dut()), port_(port) {
    add_local_table(ks_);
    add_mark_rule(ks_);
    ks_.apply_stdin(std::string("nft table ip ") + kNftTable, {"nft", "-f", "-"}, nft_ruleset(false, port),
                    {"nft", "delete", "table", "ip", kNftTable});
  }
  std::string expected_server_src() const override { return Addr::kDutServerSide; }
  bool routes() const override { return false; }
  void begin(const WorkloadOptions&) override { before_ = nft_counters(ks_.ns()); }
  nlohmann::json end(const WorkloadOptions& w, const WorkloadTotals& t) override {
    auto now = nft_counters(ks_.ns());
    uint64_t tproxied = now["tproxy"] - before_["tproxy"];
    nlohmann::json p = {{"nft_tproxy_rule_packets", tproxied}, {"proxy_port", port_}, {"ok", true}};
    uint64_t need = is_tcp(w) ? t.connections : w.flows;
    if (tproxied < need) {
      p["ok"] = false;
      p["reason"] = fmt::format("nft tproxy rule matched {} packets, fewer than the {} new connections", tproxied, need);
    }
    return p;
  }

 private:
  KernelState ks_;
  uint16_t port_;
  std::map<std::string, uint64_t> before_;
};
}  // namespace

std::unique_ptr<PathInstance> make_tproxy_nft_external(const PathContext& ctx, uint16_t proxy_port) {
  return std::make_unique<TproxyNftExternal>(ctx, proxy_port);
}

}  // namespace pb
