// SPDX-License-Identifier: Apache-2.0
// peers/tools.cpp: reference tools measured on the same topology, path and schedule as pathbench's own
// generators (`pathbench run --peers`), so the ratios come from one run:
//   tcp_stream  iperf3 (JSON output; -O cuts the warm-up like --warmup-s)
//   udp_rr      sockperf ping-pong --full-rtt (UDP)
//   tcp_rr      sockperf ping-pong --full-rtt --tcp
//   tcp_crr     wrk -H 'Connection: close' against HAProxy answering HTTP itself in the server
//               namespace (a small, fast, event-driven C responder; wrk has no raw-TCP mode)
//   http_rr     wrk (keep-alive) against pathbench's own HTTP responder: the same server, the same
//   http_crr    request (method, route, headers, body; a wrk Lua script), the same response
//               (and Connection: close for http_crr)
//   http_rr     h2load --h1 (nghttp2-client) too, with the same request (no http_crr: h2load has
//               no connection-per-request mode)
// Definitions matched: same payload sizes (sockperf -m, iperf3 -l), full round trip, the same
// warm-up cut (whole seconds: iperf3 and sockperf take integers, so --peers requires them),
// and the same CPU placement (taskset with the run's pinning policy).
#include "peers/tools.h"
#include "peers/haproxy.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cmath>
#include <regex>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/netns.h"
#include "kernel/process.h"
#include "kernel/sysctl.h"
#include "measure/cpu.h"
#include "roles/roles.h"
#include "workloads/controller.h"
#include "workloads/http_wire.h"
#include "workloads/responder.h"

