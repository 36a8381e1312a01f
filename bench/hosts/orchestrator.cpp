// SPDX-License-Identifier: Apache-2.0
#include "hosts/orchestrator.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "bpf_objects.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/json_io.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/process.h"
#include "git_sha.h"
#include "hosts/protocol.h"
#include "hosts/ssh.h"
#include "measure/environment.h"
#include "paths/path.h"
#include "proof/probe.h"
#include "run/runner.h"
#include "run/schedule.h"
#include "run/summary.h"
#include "run/trial.h"

namespace pb {

namespace {

const char* kRoles[] = {"client", "dut", "server"};

// The run's ssh control sockets live in a directory of its own (short, for sun_path), removed at
// the end; a killed orchestrator's masters exit by themselves (ControlPersist).
struct ControlDir {
  std::string path;
  ControlDir() {
    char t[] = "/tmp/pbh-XXXXXX";
    if (!mkdtemp(t)) throw_errno("mkdtemp /tmp/pbh-XXXXXX", errno);
    path = t;
  }
  ~ControlDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Every host connected and its agent started; the agents end (and tear down) when this goes.
struct Fleet {
  ControlDir dir;
  std::map<std::string, std::unique_ptr<SshHost>> ssh;
  std::map<std::string, std::unique_ptr<AgentConn>> agent;
  AgentConn& operator[](const std::string& role) { return *agent.at(role); }

  Fleet(const HostsConfig& hosts, const std::vector<std::string>& agent_args) {
    for (const char* r : kRoles) ssh[r] = std::make_unique<SshHost>(hosts.of(r), dir.path);
    for (const char* r : kRoles) ssh[r]->connect();
    for (const char* r : kRoles) {
      std::vector<std::string> a = agent_args;
      a.insert(a.begin(), {"--role", r});
      agent[r] = std::make_unique<AgentConn>(*ssh[r], a);
    }
  }
  ~Fleet() { close(); }
  void close() {
    for (auto& [r, a] : agent) {
      try {
        a->call({{"op", "bye"}}, 30);
      } catch (const std::exception& e) {
        log::debug("{}: bye: {}", a->where(), e.what());
      }
      a->close();
    }
    agent.clear();
    for (auto& [r, s] : ssh) s->close();
    ssh.clear();
  }
};

// The path on the DUT host, as run_trial sees a path: every call goes to the DUT's agent.
class RemotePath : public PathInstance {
 public:
  RemotePath(const PathContext& ctx, AgentConn& dut, const nlohmann::json& setup)
      : PathInstance(ctx), dut_(dut), expected_src_(setup.value("expected_server_src", std::string())) {}
  std::optional<std::string> unsupported_workload(const WorkloadInfo& w) const override {
    auto r = dut_.call({{"op", "path_unsupported"}, {"workload", w.name}});
    return r["reason"].is_string() ? std::optional<std::string>(r["reason"].get<std::string>()) : std::nullopt;
  }
  Endpoint client_target(const WorkloadOptions& o, const Endpoint& server) const override {
    auto r = dut_.call({{"op", "path_target"}, {"workload", o.name}, {"options", o.to_json()}, {"server", to_json(server)}});
    return endpoint_from_json(r["target"]);
  }
  void begin(const WorkloadOptions& o) override {
    dut_.call({{"op", "path_begin"}, {"workload", o.name}, {"options", o.to_json()}});
  }
  nlohmann::json end(const WorkloadOptions& o, const WorkloadTotals& t) override {
    return dut_.call({{"op", "path_end"}, {"workload", o.name}, {"options", o.to_json()}, {"totals", t.to_json()}}, 120)["proof"];
  }
  std::string expected_server_src() const override { return expected_src_; }

