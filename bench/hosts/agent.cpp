// SPDX-License-Identifier: Apache-2.0
#include "hosts/agent.h"

#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <string_view>

#include "bpf_objects.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/testhook.h"
#include "git_sha.h"
#include "hosts/agent_io.h"
#include "hosts/agent_state.h"
#include "hosts/host_checks.h"
#include "hosts/protocol.h"
#include "kernel/host.h"
#include "measure/environment.h"
#include "paths/path.h"
#include "proof/probe.h"
#include "run/installed_path.h"
#include "run/runner.h"
#include "workloads/responder.h"

namespace pb {

namespace {

std::string hostname() {
  char h[256] = {};
  gethostname(h, sizeof h - 1);
  return h;
}

// The server side of a workload generated on this (client) host, on the server host: each call
// is an ask the orchestrator relays to the server's agent (responder_*).
class RemoteServer : public workload::ServerSide {
 public:
  using Ask = std::function<nlohmann::json(const nlohmann::json&)>;
  RemoteServer(Ask ask, const WorkloadInfo& info, const WorkloadOptions& opt, const Endpoint& bind) : ask_(std::move(ask)) {
    ask_({{"ask", "server"}, {"op", "responder_start"}, {"workload", info.name}, {"options", opt}, {"bind", bind}});
  }
  ~RemoteServer() override {
    try {
      stop();
    } catch (const std::exception&) {
    }
  }
  void sync() override { take(ask_({{"ask", "server"}, {"op", "responder_sync"}})); }
  uint64_t bytes_received() const override { return bytes_.load(); }
  uint64_t packets_received() const override { return packets_.load(); }
  std::string error() const override {
    std::lock_guard lk(mu_);
    return error_;
  }
  void stall() override { ask_({{"ask", "server"}, {"op", "responder_stall"}}); }
  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    try {
      take(ask_({{"ask", "server"}, {"op", "responder_stop"}}));
    } catch (const std::exception& e) {
      std::lock_guard lk(mu_);
      error_ = e.what();
    }
  }

 private:
  void take(const nlohmann::json& c) {
    if (!c.is_object()) return;
    bytes_ = c.value("bytes", uint64_t{0});
    packets_ = c.value("packets", uint64_t{0});
    std::lock_guard lk(mu_);
    if (error_.empty()) error_ = c.value("error", std::string());
  }
  Ask ask_;
  std::atomic<uint64_t> bytes_{0}, packets_{0};
  mutable std::mutex mu_;
  std::string error_;
  bool stopped_ = false;
};

class Agent {
 public:
  Agent(std::string role, std::string run_id) : role_(std::move(role)), record_(role_, std::move(run_id)) {}

  int run() {
    for (;;) {
      bool eof = false;
      auto line = in_.next(0.2, &eof);
      if (eof) {
        log::info("agent {}: stdin closed (orchestrator gone or done): tearing down", role_);
        break;
      }
      if (!line) {
        if (g_interrupted && !g_orchestrator_interrupt) {
          log::info("agent {}: signal {}: tearing down", role_, g_interrupted.load());
          break;
        }
        continue;
      }
      if (serve(*line) == "bye") break;
    }
    const uint64_t t0 = mono_ns();
    teardown();
    log::info("agent {}: everything removed in {:.0f} ms", role_, static_cast<double>(mono_ns() - t0) / 1e6);
    return kExitOk;
  }

 private:
  using Handler = nlohmann::json (Agent::*)(const nlohmann::json&);

  // The protocol's operations (docs/hosts.md "The agent protocol"), one handler each.
  static const std::map<std::string_view, Handler>& ops() {
    static const std::map<std::string_view, Handler> table = {
        {"hello", &Agent::hello},
        {"check", &Agent::check},
        {"roles", &Agent::set_roles},
        {"environment", &Agent::environment},
        {"path_setup", &Agent::path_setup},
        {"path_unsupported", &Agent::path_unsupported},
        {"path_target", &Agent::path_target},
        {"path_begin", &Agent::path_begin},
        {"path_end", &Agent::path_end},
        {"path_teardown", &Agent::path_teardown},
        {"responder_start", &Agent::responder_start},
        {"responder_sync", &Agent::responder_sync},
        {"responder_stall", &Agent::responder_stall},
        {"responder_stop", &Agent::responder_stop},
        {"probe_server_start", &Agent::probe_server_start},
        {"probe_server_stop", &Agent::probe_server_stop},
        {"probe_client", &Agent::probe_client},
        {"generate", &Agent::generate},
        {"bye", &Agent::bye},
    };
    return table;
  }

