// SPDX-License-Identifier: Apache-2.0
#include "run/schedule.h"

#include <algorithm>
#include <random>

#include "kernel/host.h"
#include "peers/haproxy.h"
#include "peers/tools.h"

namespace pb {

Placement placement(const std::string& policy) {
  const int last = online_cpus() > 1 ? online_cpus() - 1 : 0;
  Placement p;
  if (policy == "one-cpu") p = {0, 0, 0};
  else if (policy == "split") p = {0, last, last};
  return p;
}

// Why one-cpu is the default on 2 vCPUs (measured here, baseline, 2 s windows): with threads on
// different CPUs every round trip pays cross-CPU wake-ups (IPIs, VM exits): tcp_rr p50 53 us and
// 18k/s, against 16 us and 60k/s when generator, responder and the softirq work they trigger share
// one CPU; unpinned runs flip between the two modes from one repetition to the next. One CPU also
// makes every path's cost land on the same core, so CPU cost differences show as throughput.
nlohmann::json pinning_json(const std::string& policy) {
  const int n = online_cpus();
  const Placement p = placement(policy);
  std::string last = std::to_string(n > 1 ? n - 1 : 0);
  std::string d = policy == "one-cpu"
                      ? "generator, responder and proxy threads on CPU 0; the DUT's softirq work runs where the sender runs"
                  : policy == "split" ? "generator threads on CPU 0, responder and proxy threads on CPU " + last
                                      : "no pinning: the scheduler places generator, responder, proxy and softirq work";
  auto cpu = [](int c) { return c < 0 ? nlohmann::json(nullptr) : nlohmann::json(c); };
  return {{"policy", policy},
          {"description", d},
          {"online_cpus", n},
          {"generator_cpu", cpu(p.generator_cpu)},
          {"responder_cpu", cpu(p.responder_cpu)},
          {"proxy_cpu", cpu(p.proxy_cpu)}};
}

namespace {

MatchPosition match_position(const std::string& s) {
  return s == "first" ? MatchPosition::kFirst : s == "middle" ? MatchPosition::kMiddle : MatchPosition::kLast;
}

WorkloadOptions workload_options(const RunConfig& cfg, uint32_t payload, uint32_t flows, uint16_t port) {
  const Placement pl = placement(cfg.pinning);
  WorkloadOptions o;
  o.payload_bytes = payload;
  o.response_bytes = cfg.response_bytes.value_or(payload);
  o.flows = flows;
  o.duration_s = cfg.duration_s;
  o.warmup_s = cfg.warmup_s;
  o.cooldown_s = cfg.cooldown_s;
  o.rate_pps = cfg.rate_pps;
  o.stall_timeout_s = cfg.stall_timeout_s;
  o.port = port;
  o.client_cpu = pl.generator_cpu;
  o.server_cpu = pl.responder_cpu;
  o.tcp_cc = cfg.tcp_cc;
  o.tcp_buffer_bytes = cfg.tcp_buffer_bytes;
  o.responder = cfg.responder;
  return o;
}

// The trials one path instance carries: every workload x payload x flows, each followed by the
// reference tools that mirror it (peers mode).
std::vector<Trial> trials_of(const RunConfig& cfg, unsigned rep, bool services, bool haproxy) {
  std::vector<Trial> out;
  const uint16_t service_port = kBasePort;
  for (size_t wi = 0; wi < cfg.workloads.size(); ++wi) {
    const WorkloadInfo& w = *find_workload(cfg.workloads[wi]);
    if (haproxy && w.protocol != Protocol::kTcp) continue;  // HAProxy's reference is TCP only
    std::vector<uint32_t> payloads = cfg.payload_bytes.empty() ? std::vector<uint32_t>{w.default_payload} : cfg.payload_bytes;
    for (uint32_t payload : payloads)
      for (uint32_t flows : cfg.flows) {
        const uint16_t port = services ? service_port : static_cast<uint16_t>(kBasePort + wi);
        Trial t{rep, &w, for_workload(cfg, w, workload_options(cfg, payload, flows, port)), haproxy ? "haproxy" : "", true};
        out.push_back(t);
        if (!cfg.peers || haproxy) continue;
        for (const PeerTool& tool : peer_tools()) {
          if (tool.workload != w.name) continue;
          Trial r = t;
          r.reference = tool.tool;
          r.own_load = false;
          // The tool's own port: no TIME_WAIT clash with ours (one port with --services).
          r.options.port = services ? service_port : static_cast<uint16_t>(port + 100);
          // wrk sends one request, the first route's (peers/tools.cpp): the row records that one.
          if (r.options.http_routes.size() > 1) r.options.http_routes.resize(1);
          out.push_back(r);
        }
      }
  }
  return out;
}

}  // namespace

std::vector<InstancePlan> schedule_repetition(const RunConfig& cfg, unsigned rep) {
  std::vector<std::string> order = cfg.paths;
  if (cfg.order == "shuffled") {
    std::mt19937_64 rng(cfg.seed + rep);
    std::shuffle(order.begin(), order.end(), rng);
  }
  PathSettings base;
  base.proxy_workers = cfg.proxy_workers;
  base.proxy_cpus = cfg.proxy_cpus;
  if (base.proxy_cpus.empty() && placement(cfg.pinning).proxy_cpu >= 0) base.proxy_cpus = {placement(cfg.pinning).proxy_cpu};
  base.proxy_pipe_bytes = cfg.proxy_pipe_bytes;
  base.proxy_model = cfg.proxy_model;
  base.tcp_cc = cfg.tcp_cc;
  base.tcp_buffer_bytes = cfg.tcp_buffer_bytes;
  base.match_position = match_position(cfg.match_position);
  base.service_port = kBasePort;
  base.update_samples = cfg.update_samples;
  std::vector<InstancePlan> out;
  for (const std::string& pname : order) {
    const PathInfo& info = *find_path(pname);
    std::vector<uint64_t> services = info.takes_services() && !cfg.services.empty() ? cfg.services
                                                                                      : std::vector<uint64_t>{0};
    std::vector<std::string> gateways = info.takes_gateway() && !cfg.gateways.empty() ? cfg.gateways
                                                                                       : std::vector<std::string>{"none"};
    std::vector<std::string> observes = takes_observer(info) && !cfg.observes.empty() ? cfg.observes
                                                                                       : std::vector<std::string>{"none"};
    for (uint64_t n : services)
      for (const std::string& gw : gateways)
        for (const std::string& ob : observes) {
          if (ob == "gateway-log" && gw == "none") continue;  // the gateway's own log needs the gateway
          InstancePlan plan{rep, pname, base, false, trials_of(cfg, rep, n > 0, false)};
          plan.settings.services = n;
          plan.settings.gateway = gw;
          plan.settings.observe = ob;
          out.push_back(plan);
          // HAProxy in place of pathbench's proxy behind the same interception, right after it.
          if (cfg.peers && info.haproxy_reference && gw == "none" && ob == "none") {
            InstancePlan hp{rep, pname, plan.settings, true, trials_of(cfg, rep, n > 0, true)};
            if (!hp.trials.empty()) out.push_back(hp);
          }
        }
  }
  return out;
}

std::vector<InstancePlan> full_schedule(const RunConfig& cfg) {
  std::vector<InstancePlan> all;
  for (unsigned rep = 0; rep < cfg.repetitions; ++rep) {
    auto r = schedule_repetition(cfg, rep);
    all.insert(all.end(), r.begin(), r.end());
  }
  return all;
}

}  // namespace pb