 private:
  AgentConn& dut_;
  std::string expected_src_;
};

nlohmann::json probe_verdict_row(const nlohmann::json& full, size_t index) {
  nlohmann::json v = {{"ok", full.value("ok", false)}, {"probe_index", index}};
  if (full.contains("reason")) v["reason"] = full["reason"];
  for (auto k : {"server_saw_from_expected_src", "expected_server_src", "routed", "udp_answered", "tcp_completed"})
    v[k] = full.contains(k) ? full[k] : nlohmann::json(nullptr);
  return v;
}

class HostsRunner {
 public:
  HostsRunner(const RunConfig& cfg, const HostsConfig& hosts, Fleet& fleet, const HostRoles& roles, nlohmann::json& doc,
              const std::string& out_file)
      : cfg_(cfg), hosts_(hosts), fleet_(fleet), roles_(roles), doc_(doc), out_file_(out_file) {}

  void run_instance(const InstancePlan& plan) {
    const PathInfo& info = *find_path(plan.path);
    const size_t index = doc_["path_instances"].size();
    nlohmann::json rec = {{"index", index},
                          {"path", plan.path},
                          {"path_options", plan.settings.options_json()},
                          {"repetition", plan.repetition},
                          {"proxy", info.via_proxy ? "pathbench" : "none"},
                          {"status", "ok"},
                          {"reason", nullptr},
                          {"host", hosts_.dut.ssh}};
    AgentConn& dut = fleet_["dut"];
    std::optional<std::string> why;
    std::string setup_error;
    std::unique_ptr<RemotePath> path;
    nlohmann::json probe;
    try {
      nlohmann::json r = dut.call({{"op", "path_setup"}, {"path", plan.path}, {"settings", settings_to_json(plan.settings)}}, 120);
      if (r.contains("skipped")) why = r["skipped"].get<std::string>();
      else path = std::make_unique<RemotePath>(PathContext{info, roles_, plan.settings}, dut, r);
    } catch (const Error& e) {
      if (e.code() == kExitHostLost) throw;
      setup_error = e.what();
      log::error("{}: {}", plan.path, setup_error);
    }
    if (path && cfg_.proof_capture) {
      const uint16_t up = plan.settings.services ? plan.settings.service_port : kProbeUdpPort;
      const uint16_t tp = plan.settings.services ? plan.settings.service_port : kProbeTcpPort;
      nlohmann::json full = remote_probe(*path, up, tp);
      full["path"] = plan.path;
      full["repetition"] = plan.repetition;
      full["instance"] = index;
      doc_["probes"].push_back(full);
      probe = probe_verdict_row(full, doc_["probes"].size() - 1);
      if (!probe.value("ok", false)) log::warn("{}: proof probe failed: {}", plan.path, probe.value("reason", std::string()));
    }
    if (why) {
      rec["status"] = "skipped";
      rec["reason"] = *why;
    } else if (!setup_error.empty()) {
      rec["status"] = "failed";
      rec["reason"] = setup_error;
    }
    Generator g = remote_generator();
    for (const Trial& t : plan.trials) {
      if (g_interrupted) break;
      ++done_;
      log::info("[{}/{}] rep {}/{} {} {} (hosts)", done_, total_, t.repetition + 1, cfg_.repetitions, plan.path, t.workload);
      nlohmann::json entry;
      if (!path) {
        entry = result_entry(plan.path, t.workload, t.repetition, order_++, why ? "skipped" : "failed",
                             why ? *why : setup_error);
        entry["path_options"] = plan.settings.options_json();
        entry["instance"] = index;
      } else {
        const WorkloadInfo& wi = *find_workload(t.workload);
        g.unavailable = [&wi]() -> std::optional<std::string> {
          // Live frames are injected with the DUT's and the server's XDP programs in the
          // generator's own process: one process, one machine.
          if (wi.transport == Transport::kFrames)
            return std::string("injected frames need the DUT's and server's interfaces in the generator's process: "
                               "not available with --hosts");
          return wi.unsupported ? wi.unsupported() : std::nullopt;
        };
        TrialContext tc{roles_, *path, rec["path_options"], static_cast<unsigned>(index),
                        cfg_.proof_capture ? &probe : nullptr, &g_interrupted, &g};
        entry = run_trial(tc, t, plan.path, order_++);
        if (lost_) throw Error(kExitHostLost, lost_reason_);
      }
      if (entry["status"] == "failed") any_failed_ = true;
      doc_["results"].push_back(entry);
    }
    if (path) {
      nlohmann::json r = dut.call({{"op", "path_teardown"}}, 120);
      rec["configuration"] = r.value("configuration", nlohmann::json(nullptr));
      rec["scale"] = r.value("scale", nlohmann::json(nullptr));
    }
    doc_["path_instances"].push_back(rec);
    doc_["finished_utc"] = utc_now_iso8601();
    write_json_atomic(out_file_, doc_);
  }