  // One request line: its reply (ok, or the error's one line and exit code) is emitted; returns
  // the op.
  std::string serve(const std::string& line) {
    nlohmann::json req;
    try {
      req = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      agent_emit({{"ok", false}, {"error", std::string("not JSON: ") + e.what()}, {"code", kExitUsage}});
      return {};
    }
    const std::string op = req.value("op", "");
    nlohmann::json rep;
    try {
      auto it = ops().find(op);
      if (it == ops().end()) throw UsageError("protocol: unknown op '" + op + "'");
      rep = (this->*(it->second))(req);
      rep["ok"] = true;
    } catch (const Error& e) {
      rep = {{"ok", false}, {"error", e.what()}, {"code", e.code()}};
    } catch (const std::exception& e) {
      rep = {{"ok", false}, {"error", e.what()}, {"code", kExitEnv}};
    }
    if (req.contains("id")) rep["id"] = req["id"];
    agent_emit(rep);
    return op;
  }

  // Asks the orchestrator (during an operation) and waits for the answer.
  nlohmann::json ask(const nlohmann::json& q) {
    agent_emit(q);
    for (;;) {
      bool eof = false;
      auto line = in_.next(30, &eof);
      if (eof || !line) throw Error(kExitHostLost, "no answer from the orchestrator to " + q.value("op", std::string("?")));
      auto j = nlohmann::json::parse(*line);
      if (!j.contains("answer")) continue;
      if (j.contains("error")) throw Error(j.value("code", static_cast<int>(kExitEnv)), j["error"].get<std::string>());
      return j["answer"];
    }
  }

  const HostRoles& roles() const {
    if (!roles_) throw UsageError("protocol: 'roles' must come before " + role_ + " operations");
    return *roles_;
  }
  PathInstance& path() {
    if (!installed_) throw UsageError("protocol: no path is set up on " + role_);
    return installed_->path();
  }
  static const WorkloadInfo& workload(const nlohmann::json& req) {
    const WorkloadInfo* w = find_workload(req.value("workload", std::string()));
    if (!w) throw UsageError("unknown workload '" + req.value("workload", std::string()) + "'");
    return *w;
  }
  static WorkloadOptions options(const nlohmann::json& req) {
    return req.value("options", nlohmann::json::object()).get<WorkloadOptions>();
  }

  // --- handshake ---
  nlohmann::json hello(const nlohmann::json&) {
    utsname u{};
    uname(&u);
    std::string version = PATHBENCH_VERSION;
    // The version check's own test: an agent that says it is another version.
    if (fault_injected("agent-version")) version += "-other";
    return {{"protocol", kAgentProtocol},
            {"version", version},
            {"git_sha", PATHBENCH_GIT_SHA},
            {"bpf_objects_sha256", PB_BPF_OBJECTS_SHA256},
            {"root", is_root()},
            {"uid", geteuid()},
            {"kernel", u.release},
            {"hostname", hostname()},
            {"pid", getpid()}};
  }
  // Everything that needs the host, before anything is changed on it (hosts/host_checks.h).
  nlohmann::json check(const nlohmann::json& req) {
    const Wiring w = req.at("wiring").get<Wiring>();
    const HostFacts f = gather_host_facts(role_, w);
    if (req.value("phase", std::string()) == "safety") {
      check_safety(f, data_interfaces(role_, w));
      return {{"session_address", f.session_ip}};
    }
    return {{"macs", check_wiring(f, role_, w, req.value("management", std::string()))}, {"hostname", f.hostname}};
  }
  nlohmann::json set_roles(const nlohmann::json& req) {
    roles_ = std::make_unique<HostRoles>(role_, req.at("wiring").get<Wiring>(), req.value("hosts", nlohmann::json::object()));
    apply_bpf_settings(req.value("bpf_stats", std::string("sample")), req.value("tc_attach", std::string("auto")),
                       req.value("kernel_profile_ns", uint64_t{0}));
    return nlohmann::json::object();
  }
  nlohmann::json environment(const nlohmann::json&) {
    nlohmann::json e = collect_environment(&roles());
    e["hostname"] = hostname();
    return {{"environment", e}};
  }

  // --- the path (DUT) ---
  nlohmann::json path_setup(const nlohmann::json& req) {
    installed_.reset();
    const PathInfo* info = find_path(req.value("path", std::string()));
    if (!info) throw UsageError("unknown path '" + req.value("path", std::string()) + "'");
    InstallOptions opt;
    opt.settings = req.at("settings").get<PathSettings>();
    if (req.contains("inject_cost_ns")) opt.inject_cost_ns = req["inject_cost_ns"].get<double>();
    if (auto why = InstalledPath::unsupported(*info, opt)) return {{"skipped", *why}};
    try {
      installed_ = std::make_unique<InstalledPath>(*info, roles(), opt);
    } catch (const PathUnsupportedHere& e) {
      return {{"skipped", e.what()}};
    }
    record_.save(installed_->pending_undo_commands());
    return {{"routes", installed_->path().routes()}, {"expected_server_src", installed_->path().expected_server_src()}};
  }
  nlohmann::json path_unsupported(const nlohmann::json& req) {
    auto why = path().unsupported_workload(workload(req));
    return {{"reason", why ? nlohmann::json(*why) : nlohmann::json(nullptr)}};
  }
  nlohmann::json path_target(const nlohmann::json& req) {
    return {{"target", path().client_target(req.at("protocol").get<Protocol>(), req.at("server").get<Endpoint>())}};
  }
  nlohmann::json path_begin(const nlohmann::json& req) {
    path().begin(workload(req), options(req));
    return nlohmann::json::object();
  }
  nlohmann::json path_end(const nlohmann::json& req) {
    return {{"proof", path().end(workload(req), options(req), req.at("totals").get<WorkloadTotals>())}};
  }
  nlohmann::json path_teardown(const nlohmann::json&) {
    if (!installed_) return nlohmann::json::object();
    nlohmann::json r = installed_->teardown();
    installed_.reset();
    record_.save(nlohmann::json::array());
    return r;
  }

