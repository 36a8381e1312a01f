// SPDX-License-Identifier: Apache-2.0
#include "paths/proxy_path.h"

#include "paths/observer.h"

#include <thread>

#include "common/error.h"
#include "common/log.h"
#include "workloads/workload.h"

namespace pb {

namespace {
constexpr const char* kTable = "100";
constexpr const char* kRulePrio = "100";

nlohmann::json counters_json(const tproxy::CounterSnapshot& s) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [k, v] : s.items()) j[k] = v;
  return j;
}
}  // namespace

void add_local_table(UndoLog& undo) {
  undo.command("route local default dev lo table 100", {{Item::kRoute, 1}},
               {"ip", "route", "add", "local", "default", "dev", "lo", "table", kTable},
               {"ip", "route", "del", "local", "default", "dev", "lo", "table", kTable});
}

void add_mark_rule(UndoLog& undo) {
  undo.command("ip rule fwmark 0x1 lookup 100", {{Item::kPolicyRule, 1}},
               {"ip", "rule", "add", "fwmark", kTproxyMark, "lookup", kTable, "priority", kRulePrio},
               {"ip", "rule", "del", "fwmark", kTproxyMark, "lookup", kTable, "priority", kRulePrio});
}

void add_iif_rules(UndoLog& undo, const Wiring& w) {
  const std::string prefix = w.server_ip + "/32";
  for (const char* proto : {"tcp", "udp"}) {
    std::vector<std::string> rule = {"iif", w.dut_client_dev, "to", prefix, "ipproto", proto,
                                     "lookup", kTable, "priority", kRulePrio};
    std::vector<std::string> add = {"ip", "rule", "add"}, del = {"ip", "rule", "del"};
    add.insert(add.end(), rule.begin(), rule.end());
    del.insert(del.end(), rule.begin(), rule.end());
    undo.command("ip rule iif " + w.dut_client_dev + " to " + prefix + " ipproto " + proto + " lookup 100",
                 {{Item::kPolicyRule, 1}}, add, del);
  }
}

tproxy::Config ProxyPath::transparent_config(bool keep_client_source) {
  tproxy::Config c;
  c.listen_ip = "0.0.0.0";
  c.transparent = true;
  c.keep_client_source = keep_client_source;
  return c;
}

ProxyPath::ProxyPath(const PathContext& ctx, tproxy::Config cfg) : PathInstance(ctx) {
  cfg.netns = roles_.dut().netns;
  cfg.port = cfg.port ? cfg.port : kProxyPort;
  cfg.workers = settings_.proxy_workers;
  if (settings_.proxy_pipe_bytes) cfg.pipe_bytes = settings_.proxy_pipe_bytes;
  cfg.cpus = settings_.proxy_cpus;
  cfg.tcp_cc = settings_.tcp_cc;
  cfg.tcp_buffer_bytes = settings_.tcp_buffer_bytes;
  cfg.own_process = settings_.proxy_model == "process";
  const bool gateway = settings_.gateway != "none";
  if (gateway && !info_.takes_gateway())
    throw PathUnsupportedHere(info_.name + " cannot take --gateway " + settings_.gateway +
                              " (the gateway connects upstream from the DUT's address)");
  if (gateway && settings_.gateway != HaproxyGateway::kName)
    throw EnvError("unknown gateway '" + settings_.gateway + "'");
  if (gateway) cfg.tcp = false;  // TCP goes to the gateway
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
  auto p = std::make_unique<tproxy::Proxy>(cfg);
  try {
    p->start();
  } catch (const std::exception& e) {
    throw EnvError(info_.name + ": proxy start in " + roles_.dut().where + ": " + e.what());
  }
  const unsigned workers = cfg.workers;
  const std::string where = cfg.own_process ? " in process " + std::to_string(p->pid()) : std::string();
  proxy_ = undo_.adopt("proxy: " + std::to_string(workers) + " worker thread(s)" + where + " on port " +
                           std::to_string(cfg.port) + (gateway ? " (UDP only)" : ""),
                       {{Item::kThread, workers}}, 0, std::move(p));
  if (!gateway) return;
  // Upstream: the original destination, or (proxy-plain) the server on the client's port.
  const std::string upstream = cfg.fixed_upstream_ip ? wiring_.server_ip : std::string();
  auto g = std::make_unique<HaproxyGateway>(roles_.dut().netns, settings_, upstream);
  if (cfg.transparent) g->listen(cfg.listen_ip, cfg.port, true);  // proxy-plain listens per port (client_target)
  const int pid = g->pid();
  gateway_ = undo_.adopt("gateway: haproxy (HTTP mode) in process " + std::to_string(pid) + " on port " +
                             std::to_string(cfg.port),
                         {{Item::kProcess, 1}}, 0, std::move(g));
  if (gateway_->logs_requests()) {
    gateway_log_ = make_gateway_log_observer(*gateway_);
    set_observer(gateway_log_.get());
  }
}