  void set_total(size_t n) { total_ = n; }
  bool any_failed() const { return any_failed_; }

 private:
  // The proof probe in its three parts: server half (echo + capture) on the server host, client
  // half on the client host, the verdict here (proof/probe.h).
  nlohmann::json remote_probe(RemotePath& path, uint16_t up, uint16_t tp) {
    const Wiring& w = roles_.wiring();
    try {
      WorkloadOptions uo, to;
      uo.name = "udp_rr";
      to.name = "tcp_rr";
      Endpoint ut = path.client_target(uo, {w.server_ip, up});
      Endpoint tt = path.client_target(to, {w.server_ip, tp});
      fleet_["server"].call({{"op", "probe_server_start"}, {"udp_port", up}, {"tcp_port", tp}});
      nlohmann::json c;
      try {
        c = fleet_["client"].call({{"op", "probe_client"}, {"udp_target", to_json(ut)}, {"tcp_target", to_json(tt)}}, 60);
      } catch (...) {
        fleet_["server"].call({{"op", "probe_server_stop"}});
        throw;
      }
      nlohmann::json s = fleet_["server"].call({{"op", "probe_server_stop"}});
      ProbeClientResult cr;
      cr.udp_ok = c.value("udp_ok", 0);
      cr.tcp_ok = c.value("tcp_ok", 0);
      cr.error = c.value("error", std::string());
      cr.capture = CaptureSummary::from_json(c["capture"]);
      nlohmann::json v = probe_verdict(w, CaptureSummary::from_json(s["capture"]), cr, path.expected_server_src(), path.routes());
      v["server_side"]["host"] = hosts_.server.ssh;
      v["client_side"]["host"] = hosts_.client.ssh;
      return v;
    } catch (const Error& e) {
      if (e.code() == kExitHostLost) throw;
      return {{"ok", false}, {"reason", std::string("probe could not run: ") + e.what()}};
    }
  }

  // pathbench's generator on the client host; its server side answered on the server host.
  Generator remote_generator() {
    Generator g;
    g.run = [this](const WorkloadContext& ctx, const WorkloadOptions& o) {
      PeerRun pr;
      AgentConn& cli = fleet_["client"];
      AgentConn& srv = fleet_["server"];
      auto relay = [&srv](const nlohmann::json& ask) {
        nlohmann::json q = ask;
        q.erase("ask");
        nlohmann::json r = srv.call(q, 30);
        r.erase("id");
        r.erase("ok");
        return r;
      };
      try {
        nlohmann::json r = cli.call({{"op", "generate"},
                                     {"workload", o.name},
                                     {"options", o.to_json()},
                                     {"target", to_json(ctx.target)},
                                     {"server_bind", to_json(ctx.server_bind)}},
                                    o.warmup_s + o.duration_s + o.cooldown_s + 60, relay);
        pr.result = result_from_json(r["result"]);
      } catch (const Error& e) {
        if (e.code() == kExitHostLost) {
          lost_ = true;
          lost_reason_ = e.what();
        }
        // The server host's responder must not outlive a failed generator.
        try {
          srv.call({{"op", "responder_stop"}}, 10);
        } catch (const std::exception&) {
        }
        pr.result.ok = false;
        pr.result.reason = e.what();
      }
      return pr;
    };
    return g;
  }

