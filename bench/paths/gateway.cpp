// SPDX-License-Identifier: Apache-2.0
#include "paths/gateway.h"

#include <filesystem>

#include <fmt/core.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/netns.h"
#include "kernel/process.h"
#include "kernel/sockets.h"
#include "peers/haproxy.h"
#include "peers/tools.h"

namespace pb {

namespace {

// One request on HAProxy's stats socket (a unix socket: the filesystem, not the namespace, names
// it); the whole answer, or nullopt when it is not up.
std::optional<std::string> stats_request(const std::string& path, const std::string& cmd) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return std::nullopt;
  }
  set_timeouts(fd, 2000);
  const std::string line = cmd + "\n";
  std::string out;
  if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size())) {
    char buf[8192];
    for (;;) {
      ssize_t r = recv(fd, buf, sizeof buf, 0);
      if (r <= 0) break;
      out.append(buf, static_cast<size_t>(r));
    }
  }
  close(fd);
  if (out.empty()) return std::nullopt;
  return out;
}

uint64_t field(const std::map<std::string, std::string>& row, const std::string& k) {
  auto it = row.find(k);
  if (it == row.end() || it->second.empty()) return 0;
  try {
    return std::stoull(it->second);
  } catch (const std::exception&) {
    return 0;
  }
}

// `show stat` CSV: "# pxname,svname,..." then one row per proxy and server; rows by "px/sv".
std::map<std::string, std::map<std::string, std::string>> parse_stat(const std::string& csv) {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::istringstream in(csv);
  std::string line;
  std::vector<std::string> head;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) == 0) {
      head = split(line.substr(2), ',');
      continue;
    }
    if (line.empty() || head.empty()) continue;
    auto cells = split(line, ',');
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < head.size() && i < cells.size(); ++i) row[head[i]] = cells[i];
    out[row["pxname"] + "/" + row["svname"]] = std::move(row);
  }
  return out;
}

}  // namespace

GatewayCounters GatewayCounters::operator-(const GatewayCounters& o) const {
  GatewayCounters d;
  d.connections = connections - o.connections;
  d.http_requests = http_requests - o.http_requests;
  d.http_2xx = http_2xx - o.http_2xx;
  d.http_other = http_other - o.http_other;
  d.upstream_connects = upstream_connects - o.upstream_connects;
  d.upstream_reuses = upstream_reuses - o.upstream_reuses;
  d.tcp_sessions = tcp_sessions - o.tcp_sessions;
  return d;
}

nlohmann::json GatewayCounters::to_json() const {
  return {{"connections", connections},         {"http_requests", http_requests},
          {"http_2xx", http_2xx},               {"http_other", http_other},
          {"upstream_connects", upstream_connects}, {"upstream_reuses", upstream_reuses},
          {"tcp_sessions", tcp_sessions}};
}

std::optional<std::string> HaproxyGateway::unavailable() { return need_tools({{"haproxy", "haproxy"}}); }

HaproxyGateway::HaproxyGateway(const std::string& netns, const PathSettings& settings, std::string upstream_ip)
    : netns_(netns), settings_(settings), upstream_ip_(std::move(upstream_ip)) {
  if (auto why = unavailable()) throw EnvError("--gateway haproxy: " + *why);
  char tmpl[] = "/tmp/pathbench-gateway-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) throw_errno("mkstemp", errno);
  close(fd);
  unlink(tmpl);
  stats_path_ = std::string(tmpl) + ".sock";
  version_ = version_of({"haproxy", "-v"}, R"(HAProxy version (\S+))");
}

HaproxyGateway::~HaproxyGateway() {
  if (proc_) proc_->stop();
  for (auto& l : listeners_) close(l.fd);
  if (!cfg_path_.empty()) unlink(cfg_path_.c_str());
  unlink(stats_path_.c_str());
}

void HaproxyGateway::listen(const std::string& ip, uint16_t port, bool transparent) {
  for (auto& l : listeners_)
    if (l.ip == ip && l.port == port) return;
  int fd = -1;
  {
    ScopedNetns in(netns_);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_errno("socket (gateway listener)", errno);
    try {
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (transparent && setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) != 0)
        throw_errno("setsockopt(IP_TRANSPARENT) (gateway listener)", errno);
      set_congestion_control(fd, settings_.tcp_cc);
      set_buffers(fd, settings_.tcp_buffer_bytes);  // before listen(): accepted sockets inherit them
      sockaddr_in a = ipv4_sockaddr({ip, port});
      if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw_errno(fmt::format("bind {}:{} (gateway listener)", ip, port), errno);
      if (::listen(fd, 4096) != 0) throw_errno("listen (gateway listener)", errno);
    } catch (...) {
      close(fd);
      throw;
    }
  }
  listeners_.push_back({ip, port, fd});
  restart();
}