ProxyPath::~ProxyPath() { set_observer(nullptr); }

std::optional<std::string> ProxyPath::unsupported_workload(const WorkloadInfo& w) const {
  if (gateway_ && w.application != Application::kHttp)
    return "the L7 gateway (--gateway " + settings_.gateway + ") carries HTTP workloads only";
  return PathInstance::unsupported_workload(w);
}

std::vector<int> ProxyPath::tcp_listener_fds() const {
  return gateway_ ? gateway_->tcp_listener_fds() : proxy_->tcp_listener_fds();
}

void ProxyPath::path_begin(const WorkloadInfo&, const WorkloadOptions&) {
  before_ = proxy_->counters();
  if (gateway_) {
    gateway_before_ = gateway_->counters();
    gateway_cpu0_ = gateway_->cpu_ns();
  }
}

// In flight when a load stops, a connection or request reaches the proxy but is not counted by the
// load: one per flow, and twice for a tool run in two parts (wrk's discarded warm-up run, then the
// measured one).
static uint64_t in_flight(const WorkloadOptions& w) { return 2 * uint64_t{w.flows}; }

// The gateway's proof: it accepted every connection the generator made and answered every request
// through its HTTP engine, with 2xx only; none went the L4 way.
static std::string gateway_check(const GatewayCounters& d, const WorkloadOptions& w, const WorkloadTotals& t) {
  if (t.connections == 0) return "the generator made no connection";
  if (d.connections < t.connections)
    return fmt::format("the gateway accepted {} connections, the generator made {}: traffic bypassed it", d.connections,
                       t.connections);
  if (d.connections > t.connections + in_flight(w))
    return fmt::format("the gateway accepted {} connections, more than the generator's {} (+{} in flight)",
                       d.connections, t.connections, in_flight(w));
  if (d.http_requests < t.transactions)
    return fmt::format("the gateway's HTTP engine saw {} requests, the generator completed {}", d.http_requests,
                       t.transactions);
  if (d.http_requests > t.transactions + in_flight(w))
    return fmt::format("the gateway's HTTP engine saw {} requests, more than the generator's {} (+{} in flight)",
                       d.http_requests, t.transactions, in_flight(w));
  if (d.http_other) return fmt::format("the gateway answered {} requests with a status other than 2xx", d.http_other);
  // Relayed as TCP: only connections that carried no request, those the load opens on purpose
  // (wrk's address check) and, at each stop, one per flow cut between its connect and its request.
  if (d.tcp_sessions > t.idle_connections + in_flight(w))
    return fmt::format("the gateway relayed {} connections as TCP, not HTTP (at most {} carried no request)",
                       d.tcp_sessions, t.idle_connections + in_flight(w));
  return {};
}