namespace pb {

std::vector<std::string> pinned(int cpu, std::vector<std::string> argv) {
  if (cpu < 0) return argv;
  std::vector<std::string> v{"taskset", "-c", std::to_string(cpu)};
  v.insert(v.end(), argv.begin(), argv.end());
  return v;
}

std::string version_of(const std::vector<std::string>& argv, const std::string& pattern) {
  try {
    CmdResult r = run_cmd(argv, {}, 10);
    std::smatch m;
    std::string text = r.out + r.err;
    if (std::regex_search(text, m, std::regex(pattern))) return m[1];
  } catch (...) {
  }
  return "unknown";
}

// Waits until something listens on the port in the namespace (ss from iproute2).
void wait_listening(const std::string& ns, bool tcp, uint16_t port, const std::string& tool) {
  for (int i = 0; i < 100; ++i) {
    CmdResult r = run_cmd(in_netns(ns, {"ss", tcp ? "-Hltn" : "-Hlun", "sport = :" + std::to_string(port)}), {}, 5);
    if (!trim(r.out).empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw EnvError(tool + " did not start listening on port " + std::to_string(port) + " in " + ns);
}

namespace {

// The congestion control a tool gets that does not choose its own (sockperf, wrk): the client
// namespace's default, which pathbench could not change where the kernel does not allow the run's
// (docs/peers.md: bbr here, while pathbench's own sockets take --tcp-cc per socket).
std::string namespace_cc(const std::string& ns) {
  std::string cc;
  try {
    run_in_netns(ns, [&] { cc = trim(try_read_sysctl("net.ipv4.tcp_congestion_control").value_or("?")); });
  } catch (const std::exception&) {
    cc = "?";
  }
  return cc;
}

// CPU over the measured window of a tool that runs warm-up + duration on its own clock.
struct CpuWindow {
  std::thread t;
  CpuUsage usage;
  void start(double warmup_s, double duration_s) {
    t = std::thread([this, warmup_s, duration_s] {
      std::this_thread::sleep_for(std::chrono::duration<double>(warmup_s));
      CpuTimes a = CpuTimes::now();
      std::this_thread::sleep_for(std::chrono::duration<double>(duration_s));
      usage = CpuUsage::between(a, CpuTimes::now());
    });
  }
  void join() {
    if (t.joinable()) t.join();
  }
  ~CpuWindow() { join(); }
};


PeerRun run_iperf3(const PeerContext& c) {
  const auto& o = c.opt;
  PeerRun pr;
  ChildProcess srv(in_netns(c.roles.server().netns, pinned(o.server_cpu, {"iperf3", "-s", "-1", "-p", std::to_string(c.server_bind.port)})));
  wait_listening(c.roles.server().netns, true, c.server_bind.port, "iperf3 -s");
  auto client = pinned(o.client_cpu, {"iperf3", "-c", c.target.ip, "-p", std::to_string(c.target.port), "-t",
                                      std::to_string(std::lround(o.duration_s)), "-O",
                                      std::to_string(std::lround(o.warmup_s)), "-l", std::to_string(o.payload_bytes), "-J"});
  if (!o.tcp_cc.empty()) client.insert(client.end() - 1, {"-C", o.tcp_cc});
  // pathbench's fixed buffers (--tcp-buffer-bytes): -w sets SO_SNDBUF/SO_RCVBUF on both ends (the
  // server takes the client's). Without it iperf3 autotunes: 2.0x pathbench's rate here (docs/peers.md).
  if (o.tcp_buffer_bytes) client.insert(client.end() - 1, {"-w", std::to_string(o.tcp_buffer_bytes)});
  pr.reference = {{"tool", "iperf3"}, {"version", version_of({"iperf3", "--version"}, R"(iperf (\S+))")},
                  {"command", quote_join(client)},
                  {"server_command", "iperf3 -s -1 -p " + std::to_string(c.server_bind.port)}};
  CpuWindow cpu;
  cpu.start(o.warmup_s, o.duration_s);
  CmdResult r = run_cmd(in_netns(c.roles.client().netns, client), {}, static_cast<int>(o.warmup_s + o.duration_s + 20));
  cpu.join();
  srv.stop();
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  if (r.status != 0 || !j.is_object() || !j.contains("end") || j.contains("error")) {
    pr.result.ok = false;
    pr.result.reason = "iperf3 failed: " + (j.is_object() && j.contains("error") ? j["error"].get<std::string>() : trim(r.err + r.out).substr(0, 300));
    return pr;
  }
  const auto& e = j["end"];
  double bps = e["sum_received"]["bits_per_second"].get<double>();
  double secs = e["sum_received"]["seconds"].get<double>();
  uint64_t bytes = e["sum_received"]["bytes"].get<uint64_t>();
  nlohmann::json m;
  m["throughput_bps"] = bps;
  m["bytes"] = bytes;
  m["duration_ns"] = static_cast<uint64_t>(secs * 1e9);
  m["tcp_retransmits"] = e["sum_sent"].value("retransmits", uint64_t{0});
  m["cpu"] = cpu.usage.to_json();
  if (bytes) m["cpu_ns_per_byte"] = static_cast<double>(cpu.usage.busy_ns) / static_cast<double>(bytes) *
                                    (static_cast<double>(o.duration_s) / std::max(secs, 1e-9));
  m["tool_cpu_utilization_percent"] = e.value("cpu_utilization_percent", nlohmann::json::object());
  pr.result.ok = true;
  pr.result.metrics = m;
  pr.result.totals.connections = 2;  // control + data
  pr.result.totals.bytes_sent = e["sum_sent"].value("bytes", uint64_t{0});
  return pr;
}

// sockperf prints "sockperf: ---> percentile 99.900 =   74.530" (usec) and
// "[Valid Duration] RunTime=1.550 sec; SentMessages=85772; ReceivedMessages=85772".
PeerRun run_sockperf(const PeerContext& c, bool tcp) {
  const auto& o = c.opt;
  PeerRun pr;
  std::vector<std::string> sargs = {"sockperf", "server", "-i", "0.0.0.0", "-p", std::to_string(c.server_bind.port)};
  if (tcp) sargs.push_back("--tcp");
  // pathbench's fixed TCP buffers on both ends (sockperf sets SO_RCVBUF and SO_SNDBUF).
  if (tcp && o.tcp_buffer_bytes) sargs.insert(sargs.end(), {"--buffer-size", std::to_string(o.tcp_buffer_bytes)});
  ChildProcess srv(in_netns(c.roles.server().netns, pinned(o.server_cpu, sargs)));
  wait_listening(c.roles.server().netns, tcp, c.server_bind.port, "sockperf server");
  // sockperf's -t includes its own warm-up (it discards the first part and the tail itself and
  // reports the "Valid Duration"); give it warm-up + duration.
  std::vector<std::string> client = {"sockperf", "ping-pong", "-i", c.target.ip, "-p", std::to_string(c.target.port),
                                     "-t", std::to_string(std::lround(o.warmup_s + o.duration_s)), "-m",
                                     std::to_string(std::max<uint32_t>(o.payload_bytes, 14)), "--full-rtt"};
  if (tcp) client.push_back("--tcp");
  if (tcp && o.tcp_buffer_bytes) client.insert(client.end(), {"--buffer-size", std::to_string(o.tcp_buffer_bytes)});
  client = pinned(o.client_cpu, client);
  pr.reference = {{"tool", "sockperf"}, {"version", version_of({"sockperf", "--version"}, R"(version (\S+))")},
                  {"command", quote_join(client)}, {"server_command", quote_join(sargs)}};
  if (tcp) pr.reference["tcp_cc"] = namespace_cc(c.roles.client().netns) + " (the namespace default; sockperf has no option)";
  CpuWindow cpu;
  cpu.start(o.warmup_s, o.duration_s);
  CmdResult r = run_cmd(in_netns(c.roles.client().netns, client), {}, static_cast<int>(o.warmup_s + o.duration_s + 20));
  cpu.join();
  srv.stop();
  std::string text = r.out + r.err;
  std::smatch m;
  auto num = [&](const std::string& re) -> std::optional<double> {
    std::smatch mm;
    if (std::regex_search(text, mm, std::regex(re))) return std::stod(mm[1]);
    return std::nullopt;
  };
  auto runtime = num(R"(\[Valid Duration\] RunTime=([0-9.]+) sec)");
  auto received = num(R"(\[Valid Duration\] RunTime=[0-9.]+ sec; SentMessages=\d+; ReceivedMessages=(\d+))");
  auto p50 = num(R"(percentile 50\.000 =\s*([0-9.]+))");
  if (r.status != 0 || !runtime || !received || !p50) {
    pr.result.ok = false;
    pr.result.reason = "sockperf failed or printed no statistics: " + trim(text).substr(0, 300);
    return pr;
  }
  auto us = [](std::optional<double> v) { return v ? nlohmann::json(std::llround(*v * 1000)) : nlohmann::json(nullptr); };
  nlohmann::json met;
  met["duration_ns"] = static_cast<uint64_t>(*runtime * 1e9);
  met["transactions"] = static_cast<uint64_t>(*received);
  met["transactions_per_s"] = *received / *runtime;
  met["latency_ns"] = {{"p50", us(p50)},
                       {"p90", us(num(R"(percentile 90\.000 =\s*([0-9.]+))"))},
                       {"p99", us(num(R"(percentile 99\.000 =\s*([0-9.]+))"))},
                       {"p999", us(num(R"(percentile 99\.900 =\s*([0-9.]+))"))},
                       {"max", us(num(R"(<MAX> observation =\s*([0-9.]+))"))},
                       {"min", us(num(R"(<MIN> observation =\s*([0-9.]+))"))},
                       {"mean", us(num(R"(avg-rtt=([0-9.]+))"))}};
  met["samples"] = static_cast<uint64_t>(*received);
  met["cpu"] = cpu.usage.to_json();
  if (*received > 0) met["cpu_ns_per_transaction"] = static_cast<double>(cpu.usage.busy_ns) / (*received / *runtime * o.duration_s);
  if (!tcp) met["udp_lost"] = static_cast<uint64_t>(num(R"(# dropped messages = (\d+))").value_or(0));
  pr.result.ok = true;
  pr.result.metrics = met;
  pr.result.totals.transactions = static_cast<uint64_t>(*received);
  pr.result.totals.connections = tcp ? 1 : 0;
  pr.result.totals.packets_sent = tcp ? 0 : static_cast<uint64_t>(*received);
  pr.result.totals.packets_received = pr.result.totals.packets_sent;
  return pr;
}

std::string haproxy_http_config(uint16_t port) {
  return haproxy_config("http", 10, fmt::format("frontend responder\n  bind 0.0.0.0:{}\n"
                                                "  http-request return status 200 content-type text/plain string \"ok\"\n",
                                                port));
}

// The request pathbench's HTTP generator sends for the run's first route, as a wrk Lua script
// (method, path, headers, body): wrk's own request loop then sends it unchanged, with no
// per-request Lua (a request() function would cost wrk Lua per request). The schedule records
// that one route in the row's http_routes ({id} becomes 1).
std::string wrk_script(const WorkloadOptions& o, bool close) {
  std::string why;
  auto route = http::parse_route(o.http_routes.empty() ? http::default_routes().front() : o.http_routes.front(), why);
  if (!route) throw UsageError("--http-routes: " + why);
  std::string path = route->path;
  if (auto at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, "1");
  std::string s = "wrk.method = \"" + route->method + "\"\nwrk.path = \"" + path + "\"\n";
  if (route->body)
    s += "wrk.body = string.rep(\"x\", " + std::to_string(o.payload_bytes) +
         ")\nwrk.headers[\"Content-Type\"] = \"application/json\"\n";
  s += "wrk.headers[\"User-Agent\"] = \"wrk (pathbench reference)\"\n"
       "wrk.headers[\"Accept\"] = \"application/json\"\n"
       "wrk.headers[\"Accept-Encoding\"] = \"gzip, deflate\"\n"
       "wrk.headers[\"Authorization\"] = \"Bearer pathbench-reference-token-0123456789abcdef\"\n"
       "wrk.headers[\"X-Request-Id\"] = \"00000000-0000-4000-8000-000000000000\"\n"
       "wrk.headers[\"traceparent\"] = \"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"\n";
  if (close) s += "wrk.headers[\"Connection\"] = \"close\"\n";
  return s;
}

// wrk prints "Requests/sec:  12345.67" and, with --latency, "     50%  123.00us".
// app: nullptr = tcp_crr's wrk against HAProxy answering HTTP itself; else an HTTP workload's
// descriptor: wrk against pathbench's own HTTP responder, sending that workload's request.
PeerRun run_wrk(const PeerContext& c, const WorkloadInfo* app = nullptr) {
  const auto& o = c.opt;
  PeerRun pr;
  const bool close = !app || app->pattern == Pattern::kCrr;
  std::string cfg_path, script_path;
  std::unique_ptr<ChildProcess> srv;
  workload::Phases ph;
  std::unique_ptr<workload::Responder> responder;
  auto cleanup = [&] {
    if (srv) srv->stop();
    if (responder) responder->stop();
    if (!cfg_path.empty()) unlink(cfg_path.c_str());
    if (!script_path.empty()) unlink(script_path.c_str());
  };
  try {
    if (app) {
      ph.phase = workload::kMeasure;
      responder = std::make_unique<workload::Responder>(c.roles.server().netns, *app, o, c.server_bind, ph);
      script_path = write_temp_file("/tmp/pathbench-wrk-", wrk_script(o, close));
    } else {
      cfg_path = write_temp_file("/tmp/pathbench-haproxy-", haproxy_http_config(c.server_bind.port));
      std::vector<std::string> sargs = {"haproxy", "-db", "-f", cfg_path};
      srv = std::make_unique<ChildProcess>(in_netns(c.roles.server().netns, pinned(o.server_cpu, sargs)));
      wait_listening(c.roles.server().netns, true, c.server_bind.port, "haproxy (HTTP responder)");
    }
  } catch (...) {
    cleanup();
    throw;
  }
  std::string url = "http://" + c.target.ip + ":" + std::to_string(c.target.port) + "/";
  auto wrk = [&](double secs, bool latency) {
    std::vector<std::string> a = {"wrk", "-t", "1", "-c", std::to_string(o.flows), "-d",
                                  std::to_string(std::max<long>(1, std::lround(secs))) + "s"};
    if (app) a.insert(a.end(), {"-s", script_path});
    else a.insert(a.end(), {"-H", "Connection: close"});
    if (latency) a.push_back("--latency");
    a.push_back(url);
    return pinned(o.client_cpu, a);
  };
  // wrk has no warm-up option: a separate run of --warmup-s, discarded, comes first.
  uint64_t warmup_requests = 0;
  if (o.warmup_s >= 0.5) {
    CmdResult w = run_cmd(in_netns(c.roles.client().netns, wrk(o.warmup_s, false)), {}, static_cast<int>(o.warmup_s + 20));
    std::smatch wm;
    if (std::regex_search(w.out, wm, std::regex(R"((\d+) requests in)"))) warmup_requests = std::stoull(wm[1]);
  }
  auto client = wrk(o.duration_s, true);
  pr.reference = {{"tool", "wrk"}, {"version", version_of({"wrk", "--version"}, R"(wrk (\S+))")},
                  {"command", quote_join(client)}};
  if (app) {
    pr.reference["server_command"] = "pathbench's HTTP responder (the one its own " + app->name + " rows use)";
    pr.reference["server_tool"] = "pathbench";
    pr.reference["script"] = wrk_script(o, close);
    pr.reference["tcp_cc"] = namespace_cc(c.roles.client().netns) + " (wrk's sockets: the namespace default; wrk has no option)";
    pr.reference["note"] = "the same HTTP/1.1 request as pathbench's generator for the run's first route (the "
                           "row's http_routes); wrk's latency "
                           "starts at the request write" + std::string(close ? ", after connect" : "");
  } else {
    pr.reference["server_command"] = "haproxy -db -f <config: mode http, http-request return 200>";
    pr.reference["server_tool"] = "haproxy";
    pr.reference["tcp_cc"] = namespace_cc(c.roles.client().netns) + " (the namespace default; wrk and haproxy have no option)";
    pr.reference["server_version"] = version_of({"haproxy", "-v"}, R"(HAProxy version (\S+))");
    pr.reference["note"] = "HTTP/1.1 request/response of ~40/~80 bytes, Connection: close; wrk's latency starts "
                           "at the request write, after connect";
  }
  CpuWindow cpu;
  cpu.start(0, o.duration_s);
  CmdResult r = run_cmd(in_netns(c.roles.client().netns, client), {}, static_cast<int>(o.duration_s + 20));
  cpu.join();
  const std::string server_error = responder ? responder->error() : std::string();
  cleanup();
  std::string text = r.out + r.err;
  std::smatch m;
  // A plain double and a flag, not std::optional: GCC 12 sees the optional's payload as
  // maybe-uninitialized where it is read after the check below (-Wmaybe-uninitialized).
  double rps = 0;
  const bool have_rps = std::regex_search(text, m, std::regex(R"(Requests/sec:\s*([0-9.]+))"));
  if (have_rps) rps = std::stod(m[1]);
  // "123456 requests in 2.00s": the count and wrk's own measured duration.
  std::optional<double> total, wrk_secs;
  if (std::regex_search(text, m, std::regex(R"((\d+) requests in ([0-9.]+)(m?s))"))) {
    total = std::stod(m[1]);
    wrk_secs = std::stod(m[2]) * (m[3] == "ms" ? 1e-3 : 1.0);
  }
  if (r.status != 0 || !have_rps) {
    pr.result.ok = false;
    pr.result.reason = "wrk failed: " + trim(text).substr(0, 300);
    return pr;
  }
  if (!server_error.empty()) {
    pr.result.ok = false;
    pr.result.reason = "pathbench's HTTP responder under wrk: " + server_error;
    return pr;
  }
  auto lat = [&](const std::string& pct) -> nlohmann::json {
    std::smatch mm;
    if (!std::regex_search(text, mm, std::regex("\\s" + pct + "%\\s+([0-9.]+)(us|ms|s)"))) return nullptr;
    double v = std::stod(mm[1]);
    double mult = mm[2] == "us" ? 1e3 : mm[2] == "ms" ? 1e6 : 1e9;
    return std::llround(v * mult);
  };
  nlohmann::json met;
  met["transactions_per_s"] = rps;
  if (wrk_secs) met["duration_ns"] = static_cast<uint64_t>(*wrk_secs * 1e9);
  if (total) met["transactions"] = static_cast<uint64_t>(*total);
  met["latency_ns"] = {{"p50", lat("50")}, {"p90", lat("90")}, {"p99", lat("99")}};
  std::smatch em;
  if (std::regex_search(text, em, std::regex(R"(Socket errors: (.*))"))) met["wrk_socket_errors"] = trim(em[1]);
  met["cpu"] = cpu.usage.to_json();
  if (rps > 0) met["cpu_ns_per_transaction"] = static_cast<double>(cpu.usage.busy_ns) / (rps * o.duration_s);
  pr.result.ok = true;
  pr.result.metrics = met;
  pr.result.totals.transactions = total ? static_cast<uint64_t>(*total) : 0;
  // Over the whole tool run (the discarded warm-up run included), for proofs. Keep-alive: each run
  // opens its -c connections once; Connection: close: one per request. And each run first opens
  // and closes one connection to check the address (wrk's script_resolve), which carries nothing.
  pr.result.totals.transactions += warmup_requests;
  const uint64_t runs = o.warmup_s >= 0.5 ? 2 : 1;
  pr.result.totals.connections = (close ? pr.result.totals.transactions : runs * o.flows) + runs;
  pr.result.totals.idle_connections = runs;
  return pr;
}

// h2load (nghttp2-client) for http_rr, in HTTP/1.1 (--h1), against pathbench's own HTTP responder
// with the run's first route and the same headers and body as wrk's script. Where it fits: GET and
// POST routes (h2load sends a POST when given a body, GET otherwise, and has no method option), and
// keep-alive only (it has no connection-per-request mode: no http_crr row). It prints min, max and
// mean latency, no percentiles. Its --warm-up-time requests are not counted in its output, so the
// warm-up is a separate run, discarded, as wrk's is (the proof needs every request the path saw).
PeerRun run_h2load(const PeerContext& c) {
  const auto& o = c.opt;
  PeerRun pr;
  std::string why;
  auto route = http::parse_route(o.http_routes.empty() ? http::default_routes().front() : o.http_routes.front(), why);
  if (!route) throw UsageError("--http-routes: " + why);
  if (route->method != "GET" && route->method != "POST") {
    pr.result.ok = false;
    pr.result.reason = "h2load sends GET, or POST with a body, and the first route is " + route->text();
    return pr;
  }
  std::string path = route->path;
  if (auto at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, "1");
  const WorkloadInfo& app = *find_workload("http_rr");
  workload::Phases ph;
  ph.phase = workload::kMeasure;
  auto responder = std::make_unique<workload::Responder>(c.roles.server().netns, app, o, c.server_bind, ph);
  std::string body_path;
  if (route->body) body_path = write_temp_file("/tmp/pathbench-h2load-", std::string(o.payload_bytes, 'x'));
  auto cleanup = [&] {
    responder->stop();
    if (!body_path.empty()) unlink(body_path.c_str());
  };
  const std::string url = "http://" + c.target.ip + ":" + std::to_string(c.target.port) + path;
  auto h2load = [&](double secs) {
    std::vector<std::string> a = {"h2load", "--h1", "-t", "1", "-c", std::to_string(o.flows), "-D",
                                  std::to_string(std::max<long>(1, std::lround(secs * 1000))) + "ms",
                                  "-H", "User-Agent: h2load (pathbench reference)", "-H", "Accept: application/json",
                                  "-H", "Accept-Encoding: gzip, deflate",
                                  "-H", "Authorization: Bearer pathbench-reference-token-0123456789abcdef",
                                  "-H", "X-Request-Id: 00000000-0000-4000-8000-000000000000",
                                  "-H", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"};
    if (route->body) a.insert(a.end(), {"-H", "Content-Type: application/json", "-d", body_path});
    a.push_back(url);
    return pinned(o.client_cpu, a);
  };
  // "requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout"
  static const std::regex kRequests(R"(requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout)");
  uint64_t warmup_requests = 0;
  if (o.warmup_s >= 0.5) {
    CmdResult w = run_cmd(in_netns(c.roles.client().netns, h2load(o.warmup_s)), {}, static_cast<int>(o.warmup_s + 20));
    std::smatch wm;
    if (std::regex_search(w.out, wm, kRequests)) warmup_requests = std::stoull(wm[4]);
  }
  auto client = h2load(o.duration_s);
  pr.reference = {{"tool", "h2load"}, {"version", version_of({"h2load", "--version"}, R"(nghttp2/(\S+))")},
                  {"command", quote_join(client)},
                  {"server_command", "pathbench's HTTP responder (the one its own http_rr rows use)"},
                  {"server_tool", "pathbench"},
                  {"tcp_cc", namespace_cc(c.roles.client().netns) + " (h2load's sockets: the namespace default; h2load has no option)"},
                  {"note", "HTTP/1.1 (--h1), the request of the run's first route with pathbench's headers; h2load reports "
                           "min, max and mean latency, not percentiles"}};
  CpuWindow cpu;
  cpu.start(0, o.duration_s);
  CmdResult r = run_cmd(in_netns(c.roles.client().netns, client), {}, static_cast<int>(o.duration_s + 20));
  cpu.join();
  const std::string server_error = responder->error();
  cleanup();
  const std::string text = r.out + r.err;
  std::smatch m;
  double rps = 0;
  const bool have_rps = std::regex_search(text, m, std::regex(R"(finished in [0-9.]+m?s, ([0-9.]+) req/s)"));
  if (have_rps) rps = std::stod(m[1]);
  std::smatch rq;
  const bool have_req = std::regex_search(text, rq, kRequests);
  if (r.status != 0 || !have_rps || !have_req) {
    pr.result.ok = false;
    pr.result.reason = "h2load failed: " + trim(text).substr(0, 300);
    return pr;
  }
  const uint64_t succeeded = std::stoull(rq[4]), failed = std::stoull(rq[5]), errored = std::stoull(rq[6]);
  if (failed || errored) {
    pr.result.ok = false;
    pr.result.reason = fmt::format("h2load: {} requests failed and {} errored", failed, errored);
    return pr;
  }
  if (!server_error.empty()) {
    pr.result.ok = false;
    pr.result.reason = "pathbench's HTTP responder under h2load: " + server_error;
    return pr;
  }
  nlohmann::json met;
  met["transactions_per_s"] = rps;
  met["transactions"] = succeeded;
  met["duration_ns"] = static_cast<uint64_t>(o.duration_s * 1e9);
  // "time for request:    43.15ms     48.01ms     44.16ms       885us    91.30%": min, max, mean, sd
  std::smatch lm;
  auto ns_of = [](const std::string& v, const std::string& unit) {
    return std::llround(std::stod(v) * (unit == "us" ? 1e3 : unit == "ms" ? 1e6 : 1e9));
  };
  if (std::regex_search(text, lm, std::regex(R"(time for request:\s+([0-9.]+)(us|ms|s)\s+([0-9.]+)(us|ms|s)\s+([0-9.]+)(us|ms|s))")))
    met["latency_ns"] = {{"min", ns_of(lm[1], lm[2])}, {"max", ns_of(lm[3], lm[4])}, {"mean", ns_of(lm[5], lm[6])},
                        };
  met["cpu"] = cpu.usage.to_json();
  if (rps > 0) met["cpu_ns_per_transaction"] = static_cast<double>(cpu.usage.busy_ns) / (rps * o.duration_s);
  pr.result.ok = true;
  pr.result.metrics = met;
  // Over both runs (the discarded warm-up one included), for proofs: each opens its -c
  // connections once and keeps them.
  pr.result.totals.transactions = succeeded + warmup_requests;
  pr.result.totals.connections = (o.warmup_s >= 0.5 ? 2 : 1) * uint64_t{o.flows};
  return pr;
}

}  // namespace

std::optional<std::string> need_tools(const std::vector<std::pair<std::string, std::string>>& tools) {
  for (auto& [t, pkg] : tools)
    if (!find_program(t)) return t + " not installed (apt-get install " + pkg + ")";
  return std::nullopt;
}

const std::vector<PeerTool>& peer_tools() {
  static const std::vector<PeerTool> v = {
      {"iperf3", "tcp_stream", true, [] { return need_tools({{"iperf3", "iperf3"}, {"ss", "iproute2"}}); }, run_iperf3},
      {"sockperf", "tcp_rr", true, [] { return need_tools({{"sockperf", "sockperf"}, {"ss", "iproute2"}}); },
       [](const PeerContext& c) { return run_sockperf(c, true); }},
      {"sockperf", "udp_rr", true, [] { return need_tools({{"sockperf", "sockperf"}, {"ss", "iproute2"}}); },
       [](const PeerContext& c) { return run_sockperf(c, false); }},
      {"wrk", "tcp_crr", false, [] { return need_tools({{"wrk", "wrk"}, {"haproxy", "haproxy"}, {"ss", "iproute2"}}); },
       [](const PeerContext& c) { return run_wrk(c); }},
      // Against pathbench's responder, whose request counts are the generator-side totals the
      // gateway's proof needs: connections follow from -c (keep-alive) or equal requests (close).
      {"wrk", "http_rr", true, [] { return need_tools({{"wrk", "wrk"}}); },
       [](const PeerContext& c) { return run_wrk(c, find_workload("http_rr")); }},
      {"wrk", "http_crr", true, [] { return need_tools({{"wrk", "wrk"}}); },
       [](const PeerContext& c) { return run_wrk(c, find_workload("http_crr")); }},
      {"h2load", "http_rr", true, [] { return need_tools({{"h2load", "nghttp2-client"}}); }, run_h2load},
  };
  return v;
}

}  // namespace pb