  const RunConfig& cfg_;
  const HostsConfig& hosts_;
  Fleet& fleet_;
  const HostRoles& roles_;
  nlohmann::json& doc_;
  const std::string& out_file_;
  unsigned order_ = 0;
  size_t done_ = 0, total_ = 0;
  bool any_failed_ = false, lost_ = false;
  std::string lost_reason_;
};

// hello: same version and BPF objects as ours, root.
void check_hello(AgentConn& a, const nlohmann::json& h) {
  const std::string v = h.value("version", std::string("?")), b = h.value("bpf_objects_sha256", std::string("?"));
  if (h.value("protocol", 0) != kAgentProtocol || v != PATHBENCH_VERSION || b != PB_BPF_OBJECTS_SHA256)
    throw Error(kExitHostVersion,
                fmt::format("{}: pathbench {} (git {}, BPF objects {}) differs from the orchestrator's {} (git {}, BPF objects "
                            "{}): install the same pathbench on every host",
                            a.where(), v, h.value("git_sha", std::string("?")), b.substr(0, 12), PATHBENCH_VERSION,
                            PATHBENCH_GIT_SHA, std::string(PB_BPF_OBJECTS_SHA256).substr(0, 12)));
  if (!h.value("root", false))
    throw Error(kExitHostPrivilege, fmt::format("{}: the agent runs as uid {}, not root (paths need CAP_NET_ADMIN and "
                                                "CAP_BPF): log in as root or give the ssh user root",
                                                a.where(), h.value("uid", -1)));
}

}  // namespace

int run_hosts_benchmark(const RunConfig& cfg, const HostsConfig& hosts) {
  const std::string out_file = cfg.out_dir + "/run.json";
  const uint64_t t_start = mono_ns();
  log::info("run {}: hosts mode ({}): connecting to {}, {}, {}", cfg.run_id, hosts.file, hosts.client.ssh, hosts.dut.ssh,
            hosts.server.ssh);
  std::vector<std::string> agent_args = {"--run-id", cfg.run_id};
  if (cfg.verbose) agent_args.push_back("-v");
  Fleet fleet(hosts, agent_args);
  nlohmann::json hello = nlohmann::json::object();
  for (const char* r : kRoles) {
    hello[r] = fleet[r].call({{"op", "hello"}}, 30);
    check_hello(fleet[r], hello[r]);
  }
  Wiring w = hosts.wiring();
  nlohmann::json checks = nlohmann::json::object();
  for (const char* r : kRoles)
    fleet[r].call({{"op", "check"}, {"phase", "safety"}, {"wiring", to_json(w)}, {"management", hosts.of(r).management}}, 30);
  for (const char* r : kRoles)
    checks[r] = fleet[r].call({{"op", "check"}, {"wiring", to_json(w)}, {"management", hosts.of(r).management}}, 30);
  w.client_mac = checks["client"]["macs"].value(w.client_dev, "");
  w.dut_client_mac = checks["dut"]["macs"].value(w.dut_client_dev, "");
  w.dut_server_mac = checks["dut"]["macs"].value(w.dut_server_dev, "");
  w.server_mac = checks["server"]["macs"].value(w.server_dev, "");
  const nlohmann::json host_names = {{"client", hosts.client.ssh}, {"dut", hosts.dut.ssh}, {"server", hosts.server.ssh}};
  HostRoles roles("", w, host_names);
  for (const char* r : kRoles) fleet[r].call({{"op", "roles"}, {"wiring", to_json(w)}, {"hosts", host_names}});

  nlohmann::json doc = {{"schema_version", 2},
                        {"tool", {{"name", "pathbench"}, {"version", PATHBENCH_VERSION}, {"git_sha", PATHBENCH_GIT_SHA}}},
                        {"run_id", cfg.run_id},
                        {"status", "running"},
                        {"status_reason", nullptr},
                        {"started_utc", utc_now_iso8601()},
                        {"options", cfg.to_json()},
                        {"catalogue", catalogue_json()},
                        {"results", nlohmann::json::array()},
                        {"probes", nlohmann::json::array()},
                        {"path_instances", nlohmann::json::array()}};
  // The environment is per host; its top level is the DUT's (the machine whose cost is measured),
  // so tools reading environment.kernel and the like read the DUT's.
  nlohmann::json env_hosts = nlohmann::json::object();
  for (const char* r : kRoles) {
    env_hosts[r] = fleet[r].call({{"op", "environment"}}, 60)["environment"];
    env_hosts[r]["ssh"] = hosts.of(r).ssh;
    env_hosts[r]["agent"] = hello[r];
  }
  doc["environment"] = env_hosts["dut"];
  doc["environment"]["hosts"] = env_hosts;
  doc["environment"]["topology"] = roles.describe();
  doc["environment"]["cpu_pinning"] = pinning_json(cfg.pinning);
  write_json_atomic(out_file, doc);

  int exit_code = kExitOk;
  HostsRunner runner(cfg, hosts, fleet, roles, doc, out_file);
  size_t total = 0;
  for (auto& plan : full_schedule(cfg)) total += plan.trials.size();
  runner.set_total(total);
  unsigned reps_done = 0;
  std::string stop_reason = "repetitions done";
  try {
    for (unsigned rep = 0; rep < cfg.repetitions && !g_interrupted; ++rep) {
      for (const InstancePlan& plan : schedule_repetition(cfg, rep)) {
        if (g_interrupted) break;
        runner.run_instance(plan);
      }
      if (!g_interrupted) reps_done = rep + 1;
    }
  } catch (const Error& e) {
    if (e.code() != kExitHostLost) throw;
    doc["status"] = "failed";
    doc["status_reason"] = e.what();
    doc["finished_utc"] = utc_now_iso8601();
    write_json_atomic(out_file, doc);
    throw;
  }
  if (g_interrupted) stop_reason = "interrupted";
  doc["stop"] = {{"reason", stop_reason},
                 {"repetitions", reps_done},
                 {"elapsed_s", static_cast<double>(mono_ns() - t_start) / 1e9},
                 {"detail", nlohmann::json::object()}};
  if (g_interrupted) {
    doc["status"] = "interrupted";
    doc["status_reason"] = "signal " + std::to_string(g_interrupted.load());
    exit_code = g_interrupted == SIGINT ? kExitSigint : kExitSigterm;
  } else {
    doc["status"] = "complete";
    if (runner.any_failed()) exit_code = kExitFailedCheck;
  }
  log::info("run {}: tearing down on the hosts", cfg.run_id);
  fleet.close();
  doc["finished_utc"] = utc_now_iso8601();
  write_json_atomic(out_file, doc);
  print_summary(doc);
  log::info("results: {}", out_file);
  return exit_code;
}

int cleanup_hosts(const HostsConfig& hosts) {
  ControlDir dir;
  int rc = kExitOk;
  for (const char* r : kRoles) {
    const HostSpec& h = hosts.of(r);
    try {
      SshHost ssh(h, dir.path);
      ssh.connect();
      CmdResult res = run_cmd(ssh.argv({h.pathbench, "agent", "--cleanup"}), {}, 60);
      if (res.status != 0) throw EnvError(h.where() + ": pathbench agent --cleanup exited " + std::to_string(res.status) +
                                          ": " + res.err);
      std::printf("%s: %s\n", h.where().c_str(), trim(res.out).c_str());
    } catch (const Error& e) {
      log::error("{}", e.what());
      rc = e.code();
    }
  }
  return rc;
}

}  // namespace pb