  // --- the responder (server) ---
  nlohmann::json responder_start(const nlohmann::json& req) {
    stop_responder();
    resp_phases_ = std::make_unique<workload::Phases>();
    resp_phases_->phase = workload::kMeasure;
    resp_opt_ = options(req);  // the responder keeps a reference to it
    resp_ = std::make_unique<workload::Responder>("", workload(req), resp_opt_, req.at("bind").get<Endpoint>(),
                                                  *resp_phases_);
    return nlohmann::json::object();
  }
  nlohmann::json responder_sync(const nlohmann::json&) { return responder_counters(); }
  nlohmann::json responder_stall(const nlohmann::json&) {
    if (resp_) resp_->stall();
    return nlohmann::json::object();
  }
  nlohmann::json responder_stop(const nlohmann::json&) {
    if (resp_) resp_->stop();
    nlohmann::json c = responder_counters();
    stop_responder();
    return c;
  }
  nlohmann::json responder_counters() const {
    if (!resp_) return {{"bytes", 0}, {"packets", 0}, {"error", ""}};
    return {{"bytes", resp_->bytes_received()}, {"packets", resp_->packets_received()}, {"error", resp_->error()}};
  }
  void stop_responder() {
    if (resp_) resp_->stop();
    resp_.reset();
    resp_phases_.reset();
  }

  // --- the proof probe (server half, client half) ---
  nlohmann::json probe_server_start(const nlohmann::json& req) {
    probe_ = std::make_unique<ProbeServer>(roles(), req.value("udp_port", uint16_t{0}), req.value("tcp_port", uint16_t{0}));
    return nlohmann::json::object();
  }
  nlohmann::json probe_server_stop(const nlohmann::json&) {
    CaptureSummary c = probe_ ? probe_->stop() : CaptureSummary{};
    probe_.reset();
    return {{"capture", c}};
  }
  nlohmann::json probe_client(const nlohmann::json& req) {
    return {{"result", pb::probe_client(roles(), req.at("udp_target").get<Endpoint>(), req.at("tcp_target").get<Endpoint>())}};
  }

  // --- the generator (client) ---
  nlohmann::json generate(const nlohmann::json& req) {
    const WorkloadInfo& w = workload(req);
    WorkloadContext ctx{w, roles(), req.at("target").get<Endpoint>(), req.at("server_bind").get<Endpoint>(), &g_interrupted, {}};
    ctx.server_side = [this](const WorkloadInfo& info, const WorkloadOptions& opt, const Endpoint& bind,
                             workload::Phases&) -> std::unique_ptr<workload::ServerSide> {
      return std::make_unique<RemoteServer>([this](const nlohmann::json& q) { return ask(q); }, info, opt, bind);
    };
    return {{"result", w.run(ctx, options(req))}};
  }

  nlohmann::json bye(const nlohmann::json&) { return nlohmann::json::object(); }

  void teardown() {
    try {
      probe_.reset();
      stop_responder();
      if (installed_) installed_->teardown();
      installed_.reset();
    } catch (const std::exception& e) {
      log::error("agent {}: teardown: {}", role_, e.what());
    }
  }

  std::string role_;
  AgentRecord record_;  // removed last, after everything it journals is gone
  AgentInput in_;
  std::unique_ptr<HostRoles> roles_;
  std::unique_ptr<InstalledPath> installed_;
  WorkloadOptions resp_opt_;
  std::unique_ptr<workload::Phases> resp_phases_;
  std::unique_ptr<workload::Responder> resp_;
  std::unique_ptr<ProbeServer> probe_;
};

}  // namespace

int cmd_agent(const std::vector<std::string>& args) {
  std::string role, run_id;
  bool cleanup = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--role" && i + 1 < args.size()) role = args[++i];
    else if (args[i] == "--run-id" && i + 1 < args.size()) run_id = args[++i];
    else if (args[i] == "--cleanup") cleanup = true;
    else if (args[i] == "-v" || args[i] == "--verbose") log::set_verbose(true);
    else throw UsageError("pathbench agent: unknown argument '" + args[i] + "' (it is started by `pathbench run --hosts`)");
  }
  if (cleanup) return agent_cleanup();
  if (role != "client" && role != "dut" && role != "server") throw UsageError("pathbench agent: --role client|dut|server");
  if (run_id.empty()) throw UsageError("pathbench agent: --run-id is required");
  Agent a(role, run_id);
  return a.run();
}

}  // namespace pb