std::string HaproxyGateway::config_text() const {
  std::vector<int> fds;
  for (auto& l : listeners_) fds.push_back(l.fd);
  const int first = ChildProcess::first_inherited(fds);
  std::string binds;
  for (size_t i = 0; i < listeners_.size(); ++i)
    binds += fmt::format("  bind fd@{}  # {}:{}\n", first + static_cast<int>(i), listeners_[i].ip, listeners_[i].port);
  // 0.0.0.0:0: the connection's original destination (what a transparent proxy forwards to);
  // an address without a port: that address, on the port the client connected to.
  const std::string server = upstream_ip_.empty() ? "0.0.0.0:0" : upstream_ip_;
  std::string note;
  const std::string tune = haproxy_buffer_tuning(settings_.tcp_buffer_bytes, &note);
  // --observe gateway-log: a line per request on stdout (a container's access log), in a format
  // of our own: HAProxy 2.6 refuses HTTP log variables (%HM, %Ta) in a `mode tcp` frontend, so the
  // HTTP backend puts method, path and status into transaction variables and the frontend logs
  // those, with the stream's total time (%Tt, milliseconds: HAProxy's timers have no finer unit).
  std::string global_log, frontend_log, backend_log;
  if (logs_requests()) {
    global_log = "  log stdout format raw local0 info\n";
    frontend_log = fmt::format("  log global\n  option dontlognull\n  log-format \"{} %[var(txn.m)] %[var(txn.p)] %[var(txn.s)] %Tt\"\n",
                               kLogTag);
    backend_log = "  http-request set-var(txn.m) method\n  http-request set-var(txn.p) path\n"
                  "  http-response set-var(txn.s) status\n";
  }
  return haproxy_config(
      "tcp", 30,
      fmt::format("frontend intercepted\n{binds}"
                  // The sidecar's inbound listener: HTTP goes through the HTTP engine, anything else
                  // (the proof probe's raw exchange) is relayed as TCP. Only a connection's first
                  // bytes are inspected; an HTTP request is recognised as soon as its line is whole.
                  "  tcp-request inspect-delay 2s\n  tcp-request content accept if HTTP\n"
                  "  use_backend l7 if HTTP\n  default_backend l4\n{frontend_log}"
                  // What an API gateway adds to every request: the client's address for the service.
                  "backend l7\n  mode http\n  option forwardfor\n{backend_log}  server orig {server}\n"
                  "backend l4\n  mode tcp\n  server orig {server}\n",
                  fmt::arg("binds", binds), fmt::arg("server", server), fmt::arg("frontend_log", frontend_log),
                  fmt::arg("backend_log", backend_log)),
      fmt::format("  stats socket {} mode 600 level admin\n{}{}", stats_path_, tune, global_log),
      std::max(1u, settings_.proxy_workers));
}

void HaproxyGateway::restart() {
  if (proc_) {
    proc_->stop();
    proc_.reset();
  }
  unlink(stats_path_.c_str());
  cfg_ = config_text();
  if (!cfg_path_.empty()) unlink(cfg_path_.c_str());
  cfg_path_ = write_temp_file("/tmp/pathbench-gateway-", cfg_);
  std::vector<std::string> argv = {"haproxy", "-db", "-f", cfg_path_};
  if (!settings_.proxy_cpus.empty()) {
    std::vector<std::string> cpus;
    for (int c : settings_.proxy_cpus) cpus.push_back(std::to_string(c));
    argv.insert(argv.begin(), {"taskset", "-c", join(cpus, ",")});
  }
  argv = in_netns(netns_, argv);
  command_ = quote_join(argv);
  std::vector<int> fds;
  for (auto& l : listeners_) fds.push_back(l.fd);
  proc_ = std::make_unique<ChildProcess>(argv, fds);
  // Up when its stats socket answers (the listeners are ours and listening already).
  // 30 s: in a cost-mode guest, HAProxy reading its binary over 9p costs seconds of guest time.
  for (int i = 0; i < 1500; ++i) {
    if (stats_request(stats_path_, "show info")) return;
    if (!proc_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string out = proc_->stop();
  proc_.reset();
  throw EnvError("--gateway haproxy did not start (" + command_ + "): " + trim(out));
}

std::vector<int> HaproxyGateway::tcp_listener_fds() const {
  std::vector<int> v;
  for (auto& l : listeners_) v.push_back(l.fd);
  return v;
}

GatewayCounters HaproxyGateway::counters() const {
  GatewayCounters c;
  auto csv = stats_request(stats_path_, "show stat");
  if (!csv) throw EnvError("--gateway haproxy: its stats socket " + stats_path_ + " did not answer");
  auto rows = parse_stat(*csv);
  auto& fe = rows["intercepted/FRONTEND"];
  auto& l7 = rows["l7/BACKEND"];
  auto& l4 = rows["l4/BACKEND"];
  c.connections = field(fe, "conn_tot");
  c.http_requests = field(l7, "req_tot");
  c.http_2xx = field(l7, "hrsp_2xx");
  c.http_other = field(l7, "hrsp_1xx") + field(l7, "hrsp_3xx") + field(l7, "hrsp_4xx") + field(l7, "hrsp_5xx") +
                 field(l7, "hrsp_other");
  c.upstream_connects = field(l7, "connect");
  c.upstream_reuses = field(l7, "reuse");
  c.tcp_sessions = field(l4, "stot");
  return c;
}

int HaproxyGateway::pid() const { return proc_ ? proc_->pid() : -1; }

uint64_t HaproxyGateway::cpu_ns() const {
  uint64_t ns = 0;
  const int p = pid();
  if (p <= 0) return 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(p) + "/task", ec)) {
    auto text = read_file(task.path().string() + "/schedstat");
    if (!text) continue;
    try {
      ns += std::stoull(*text);  // first field: time on CPU, ns
    } catch (const std::exception&) {
      // a thread that went away between the listing and the read
    }
  }
  return ns;
}

std::string HaproxyGateway::log_path() const { return proc_ ? proc_->output_path() : std::string(); }

nlohmann::json HaproxyGateway::record() const {
  std::string note;
  haproxy_buffer_tuning(settings_.tcp_buffer_bytes, &note);
  return {{"tool", kName},
          {"version", version_},
          {"command", command_},
          {"config", cfg_},
          {"tcp_buffers", note},
          {"listeners", listeners_.size()}};
}

}  // namespace pb
