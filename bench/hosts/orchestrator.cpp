// SPDX-License-Identifier: Apache-2.0
#include "hosts/orchestrator.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "bpf_objects.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strings.h"
#include "git_sha.h"
#include "hosts/protocol.h"
#include "hosts/ssh.h"
#include "kernel/process.h"
#include "paths/path.h"
#include "proof/probe.h"
#include "run/runner.h"

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
        if (a->lost().empty()) a->call({{"op", "bye"}}, 30);
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
  Endpoint client_target(Protocol p, const Endpoint& server) const override {
    return dut_.call({{"op", "path_target"}, {"protocol", p}, {"server", server}})["target"].get<Endpoint>();
  }
  void path_begin(const WorkloadInfo& w, const WorkloadOptions& o) override {
    dut_.call({{"op", "path_begin"}, {"workload", w.name}, {"options", o}});
  }
  nlohmann::json path_end(const WorkloadInfo& w, const WorkloadOptions& o, const WorkloadTotals& t) override {
    return dut_.call({{"op", "path_end"}, {"workload", w.name}, {"options", o}, {"totals", t}}, 120)["proof"];
  }
  std::string expected_server_src() const override { return expected_src_; }

 private:
  AgentConn& dut_;
  std::string expected_src_;
};

// The instance the DUT's agent installed (run/installed_path.h there); teardown is the agent's.
class RemoteSitePath : public SitePath {
 public:
  RemoteSitePath(const PathContext& ctx, AgentConn& dut, const nlohmann::json& setup)
      : dut_(dut), path_(ctx, dut, setup) {}
  PathInstance& path() override { return path_; }
  nlohmann::json teardown() override { return dut_.call({{"op", "path_teardown"}}, 120); }

 private:
  AgentConn& dut_;
  RemotePath path_;
};

// The proof probe's halves on their hosts: the server's echo responders and capture on the server
// host, the client's exchange on the client host (proof/probe.h); the verdict is the runner's.
class RemoteProbe : public ProbeHalves {
 public:
  explicit RemoteProbe(Fleet& fleet) : fleet_(fleet) {}
  void server_start(uint16_t udp_port, uint16_t tcp_port) override {
    fleet_["server"].call({{"op", "probe_server_start"}, {"udp_port", udp_port}, {"tcp_port", tcp_port}});
  }
  ProbeClientResult client(const Endpoint& udp_target, const Endpoint& tcp_target) override {
    return fleet_["client"]
        .call({{"op", "probe_client"}, {"udp_target", udp_target}, {"tcp_target", tcp_target}}, 60)["result"]
        .get<ProbeClientResult>();
  }
  CaptureSummary server_stop() override {
    return fleet_["server"].call({{"op", "probe_server_stop"}})["capture"].get<CaptureSummary>();
  }

 private:
  Fleet& fleet_;
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

class HostsSite : public Site {
 public:
  HostsSite(const RunConfig& cfg, const HostsConfig& hosts)
      : cfg_(cfg), hosts_(hosts), fleet_(hosts, agent_args(cfg)), probe_(fleet_) {
    for (const char* r : kRoles) {
      hello_[r] = fleet_[r].call({{"op", "hello"}}, 30);
      check_hello(fleet_[r], hello_[r]);
    }
    Wiring w = hosts.wiring();
    // Two phases, each on every host before the next: nothing unsafe anywhere, then the wiring.
    for (const char* r : kRoles)
      fleet_[r].call({{"op", "check"}, {"phase", "safety"}, {"wiring", w}, {"management", hosts.of(r).management}}, 30);
    nlohmann::json checks = nlohmann::json::object();
    for (const char* r : kRoles)
      checks[r] = fleet_[r].call({{"op", "check"}, {"wiring", w}, {"management", hosts.of(r).management}}, 30);
    w.client_mac = checks["client"]["macs"].value(w.client_dev, "");
    w.dut_client_mac = checks["dut"]["macs"].value(w.dut_client_dev, "");
    w.dut_server_mac = checks["dut"]["macs"].value(w.dut_server_dev, "");
    w.server_mac = checks["server"]["macs"].value(w.server_dev, "");
    host_names_ = {{"client", hosts.client.ssh}, {"dut", hosts.dut.ssh}, {"server", hosts.server.ssh}};
    roles_ = std::make_unique<HostRoles>("", w, host_names_);
    // The run's process-wide BPF settings hold on every host (--bpf-stats, --tc-attach).
    for (const char* r : kRoles)
      fleet_[r].call({{"op", "roles"},
                      {"wiring", w},
                      {"hosts", host_names_},
                      {"bpf_stats", cfg.bpf_stats},
                      {"tc_attach", cfg.tc_attach},
                      {"kernel_profile_ns", cfg.kernel_profile_ns}});
  }

  // The environment is per host; its top level is the DUT's (the machine whose cost is measured),
  // so tools reading environment.kernel and the like read the DUT's.
  nlohmann::json environment() override {
    nlohmann::json env_hosts = nlohmann::json::object();
    for (const char* r : kRoles) {
      env_hosts[r] = fleet_[r].call({{"op", "environment"}}, 60)["environment"];
      env_hosts[r]["ssh"] = hosts_.of(r).ssh;
      env_hosts[r]["agent"] = hello_[r];
    }
    nlohmann::json env = env_hosts["dut"];
    env["hosts"] = env_hosts;
    env["topology"] = roles_->describe();
    env["cpu_pinning"] = pinning_json(cfg_.pinning);
    return env;
  }

