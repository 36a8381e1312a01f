// SPDX-License-Identifier: Apache-2.0
#include "hosts/agent.h"

#include <dirent.h>
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#include "bpf_objects.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json_io.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/testhook.h"
#include "git_sha.h"
#include "hosts/protocol.h"
#include "kernel/host.h"
#include "kernel/netns.h"
#include "kernel/process.h"
#include "kernel/sysctl.h"
#include "measure/environment.h"
#include "paths/path.h"
#include "proof/probe.h"
#include "run/runner.h"
#include "run/runstate.h"
#include "workloads/responder.h"

namespace pb {

namespace {

// Set when the interrupt came from the orchestrator (the agent then keeps serving its teardown
// requests); a signal to the agent itself makes it tear down and leave.
std::atomic<bool> g_orchestrator_interrupt{false};

// stdin, read by a thread of its own: lines are queued for the operation that waits for them
// (the main loop, or an ask waiting for its answer), an interrupt is acted on at once, and EOF
// interrupts whatever runs so the agent can tear down and leave.
class Input {
 public:
  Input() {
    std::thread([this] { loop(); }).detach();
  }
  // The next line, or nullopt on EOF (or after timeout_s with nothing).
  std::optional<std::string> next(double timeout_s, bool* eof) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::duration<double>(timeout_s), [&] { return !q_.empty() || eof_; });
    *eof = eof_ && q_.empty();
    if (q_.empty()) return std::nullopt;
    std::string l = std::move(q_.front());
    q_.pop_front();
    return l;
  }
  bool eof() {
    std::lock_guard lk(mu_);
    return eof_;
  }

 private:
  void loop() {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.find("\"interrupt\"") != std::string::npos) {
        try {
          auto j = nlohmann::json::parse(line);
          if (j.value("op", "") == "interrupt") {
            int expected = 0;
            g_orchestrator_interrupt = true;
            g_interrupted.compare_exchange_strong(expected, j.value("signal", SIGINT));
            log::warn("interrupted by the orchestrator (signal {})", j.value("signal", SIGINT));
            continue;
          }
        } catch (const std::exception&) {
        }
      }
      std::lock_guard lk(mu_);
      q_.push_back(line);
      cv_.notify_all();
    }
    int expected = 0;
    g_interrupted.compare_exchange_strong(expected, SIGHUP);
    std::lock_guard lk(mu_);
    eof_ = true;
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> q_;
  bool eof_ = false;
};

std::mutex g_out_mu;
void emit(const nlohmann::json& j) {
  std::lock_guard lk(g_out_mu);
  std::string s = j.dump() + "\n";
  // stdout is the protocol: nothing else may write to it (the log goes to stderr).
  if (fwrite(s.data(), 1, s.size(), stdout) != s.size() || fflush(stdout) != 0) {
    int expected = 0;
    g_interrupted.compare_exchange_strong(expected, SIGPIPE);
  }
}

std::string self_starttime() {
  auto s = read_file("/proc/self/stat");
  if (!s) return {};
  auto rp = s->rfind(')');
  auto f = split(s->substr(rp + 2), ' ');
  return f.size() > 19 ? f[19] : std::string();
}

// This process's network namespace ("net:[4026531840]"): a host's records are its own only when
// they name it (hosts sharing a /run, as the test's namespaces do, never act on each other's).
std::string own_netns() {
  char b[64] = {};
  ssize_t n = readlink("/proc/self/ns/net", b, sizeof b - 1);
  return n > 0 ? std::string(b, static_cast<size_t>(n)) : std::string();
}

std::string dev_mac(const std::string& dev) {
  return trim(read_file("/sys/class/net/" + dev + "/address").value_or(""));
}

bool dev_has_ip(const std::string& dev, const std::string& ip, int prefix, std::string* have) {
  CmdResult r = run_cmd({"ip", "-o", "-4", "addr", "show", "dev", dev}, {}, 10);
  *have = "";
  for (auto& line : split(r.out, '\n')) {
    auto f = split(trim(line), ' ');
    for (size_t i = 0; i + 1 < f.size(); ++i)
      if (f[i] == "inet") *have += (have->empty() ? "" : ", ") + f[i + 1];
  }
  if (prefix < 0) return (", " + *have + "/").find(" " + ip + "/") != std::string::npos;
  return (", " + *have + ",").find(" " + ip + "/" + std::to_string(prefix) + ",") != std::string::npos;
}