nlohmann::json ProxyPath::path_end(const WorkloadInfo& wl, const WorkloadOptions& w, const WorkloadTotals& t) {
  nlohmann::json p;
  const bool is_tcp = tcp(wl);
  // Connections the client completed are accepted by the proxy within microseconds; give a
  // straggler at the stop a moment instead of failing the proof on a race.
  tproxy::CounterSnapshot d = proxy_->counters() - before_;
  for (int i = 0; i < 50 && is_tcp && !gateway_ && d.tcp_accepted < t.connections; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    d = proxy_->counters() - before_;
  }
  p["proxy"] = counters_json(d);
  std::string reason;
  if (gateway_ && is_tcp) {
    GatewayCounters g = gateway_->counters() - gateway_before_;
    for (int i = 0; i < 50 && (g.connections < t.connections || g.http_requests < t.transactions); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      g = gateway_->counters() - gateway_before_;
    }
    p["gateway"] = gateway_->record();
    p["gateway"]["counters"] = g.to_json();
    p["gateway"]["pid"] = gateway_->pid();
    // The gateway's own CPU time per request (a log line's cost shows here first).
    const uint64_t cpu = gateway_->cpu_ns() - gateway_cpu0_;
    p["gateway"]["cpu_ns"] = cpu;
    p["gateway"]["cpu_ns_per_request"] =
        g.http_requests ? nlohmann::json(static_cast<double>(cpu) / static_cast<double>(g.http_requests)) : nlohmann::json(nullptr);
    reason = gateway_check(g, w, t);
  }
  if (gateway_ && is_tcp) {
    // What the gateway ran with, not pathbench's proxy's settings (that proxy carried no TCP):
    // --proxy-pipe-bytes and --proxy-model do not apply to it, and --tcp-cc reaches only the
    // listeners pathbench made (HAProxy has no congestion-control setting for its own sockets).
    p["gateway"]["settings"] = {
        {"nbthread", settings_.proxy_workers},
        {"cpus", settings_.proxy_cpus},
        {"tcp_cc", {{"client_side", settings_.tcp_cc.empty() ? "default" : settings_.tcp_cc},
                    {"upstream", "the DUT namespace's default (HAProxy has no setting)"}}},
        {"tcp_buffer_bytes", settings_.tcp_buffer_bytes ? nlohmann::json(settings_.tcp_buffer_bytes)
                                                        : nlohmann::json("autotuning")},
        {"splice", "none: HTTP mode parses every request (--proxy-pipe-bytes does not apply)"}};
    p["proxy_pid"] = gateway_->pid();
  } else {
    p["proxy_workers"] = proxy_->config().workers;
    p["proxy_cpus"] = proxy_->config().cpus;
    p["proxy_pipe_bytes"] = proxy_->config().pipe_bytes;
    p["proxy_port"] = proxy_->config().port;
    p["proxy_model"] = proxy_->config().own_process ? "process" : "thread";
    p["proxy_pid"] = proxy_->pid();
    p["proxy_tcp_cc"] = proxy_->config().tcp_cc;
    p["proxy_tcp_buffer_bytes"] = proxy_->config().tcp_buffer_bytes;
    p["full_transparency"] = proxy_->config().keep_client_source;
  }
  if (gateway_ && is_tcp) {
    // The gateway's counters are the proof (above); pathbench's proxy took no TCP.
  } else if (is_tcp) {
    // Every connection the generator made was accepted by the proxy (and none more than could
    // have been in flight when it stopped).
    if (d.tcp_accepted < t.connections)
      reason = fmt::format("proxy accepted {} TCP connections, the generator made {}: traffic bypassed the proxy",
                           d.tcp_accepted, t.connections);
    else if (d.tcp_accepted > t.connections + in_flight(w))
      reason = fmt::format("proxy accepted {} TCP connections, more than the generator's {} (+{} in flight)",
                           d.tcp_accepted, t.connections, in_flight(w));
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
  if (reason.empty()) reason = check_interceptor(wl, w, t, p);
  p["ok"] = reason.empty();
  if (!reason.empty()) p["reason"] = reason;
  return p;
}

}  // namespace pb