  BuiltPath build(const InstancePlan& plan) override {
    nlohmann::json req = {{"op", "path_setup"}, {"path", plan.path}, {"settings", plan.settings}};
    if (cfg_.inject_cost_ns) req["inject_cost_ns"] = *cfg_.inject_cost_ns;
    nlohmann::json r = fleet_["dut"].call(req, 120);
    if (r.contains("skipped")) return {nullptr, r["skipped"].get<std::string>()};
    return {std::make_unique<RemoteSitePath>(PathContext{*find_path(plan.path), *roles_, plan.settings}, fleet_["dut"], r),
            std::nullopt};
  }

  const Roles& roles() const override { return *roles_; }
  ProbeHalves& probe() override { return probe_; }

  // pathbench's generator on the client host; its server side answered on the server host.
  Generator generator(const Trial& t) override {
    const WorkloadInfo& wi = *t.workload;
    Generator g;
    g.unavailable = [&wi]() -> std::optional<std::string> {
      // Live frames are injected with the DUT's and the server's XDP programs in the
      // generator's own process: one process, one machine.
      if (wi.transport == Transport::kFrames)
        return std::string("injected frames need the DUT's and server's interfaces in the generator's process: "
                           "not available with --hosts");
      return wi.unsupported ? wi.unsupported() : std::nullopt;
    };
    g.run = [this](const WorkloadContext& ctx, const WorkloadOptions& o) {
      PeerRun pr;
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
        nlohmann::json r = fleet_["client"].call({{"op", "generate"},
                                                  {"workload", ctx.workload.name},
                                                  {"options", o},
                                                  {"target", ctx.target},
                                                  {"server_bind", ctx.server_bind}},
                                                 o.warmup_s + o.duration_s + o.cooldown_s + 60, relay);
        pr.result = r["result"].get<WorkloadResult>();
      } catch (const Error& e) {
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

  void annotate_instance(nlohmann::json& rec) const override { rec["host"] = hosts_.dut.ssh; }
  void annotate_probe(nlohmann::json& probe) const override {
    if (probe.contains("server_side")) probe["server_side"]["host"] = hosts_.server.ssh;
    if (probe.contains("client_side")) probe["client_side"]["host"] = hosts_.client.ssh;
  }

  void check() const override {
    for (const char* r : kRoles) {
      auto it = fleet_.agent.find(r);
      if (it != fleet_.agent.end() && !it->second->lost().empty()) throw Error(kExitHostLost, it->second->lost());
    }
  }

  void close() override {
    log::info("run {}: tearing down on the hosts", cfg_.run_id);
    fleet_.close();
  }

 private:
  static std::vector<std::string> agent_args(const RunConfig& cfg) {
    std::vector<std::string> a = {"--run-id", cfg.run_id};
    if (cfg.verbose) a.push_back("-v");
    return a;
  }

  const RunConfig& cfg_;
  const HostsConfig& hosts_;
  Fleet fleet_;
  RemoteProbe probe_;
  nlohmann::json hello_ = nlohmann::json::object();
  nlohmann::json host_names_;
  std::unique_ptr<HostRoles> roles_;
};

}  // namespace

std::optional<std::string> hosts_mode_refuses(const RunConfig& cfg) {
  // The reference tools (iperf3, sockperf, wrk) and HAProxy are started by this process on both
  // sides of the path at once, as child processes inside the role namespaces of this machine;
  // with --hosts there is no such namespace here, and the agents do not run them.
  if (cfg.peers)
    return std::string("--peers is not available with --hosts: the reference tools and HAProxy run as processes in this "
                       "machine's role namespaces, which hosts mode does not have");
  // The gateway is a child process pathbench starts in the DUT's namespace with the listening
  // sockets it made; the agents build pathbench's own proxy only.
  if (std::find(cfg.gateways.begin(), cfg.gateways.end(), "haproxy") != cfg.gateways.end())
    return std::string("--gateway haproxy is not available with --hosts: the gateway is started by this process, in "
                       "this machine's DUT namespace, with sockets it made; the agents run pathbench's own proxy only");
  // The sampler runs where the window is measured, the client's host here: its profile would be
  // the generators' machine, not the DUT's.
  if (cfg.kernel_profile_ns)
    return std::string("--kernel-profile-ns is not available with --hosts: the profiler samples the machine the "
                       "measured window runs on, which with --hosts is the client's host, not the DUT");
  return std::nullopt;
}

std::unique_ptr<Site> make_hosts_site(const RunConfig& cfg, const HostsConfig& hosts) {
  log::info("run {}: hosts mode ({}): connecting to {}, {}, {}", cfg.run_id, hosts.file, hosts.client.ssh, hosts.dut.ssh,
            hosts.server.ssh);
  return std::make_unique<HostsSite>(cfg, hosts);
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