std::vector<std::string> all_devs() {
  std::vector<std::string> v;
  if (DIR* d = opendir("/sys/class/net")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') v.push_back(e->d_name);
    closedir(d);
  }
  return v;
}

class Agent {
 public:
  Agent(std::string role, std::string run_id) : role_(std::move(role)), run_id_(std::move(run_id)) {}

  int run() {
    state_file_ = state_dir() + "/agent-" + run_id_ + "-" + role_ + ".json";
    save_state();
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
      nlohmann::json req;
      try {
        req = nlohmann::json::parse(*line);
      } catch (const std::exception& e) {
        emit({{"ok", false}, {"error", std::string("not JSON: ") + e.what()}, {"code", kExitUsage}});
        continue;
      }
      nlohmann::json rep;
      const std::string op = req.value("op", "");
      try {
        rep = handle(op, req);
        rep["ok"] = true;
      } catch (const Error& e) {
        rep = {{"ok", false}, {"error", e.what()}, {"code", e.code()}};
      } catch (const std::exception& e) {
        rep = {{"ok", false}, {"error", e.what()}, {"code", kExitEnv}};
      }
      if (req.contains("id")) rep["id"] = req["id"];
      emit(rep);
      if (op == "bye") break;
    }
    const uint64_t t0 = mono_ns();
    teardown();
    log::info("agent {}: everything removed in {:.0f} ms", role_, static_cast<double>(mono_ns() - t0) / 1e6);
    unlink(state_file_.c_str());
    return kExitOk;
  }

  // Asks the orchestrator (during an operation) and waits for the answer.
  nlohmann::json ask(nlohmann::json q) {
    emit(q);
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

 private:
  // The agent's record on its host: owner (pid, start time) and the path's pending undo commands,
  // so `pathbench agent --cleanup` can finish an agent that died without tearing down.
  void save_state() {
    try {
      make_dirs(state_dir());
      write_json_atomic(state_file_, {{"pid", getpid()},
                                      {"starttime", self_starttime()},
                                      {"role", role_},
                                      {"run_id", run_id_},
                                      {"netns", own_netns()},
                                      {"started_utc", utc_now_iso8601()},
                                      {"undo", path_ ? path_->pending_undo_commands() : nlohmann::json::array()}});
    } catch (const std::exception& e) {
      log::debug("agent state file {}: {}", state_file_, e.what());
    }
  }

  const HostRoles& roles() const {
    if (!roles_) throw UsageError("protocol: 'roles' must come before " + role_ + " operations");
    return *roles_;
  }

  nlohmann::json handle(const std::string& op, const nlohmann::json& req) {
    if (op == "hello") return hello();
    if (op == "check") return check(req);
    if (op == "roles") {
      roles_ = std::make_unique<HostRoles>(role_, wiring_from_json(req["wiring"]), req.value("hosts", nlohmann::json::object()));
      return nlohmann::json::object();
    }
    if (op == "environment") {
      nlohmann::json e = collect_environment(&roles());
      e["hostname"] = hostname();
      return {{"environment", e}};
    }
    if (op == "path_setup") return path_setup(req);
    if (op == "path_unsupported") {
      auto why = path().unsupported_workload(*workload(req));
      return {{"reason", why ? nlohmann::json(*why) : nlohmann::json(nullptr)}};
    }
    if (op == "path_target") {
      Endpoint e = path().client_target(options(req), endpoint_from_json(req["server"]));
      return {{"target", to_json(e)}};
    }
    if (op == "path_begin") {
      path().begin(options(req));
      return nlohmann::json::object();
    }
    if (op == "path_end") return {{"proof", path().end(options(req), totals_from_json(req["totals"]))}};
    if (op == "path_teardown") {
      nlohmann::json r = nlohmann::json::object();
      if (path_) {
        path_->teardown();
        r = {{"configuration", path_->configuration()}, {"scale", path_->scale()}};
        path_.reset();
        save_state();
      }
      return r;
    }
    if (op == "responder_start") {
      responder_stop();
      const WorkloadInfo& w = *workload(req);
      resp_opt_ = options(req);
      resp_phases_ = std::make_unique<workload::Phases>();
      resp_phases_->phase = workload::kMeasure;
      resp_ = std::make_unique<workload::Responder>("", w, resp_opt_, endpoint_from_json(req["bind"]), *resp_phases_);
      return nlohmann::json::object();
    }
    if (op == "responder_sync") return responder_counters();
    if (op == "responder_stall") {
      if (resp_) resp_->stall();
      return nlohmann::json::object();
    }
    if (op == "responder_stop") {
      if (resp_) resp_->stop();
      nlohmann::json c = responder_counters();
      responder_stop();
      return c;
    }
    if (op == "probe_server_start") {
      probe_ = std::make_unique<ProbeServer>(roles(), req.value("udp_port", uint16_t{0}), req.value("tcp_port", uint16_t{0}));
      return nlohmann::json::object();
    }
    if (op == "probe_server_stop") {
      nlohmann::json c = probe_ ? probe_->stop().to_json() : nlohmann::json(nullptr);
      probe_.reset();
      return {{"capture", c}};
    }
    if (op == "probe_client") {
      ProbeClientResult r = probe_client(roles(), endpoint_from_json(req["udp_target"]), endpoint_from_json(req["tcp_target"]));
      return {{"udp_ok", r.udp_ok}, {"tcp_ok", r.tcp_ok}, {"error", r.error}, {"capture", r.capture.to_json()}};
    }
    if (op == "generate") return generate(req);
    if (op == "bye") return nlohmann::json::object();
    throw UsageError("protocol: unknown op '" + op + "'");
  }

  nlohmann::json hello() {
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

  static std::string hostname() {
    char h[256] = {};
    gethostname(h, sizeof h - 1);
    return h;
  }

  // Everything that needs the host, before anything is changed on it.
  nlohmann::json check(const nlohmann::json& req) {
    const Wiring w = wiring_from_json(req["wiring"]);
    const std::string mgmt = req.value("management", std::string());
    std::vector<std::pair<std::string, std::string>> data;  // dev, ip
    if (role_ == "client") data = {{w.client_dev, w.client_ip}};
    if (role_ == "dut") data = {{w.dut_client_dev, w.dut_client_ip}, {w.dut_server_dev, w.dut_server_ip}};
    if (role_ == "server") data = {{w.server_dev, w.server_ip}};
    const std::string host = hostname();
    auto devs = all_devs();
    auto exists = [&](const std::string& d) { return std::find(devs.begin(), devs.end(), d) != devs.end(); };
    // Two phases, each on every host before the next: first nothing unsafe anywhere (the data
    // interfaces are not the way in), then the wiring.
    const bool safety = req.value("phase", std::string()) == "safety";
    // The SSH session's own address (SSH_CONNECTION = "client port server port"): the interface
    // carrying it must not be a data interface, whatever the hosts file calls it.
    std::string session_ip;
    if (const char* sc = getenv("SSH_CONNECTION")) {
      auto f = split(sc, ' ');
      if (f.size() >= 3) session_ip = f[2];
    }
    CmdResult def = run_cmd({"ip", "-4", "route", "show", "default"}, {}, 10);
    nlohmann::json macs = nlohmann::json::object(), drivers = nlohmann::json::object();
    for (auto& [dev, ip] : data) {
      std::string have;
      if (!safety) break;
      if (!exists(dev)) continue;
      if (!session_ip.empty() && dev_has_ip(dev, session_ip, -1, &have))
        throw Error(kExitHostsUnsafe, "data interface " + dev + " on " + host + " carries this SSH session's address " +
                                          session_ip + ": refusing to touch it");
      for (auto& line : split(def.out, '\n'))
        if ((" " + line + " ").find(" dev " + dev + " ") != std::string::npos)
          throw Error(kExitHostsUnsafe, "data interface " + dev + " on " + host + " carries the default route (" +
                                            trim(line) + "): refusing to touch it");
    }
    if (safety) return {{"session_address", session_ip}};
    if (!exists(mgmt))
      throw Error(kExitHostInterface, "management interface " + mgmt + " not found on " + host + " (have: " + join(devs, ", ") + ")");
    for (auto& [dev, ip] : data) {
      std::string have;
      if (!exists(dev))
        throw Error(kExitHostInterface, "data interface " + dev + " not found on " + host + " (have: " + join(devs, ", ") + ")");
      if (!dev_has_ip(dev, ip, w.prefix_len, &have))
        throw Error(kExitHostInterface, "data interface " + dev + " on " + host + " does not have " + ip + "/" +
                                            std::to_string(w.prefix_len) + " (has: " + (have.empty() ? "none" : have) + ")");
      macs[dev] = dev_mac(dev);
    }
    // The wiring the paths rely on: forwarding on the DUT, the far end routed through it.
    if (role_ == "dut" && try_read_sysctl("net.ipv4.ip_forward").value_or("0") != "1")
      throw Error(kExitHostInterface, "net.ipv4.ip_forward is 0 on " + host +
                                          " (the DUT): enable forwarding there; pathbench changes no host setting");
    auto via = [&](const std::string& dst, const std::string& gw, const std::string& dev) {
      CmdResult r = run_cmd({"ip", "-4", "route", "get", dst}, {}, 10);
      std::string l = " " + trim(r.out) + " ";
      if (r.status != 0 || l.find(" via " + gw + " ") == std::string::npos || l.find(" dev " + dev + " ") == std::string::npos)
        throw Error(kExitHostInterface, "on " + host + " the route to " + dst + " is not via " + gw + " dev " + dev + " (" +
                                            trim(r.out + r.err) + "): route it through the DUT");
    };
    if (role_ == "client") via(w.server_ip, w.dut_client_ip, w.client_dev);
    if (role_ == "server") via(w.client_ip, w.dut_server_ip, w.server_dev);
    return {{"macs", macs}, {"hostname", host}};
  }

  nlohmann::json path_setup(const nlohmann::json& req) {
    if (path_) {
      path_->teardown();
      path_.reset();
    }
    const PathInfo* info = find_path(req.value("path", std::string()));
    if (!info) throw UsageError("unknown path '" + req.value("path", std::string()) + "'");
    if (auto why = info->unsupported ? info->unsupported() : std::nullopt) return {{"skipped", *why}};
    PathSettings s = settings_from_json(req["settings"]);
    PathContext ctx{*info, roles(), s};
    try {
      path_ = info->make(ctx);
      path_->setup_done();
      if (s.services && s.update_samples) path_->measure_updates();
    } catch (const PathUnsupportedHere& e) {
      path_.reset();
      return {{"skipped", e.what()}};
    } catch (const Error& e) {
      path_.reset();
      throw Error(e.code(), std::string("path setup failed: ") + e.what());
    } catch (const std::exception& e) {
      path_.reset();
      throw EnvError(std::string("path setup failed: ") + e.what());
    }
    save_state();
    return {{"routes", path_->routes()}, {"expected_server_src", path_->expected_server_src()}};
  }

  PathInstance& path() {
    if (!path_) throw UsageError("protocol: no path is set up on " + role_);
    return *path_;
  }

  const WorkloadInfo* workload(const nlohmann::json& req) {
    const WorkloadInfo* w = find_workload(req.value("workload", std::string()));
    if (!w) throw UsageError("unknown workload '" + req.value("workload", std::string()) + "'");
    return w;
  }
  static WorkloadOptions options(const nlohmann::json& req) {
    return options_from_json(req.value("workload", std::string()), req.value("options", nlohmann::json::object()));
  }

  nlohmann::json responder_counters() {
    if (!resp_) return {{"bytes", 0}, {"packets", 0}, {"error", ""}};
    return {{"bytes", resp_->bytes_received()}, {"packets", resp_->packets_received()}, {"error", resp_->error()}};
  }
  void responder_stop() {
    if (resp_) resp_->stop();
    resp_.reset();
    resp_phases_.reset();
  }

  nlohmann::json generate(const nlohmann::json& req) {
    const WorkloadInfo& w = *workload(req);
    const WorkloadOptions o = options(req);
    WorkloadContext ctx{roles(), endpoint_from_json(req["target"]), endpoint_from_json(req["server_bind"]), &g_interrupted, {}};
    ctx.server_side = [this](const WorkloadInfo& info, const WorkloadOptions& opt, const Endpoint& bind,
                             workload::Phases&) -> std::unique_ptr<workload::ServerSide> {
      return std::make_unique<RemoteServer>(*this, info, opt, bind);
    };
    WorkloadResult r = w.run(ctx, o);
    return {{"result", result_to_json(r)}};
  }

  // The server side of a workload generated here, on the server host: through the
  // orchestrator, which relays each ask to the server's agent.
  class RemoteServer : public workload::ServerSide {
   public:
    RemoteServer(Agent& a, const WorkloadInfo& info, const WorkloadOptions& opt, const Endpoint& bind) : a_(a) {
      a_.ask({{"ask", "server"}, {"op", "responder_start"}, {"workload", info.name}, {"options", opt.to_json()},
              {"bind", to_json(bind)}});
    }
    ~RemoteServer() override {
      try {
        stop();
      } catch (const std::exception&) {
      }
    }
    void sync() override { take(a_.ask({{"ask", "server"}, {"op", "responder_sync"}})); }
    uint64_t bytes_received() const override { return bytes_.load(); }
    uint64_t packets_received() const override { return packets_.load(); }
    std::string error() const override {
      std::lock_guard lk(mu_);
      return error_;
    }
    void stall() override { a_.ask({{"ask", "server"}, {"op", "responder_stall"}}); }
    void stop() override {
      if (stopped_) return;
      stopped_ = true;
      try {
        take(a_.ask({{"ask", "server"}, {"op", "responder_stop"}}));
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
    Agent& a_;
    std::atomic<uint64_t> bytes_{0}, packets_{0};
    mutable std::mutex mu_;
    std::string error_;
    bool stopped_ = false;
  };

  void teardown() {
    try {
      probe_.reset();
      responder_stop();
      if (path_) path_->teardown();
      path_.reset();
    } catch (const std::exception& e) {
      log::error("agent {}: teardown: {}", role_, e.what());
    }
  }

  std::string role_, run_id_, state_file_;
  Input in_;
  std::unique_ptr<HostRoles> roles_;
  std::unique_ptr<PathInstance> path_;
  WorkloadOptions resp_opt_;
  std::unique_ptr<workload::Phases> resp_phases_;
  std::unique_ptr<workload::Responder> resp_;
  std::unique_ptr<ProbeServer> probe_;
};

// `pathbench agent --cleanup`: agents of earlier runs still alive on this host are told to stop
// (SIGTERM: each removes what it installed) and waited for; their state files go.
int agent_cleanup() {
  nlohmann::json out = {{"stopped", nlohmann::json::array()}, {"stale", nlohmann::json::array()}};
  std::vector<std::pair<pid_t, std::string>> live;
  if (DIR* d = opendir(state_dir().c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind("agent-", 0) != 0) continue;
      std::string f = state_dir() + "/" + n;
      auto text = read_file(f);
      nlohmann::json st;
      try {
        st = nlohmann::json::parse(text.value_or("{}"));
      } catch (const std::exception&) {
      }
      if (st.value("netns", std::string()) != own_netns()) continue;  // another host's (shared /run)
      if (st.value("pid", 0) != getppid() && owner_alive(st) && st.value("pid", 0) != getpid()) {
        kill(st.value("pid", 0), SIGTERM);
        live.push_back({st.value("pid", 0), f});
        out["stopped"].push_back(n);
      } else {
        // Its owner died without tearing down: run the undo commands it journaled.
        unsigned undone = 0;
        for (auto& c : st.value("undo", nlohmann::json::array())) {
          CmdResult r = run_cmd(c["argv"].get<std::vector<std::string>>(), c.value("stdin", std::string()), 30);
          undone += r.status == 0;
        }
        unlink(f.c_str());
        out["stale"].push_back({{"file", n}, {"undo_commands_run", undone}});
      }
    }
    closedir(d);
  }
  const uint64_t until = mono_ns() + 20'000'000'000ull;
  for (auto& [pid, f] : live) {
    while (kill(pid, 0) == 0 && mono_ns() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (kill(pid, 0) != 0) unlink(f.c_str());
  }
  std::printf("%s\n", out.dump().c_str());
  return kExitOk;
}

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
