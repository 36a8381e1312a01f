// SPDX-License-Identifier: Apache-2.0
// run/cli.cpp: option parsing and validation for `pathbench run` (Boost.Program_options), kept
// apart from main() so tests can check every rule without root. Options are built in layers:
// what a run is, timing, load shape (sweep axes), path parameters, placement and stack, the
// proxy, BPF, calibration, output. Every numeric option is taken as text and parsed strictly
// here (Boost would turn "-1" into 18446744073709551615 for an unsigned type).
#include "run/cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <map>
#include <set>

#include "common/clock.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strings.h"
#include "git_sha.h"
#include "kernel/host.h"
#include "kernel/sysctl.h"
#include "paths/gateway.h"
#include "paths/observer.h"
#include "paths/path.h"
#include "run/runstate.h"
#include "workloads/http_wire.h"
#include "workloads/workload.h"

namespace po = boost::program_options;

namespace pb {

namespace {

// "all": every name this build knows; "default": those in the default suite.
std::vector<std::string> resolve_names(const std::string& arg, const std::vector<std::string>& known,
                                       const std::vector<std::string>& defaults, const std::string& what) {
  std::vector<std::string> want;
  for (auto& n : split(arg, ',')) {
    std::string t = trim(n);
    if (t.empty()) continue;
    if (t == "all" || t == "default") {
      for (auto& k : t == "all" ? known : defaults)
        if (std::find(want.begin(), want.end(), k) == want.end()) want.push_back(k);
      continue;
    }
    if (std::find(known.begin(), known.end(), t) == known.end())
      throw UsageError("unknown " + what + " '" + t + "' (known: " + join(known, ", ") + ", default, all)");
    if (std::find(want.begin(), want.end(), t) == want.end()) want.push_back(t);
  }
  if (want.empty()) throw UsageError("no " + what + " given");
  // Catalogue order, whatever order the user typed.
  std::vector<std::string> out;
  for (auto& k : known)
    if (std::find(want.begin(), want.end(), k) != want.end()) out.push_back(k);
  return out;
}

std::string one_of(const std::string& name, const std::string& v, const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
    throw UsageError("--" + name + " '" + v + "': want one of " + join(allowed, ", "));
  return v;
}

// A congestion control the kernel has or can load (tcp_<name> module).
void check_tcp_cc(const std::string& cc) {
  bool ok = !cc.empty() && cc.size() < 16;
  for (char c : cc) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) throw UsageError("--tcp-cc '" + cc + "': not a congestion control name");
  std::string avail = try_read_sysctl("net.ipv4.tcp_available_congestion_control").value_or("");
  for (auto& a : split(avail, ' '))
    if (a == cc) return;
  std::string mods = "/lib/modules/" + kernel_release() + "/modules.dep";
  if (auto dep = read_file(mods); dep && dep->find("/tcp_" + cc + ".ko") != std::string::npos) return;
  throw UsageError("--tcp-cc '" + cc + "': this kernel has no such congestion control (available: " + trim(avail) +
                   "; 'default' keeps the namespace default)");
}

}  // namespace

uint64_t parse_uint(const std::string& name, const std::string& text, uint64_t lo, uint64_t hi) {
  std::string t = trim(text);
  if (t.empty() || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw UsageError(fmt::format("--{} '{}': want a whole number in [{}, {}]", name, text, lo, hi));
  errno = 0;
  unsigned long long v = std::strtoull(t.c_str(), nullptr, 10);
  if (errno == ERANGE || v < lo || v > hi)
    throw UsageError(fmt::format("--{} {} is out of range: want [{}, {}]", name, t, lo, hi));
  return v;
}

double parse_double(const std::string& name, const std::string& text, double lo, double hi, bool lo_open) {
  std::string t = trim(text);
  bool ok = !t.empty() && std::count(t.begin(), t.end(), '.') <= 1 &&
            std::all_of(t.begin(), t.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
            t != ".";
  if (!ok)
    throw UsageError(fmt::format("--{} '{}': want a number in {}{}, {}]", name, text, lo_open ? "(" : "[", lo, hi));
  double v = std::strtod(t.c_str(), nullptr);
  if (!std::isfinite(v) || (lo_open ? v <= lo : v < lo) || v > hi)
    throw UsageError(fmt::format("--{} {} is out of range: want {}{}, {}]", name, t, lo_open ? "(" : "[", lo, hi));
  return v;
}

std::vector<uint64_t> parse_uint_list(const std::string& name, const std::string& text, uint64_t lo, uint64_t hi) {
  std::vector<uint64_t> out;
  std::set<uint64_t> seen;
  for (auto& part : split(text, ',')) {
    if (trim(part).empty()) throw UsageError("--" + name + " '" + text + "': empty element in the list");
    uint64_t v = parse_uint(name, part, lo, hi);
    if (!seen.insert(v).second) throw UsageError(fmt::format("--{} '{}': {} is listed twice", name, text, v));
    out.push_back(v);
  }
  return out;
}

po::options_description run_options_description() {
  po::options_description what("What to run");
  what.add_options()
      ("paths", po::value<std::string>()->default_value("default"),
       "comma-separated paths, 'default' (the default suite) or 'all' (see `pathbench list`)")
      ("workloads", po::value<std::string>()->default_value("default"), "comma-separated workloads, 'default' or 'all'")
      ("repetitions", po::value<std::string>()->default_value("3"),
       "repetitions; every (path, parameters) is visited once per repetition, interleaved (A B C A B C ...); "
       "with --until-ci-pct the minimum");
  po::options_description adaptive("Adaptive repetitions");
  adaptive.add_options()
      ("until-ci-pct", po::value<std::string>(),
       "repeat until every primary metric's 95% confidence interval (distribution-free, of the median) is "
       "narrower than +-this percent of it, or the budget runs out; run.json's \"stop\" says which")
      ("time-budget-s", po::value<std::string>()->default_value("600"), "adaptive: stop after this long")
      ("max-repetitions", po::value<std::string>()->default_value("40"), "adaptive: stop after this many repetitions");
  po::options_description timing("Timing (seconds)");
  timing.add_options()
      ("duration-s", po::value<std::string>()->default_value("2"), "measured window per workload run")
      ("warmup-s", po::value<std::string>()->default_value("0.5"), "cut before the window")
      ("cooldown-s", po::value<std::string>()->default_value("0.2"), "cut after the window")
      ("stall-timeout-s", po::value<std::string>()->default_value("2"),
       "watchdog: a workload with no progress for this long fails");
  po::options_description load("Load shape (comma-separated values are sweep axes: every combination is run)");
  load.add_options()
      ("payload-bytes", po::value<std::string>(),
       "request / write / datagram size, e.g. 64,1024,16384 (default per workload: tcp_stream 131072, *_rr and "
       "tcp_crr 64, udp_pps 18; http_*: the JSON body of POST/PUT/PATCH routes, 0 to 1 MiB, default 128)")
      ("response-bytes", po::value<std::string>(),
       "response size for *_rr / *_crr (default: = payload; http_*: the JSON body, 0 to 1 MiB, default 256)")
      ("flows", po::value<std::string>()->default_value("1"), "concurrent flows (one thread each), e.g. 1,2,4")
      ("rate-pps", po::value<std::string>()->default_value("0"), "udp_pps/xdp_pps send rate, 0 = as fast as possible")
      ("rate-rps", po::value<std::string>(),
       "open loop for tcp_rr, tcp_crr, http_rr, http_crr: this many requests/s over all flows, each on a schedule "
       "fixed in advance, latency from its intended send time (wrk2's coordinated-omission correction); "
       "metrics.open_loop says whether the path kept up. Default: closed loop (next request when the last answered)")
      ("http-routes", po::value<std::string>(),
       "http_rr/http_crr: the requests cycled over, comma-separated 'METHOD /path' ({id} becomes a varying "
       "number; POST, PUT and PATCH carry --payload-bytes of JSON), default 'GET /api/v1/users,GET "
       "/api/v1/orders/{id},POST /api/v1/orders'");
  po::options_description path("Path parameters (intercepting paths)");
  path.add_options()
      ("services", po::value<std::string>(),
       "intercepted destination address:port pairs each intercepting path installs, in its natural way (rules, "
       "set elements, map entries), e.g. 1,100,1000,10000; traffic goes to one of them")
      ("match-position", po::value<std::string>()->default_value("last"),
       "where the service the traffic uses sits among them: first | middle | last")
      ("update-samples", po::value<std::string>()->default_value("30"),
       "with --services: timed add+remove cycles of one service per path instance")
      ("gateway", po::value<std::string>(),
       "what terminates intercepted TCP on the proxy paths (proxy-plain, tproxy-nft, tproxy-ipt, sk-lookup, "
       "tc-sk-assign...): none (pathbench's L4 proxy) | haproxy (an L7 gateway, HAProxy in HTTP mode; HTTP "
       "workloads only); e.g. none,haproxy runs both")
      ("observe", po::value<std::string>(),
       "who observes the API calls on the gateway paths and the baseline (HTTP workloads): none | ebpf-empty (the "
       "eBPF observer's TC hooks with empty programs) | ebpf-http (a BPF program counting requests per route, "
       "with a latency histogram) | gateway-log (the gateway's per-request log; with --gateway haproxy); a sweep "
       "axis, e.g. none,ebpf-empty,ebpf-http,gateway-log");
  po::options_description stack("Placement and stack");
  stack.add_options()
      ("pinning", po::value<std::string>()->default_value("auto"),
       "CPU placement of generator, responder and proxy threads: one-cpu (all on CPU 0; the DUT's softirq work "
       "follows the sender) | split (generator CPU 0, responder and proxy the last CPU) | none (the scheduler "
       "decides) | auto (one-cpu on machines with <= 2 CPUs, else split)")
      ("tcp-cc", po::value<std::string>()->default_value("cubic"),
       "TCP congestion control of every TCP socket pathbench makes (set per socket), or 'default' for the "
       "namespaces' default (inherited from the host: often bbr, which paces and makes tcp_stream depend on its "
       "own rate estimate; docs/noise.md)")
      ("tcp-buffer-bytes", po::value<std::string>()->default_value("1048576"),
       "fixed send and receive buffer of every TCP socket pathbench makes (generator, responder, proxy), which "
       "turns the kernel's buffer autotuning off, or 'autotuning' (the kernel's, from the host's tcp_rmem/tcp_wmem: "
       "through the proxy tcp_stream then lands in one of two receive-window states per instance; docs/noise.md)")
      ("responder", po::value<std::string>()->default_value("thread"),
       "the server side of the socket workloads: thread (a thread of pathbench beside the generator: a round trip "
       "switches threads, not address spaces) | process (a forked process of its own, as sockperf's, iperf3's or "
       "any real service's server: each round trip also switches address spaces, 5.8 us per transaction here "
       "with PTI and no PCID; docs/peers.md)")
      ("order", po::value<std::string>()->default_value("interleaved"),
       "order of the paths within each repetition: interleaved (catalogue order every time) | shuffled (a new "
       "random order each repetition, from --seed)")
      ("seed", po::value<std::string>(), "seed of --order shuffled (default: random, recorded)");
  po::options_description proxy("Transparent proxy (tproxy/)");
  proxy.add_options()
      ("proxy-workers", po::value<std::string>()->default_value("1"),
       "proxy worker threads (1: measured best on 2 CPUs, where a second worker competes with softirq and the generators)")
      ("proxy-cpus", po::value<std::string>(), "CPUs to pin proxy workers to, e.g. 0 or 1 (default: the pinning policy's)")
      ("proxy-pipe-bytes", po::value<std::string>(), "relay pipe size (default 1 MiB)")
      ("proxy-model", po::value<std::string>()->default_value("thread"),
       "where the proxy's workers run: thread (threads of pathbench: a client of this process reaches them "
       "without an address-space switch) | process (a forked process of its own, as HAProxy or Envoy are: what "
       "makes --peers' HAProxy rows on tproxy-nft like for like; docs/peers.md)");
  po::options_description bpf("BPF");
  bpf.add_options()
      ("bpf-stats", po::value<std::string>()->default_value("sample"),
       "in-kernel program cost: sample (stats on during each warm-up only: they cost a third of the packet rate "
       "here) | off | always")
      ("tc-attach", po::value<std::string>()->default_value("auto"),
       "TC programs: auto (TCX link where the kernel has it, else clsact) | clsact (always the classic hook)")
      ("kernel-profile-ns", po::value<std::string>()->default_value("0"),
       "sample where the kernel spends each measured window, every N ns of CPU time (a BPF program on cpu-clock, "
       "symbolized with /proc/kallsyms; metrics.kernel_profile): in cost mode every N instructions. It costs an "
       "interrupt per sample (docs/cost.md); 0 = off");
  po::options_description calib("Calibration");
  calib.add_options()
      ("inject-cost-ns-per-packet", po::value<std::string>(),
       "add a known cost to every packet the DUT receives (a TC ingress program spinning bpf_loop, calibrated with "
       "BPF_PROG_TEST_RUN) to prove what compare detects; 0 attaches the same program spinning nothing, the "
       "control to compare a calibrated run with; recorded under options");
  po::options_description out("Output");
  out.add_options()
      ("out", po::value<std::string>(), "results directory (must not hold a run.json yet)")
      ("out-parent", po::value<std::string>()->default_value("results"),
       "parent of the default directory <UTC time>-<kernel>-<git sha>/")
      ("latest-link", po::value<std::string>(), "also point this symlink at the results directory")
      ("peers", po::bool_switch(),
       "also measure each matching workload with the reference tools on the same path, interleaved: iperf3 "
       "(tcp_stream), sockperf ping-pong --full-rtt (tcp_rr, udp_rr), wrk with Connection: close (tcp_crr); "
       "needs whole-second --duration-s and --warmup-s")
      ("no-proof-capture", po::bool_switch(), "skip the libpcap proof probe (results then lack pcap proof)")
      ("run-id", po::value<std::string>(), "namespace id (1-8 of [a-z0-9]); default random")
      ("hosts", po::value<std::string>(),
       "client, DUT and server on three hosts over ssh, as this JSON file names them (docs/hosts.md); "
       "every other option means what it means without it (--peers excepted: the reference tools run in this "
       "machine's namespaces)")
      ("verbose,v", po::bool_switch(), "debug log, libbpf's own log included");
  po::options_description all("pathbench run options");
  all.add(what).add(adaptive).add(timing).add(load).add(path).add(stack).add(proxy).add(bpf).add(calib).add(out);
  return all;
}

RunConfig parse_run_options(const std::vector<std::string>& args) {
  po::options_description desc = run_options_description();
  desc.add_options()("help,h", "this help");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see `pathbench run --help`)");
  }
  if (vm.count("help")) throw HelpRequested();
  auto str = [&](const char* k) { return vm[k].as<std::string>(); };

  RunConfig c;
  std::vector<std::string> known_paths, known_workloads, default_paths, default_workloads;
  for (auto& p : all_paths()) {
    known_paths.push_back(p.name);
    if (p.in_default_suite) default_paths.push_back(p.name);
  }
  for (auto& w : all_workloads()) {
    known_workloads.push_back(w.name);
    if (w.in_default_suite) default_workloads.push_back(w.name);
  }
  c.paths = resolve_names(str("paths"), known_paths, default_paths, "path");
  c.workloads = resolve_names(str("workloads"), known_workloads, default_workloads, "workload");
  c.repetitions = static_cast<unsigned>(parse_uint("repetitions", str("repetitions"), 1, 1000));
  if (vm.count("until-ci-pct")) {
    c.adaptive.target_ci_pct = parse_double("until-ci-pct", str("until-ci-pct"), 0, 100, true);
    c.adaptive.budget_s = parse_double("time-budget-s", str("time-budget-s"), 1, 7 * 24 * 3600);
    c.adaptive.max_repetitions = static_cast<unsigned>(parse_uint("max-repetitions", str("max-repetitions"), 1, 1000));
    if (c.adaptive.max_repetitions < c.repetitions)
      throw UsageError(fmt::format("--max-repetitions {} is below --repetitions {} (the adaptive minimum)",
                                   c.adaptive.max_repetitions, c.repetitions));
  }
  c.duration_s = parse_double("duration-s", str("duration-s"), 0, 3600, true);
  c.warmup_s = parse_double("warmup-s", str("warmup-s"), 0, 600);
  c.cooldown_s = parse_double("cooldown-s", str("cooldown-s"), 0, 600);
  c.stall_timeout_s = parse_double("stall-timeout-s", str("stall-timeout-s"), 0.1, 600);
  std::vector<uint64_t> flows = parse_uint_list("flows", str("flows"), 1, 1024);
  c.flows.assign(flows.begin(), flows.end());
  c.rate_pps = parse_uint("rate-pps", str("rate-pps"), 0, 1000000000000ull);
  c.pinning = one_of("pinning", str("pinning"), {"auto", "one-cpu", "split", "none"});
  if (c.pinning == "auto") c.pinning = online_cpus() <= 2 ? "one-cpu" : "split";
  // 0 is a size only http workloads take (a body-less request or response); each workload's
  // [min_payload, max_payload] below decides.
  if (vm.count("payload-bytes")) {
    for (uint64_t v : parse_uint_list("payload-bytes", str("payload-bytes"), 0, 16u << 20))
      c.payload_bytes.push_back(static_cast<uint32_t>(v));
  }
  if (vm.count("response-bytes"))
    c.response_bytes = static_cast<uint32_t>(parse_uint("response-bytes", str("response-bytes"), 0, 16u << 20));
  for (auto& wn : c.workloads) {
    const WorkloadInfo* w = find_workload(wn);
    std::vector<uint32_t> payloads = c.payload_bytes.empty() ? std::vector<uint32_t>{w->default_payload} : c.payload_bytes;
    for (uint32_t p : payloads) {
      uint32_t r = c.response_bytes.value_or(w->default_response.value_or(p));
      if (!w->min_payload_why.empty() && (p < w->min_payload || (w->request_response() && r < w->min_payload)))
        throw UsageError(fmt::format("{} needs --payload-bytes and --response-bytes >= {} ({})", wn, w->min_payload,
                                     w->min_payload_why));
      if (p < w->min_payload || p > w->max_payload)
        throw UsageError(fmt::format("--payload-bytes {} does not fit {}: want [{}, {}]", p, wn, w->min_payload,
                                     w->max_payload));
      if (w->request_response() && (r < w->min_payload || r > w->max_payload))
        throw UsageError(fmt::format("--response-bytes {} does not fit {}: want [{}, {}]", r, wn, w->min_payload,
                                     w->max_payload));
    }
  }
  // Refused where they would not apply: an option recorded but not applied reads as applied.
  if (vm.count("rate-rps")) {
    c.rate_rps = parse_double("rate-rps", str("rate-rps"), 0, 1e7, true);
    for (auto& wn : c.workloads)
      if (!find_workload(wn)->open_loop)
        throw UsageError("--rate-rps applies to tcp_rr, tcp_crr, http_rr and http_crr (one request in flight per "
                         "flow); '" + wn + "' does not take it: leave it out of --workloads");
  }
  const bool http = std::any_of(c.workloads.begin(), c.workloads.end(),
                                [](const std::string& wn) { return find_workload(wn)->application == Application::kHttp; });
  if (vm.count("http-routes")) {
    if (!http) throw UsageError("--http-routes applies to http_rr and http_crr; --workloads has neither");
    const std::string text = str("http-routes");
    if (trim(text).empty()) throw UsageError("--http-routes is empty: give at least one 'METHOD /path'");
    for (auto& part : split(text, ',')) {
      std::string why;
      if (trim(part).empty()) throw UsageError("--http-routes '" + text + "': empty element in the list");
      if (!http::parse_route(part, why)) throw UsageError("--http-routes: " + why);
      // Requests are counted per route by its text.
      if (std::find(c.http_routes.begin(), c.http_routes.end(), trim(part)) != c.http_routes.end())
        throw UsageError("--http-routes: '" + trim(part) + "' listed twice");
      c.http_routes.push_back(trim(part));
    }
  } else {
    c.http_routes = http::default_routes();
  }
  if (vm.count("services")) {
    c.services = parse_uint_list("services", str("services"), 1, 1000000);
    for (auto& pn : c.paths) {
      const PathInfo* p = find_path(pn);
      if (!p->takes_services())
        throw UsageError("--services applies to intercepting paths only; '" + pn + "' does not intercept (kind " +
                         to_string(p->kind) + "): leave it out of --paths");
      for (uint64_t n : c.services)
        if (n > p->max_services)
          throw UsageError(fmt::format("--services {} is more than {} can install (at most {})", n, pn, p->max_services));
    }
  }
  if (vm.count("gateway")) {
    for (const std::string& g : split(str("gateway"), ',')) {
      const std::string v = one_of("gateway", trim(g), {"none", "haproxy"});
      if (std::find(c.gateways.begin(), c.gateways.end(), v) != c.gateways.end())
        throw UsageError("--gateway: '" + v + "' listed twice");
      c.gateways.push_back(v);
    }
    if (std::find(c.gateways.begin(), c.gateways.end(), "haproxy") != c.gateways.end()) {
      if (std::none_of(c.paths.begin(), c.paths.end(), [](const std::string& pn) { return find_path(pn)->takes_gateway(); }))
        throw UsageError("--gateway haproxy needs a path where a proxy terminates TCP (proxy-plain, tproxy-nft, "
                         "tproxy-ipt, sk-lookup, tc-sk-assign); --paths has none");
      if (auto why = HaproxyGateway::unavailable()) throw EnvError("--gateway haproxy: " + *why);
    }
  }
  if (vm.count("observe")) {
    for (const std::string& o : split(str("observe"), ',')) {
      const std::string v = one_of("observe", trim(o), observe_kinds());
      if (std::find(c.observes.begin(), c.observes.end(), v) != c.observes.end())
        throw UsageError("--observe: '" + v + "' listed twice");
      c.observes.push_back(v);
    }
    if (!http) throw UsageError("--observe counts HTTP requests: --workloads needs http_rr or http_crr");
    if (std::none_of(c.paths.begin(), c.paths.end(), [](const std::string& pn) { return takes_observer(*find_path(pn)); }))
      throw UsageError("--observe applies to the gateway paths (proxy-plain, tproxy-nft, tproxy-ipt, sk-lookup, "
                       "tc-sk-assign) and baseline; --paths has none");
    const bool log = std::find(c.observes.begin(), c.observes.end(), "gateway-log") != c.observes.end();
    if (log && std::find(c.gateways.begin(), c.gateways.end(), "haproxy") == c.gateways.end())
      throw UsageError("--observe gateway-log is the gateway's own log: it needs --gateway haproxy");
    if (c.http_routes.size() > observe_max_routes())
      throw UsageError(fmt::format("--observe tells at most {} routes apart; --http-routes has {}", observe_max_routes(),
                                   c.http_routes.size()));
    // Each request must go to its own route only, or an observer's counts cannot equal the generator's.
    std::map<uint64_t, std::string> keys;
    for (auto& r : c.http_routes) {
      auto [it, fresh] = keys.emplace(route_key(r), r);
      if (!fresh)
        throw UsageError("--observe: the routes '" + it->second + "' and '" + r +
                         "' match the same requests, so no observer can tell them apart");
    }
  }
  c.match_position = one_of("match-position", str("match-position"), {"first", "middle", "last"});
  c.update_samples = static_cast<uint32_t>(parse_uint("update-samples", str("update-samples"), 0, 100000));
  c.tcp_cc = str("tcp-cc");
  if (c.tcp_cc == "default") c.tcp_cc.clear();
  else check_tcp_cc(c.tcp_cc);
  c.tcp_buffer_bytes = str("tcp-buffer-bytes") == "autotuning"
                           ? 0
                           : static_cast<int>(parse_uint("tcp-buffer-bytes", str("tcp-buffer-bytes"), 4096, 1u << 30));
  c.responder = one_of("responder", str("responder"), {"thread", "process"});
  c.order = one_of("order", str("order"), {"interleaved", "shuffled"});
  c.seed = vm.count("seed") ? parse_uint("seed", str("seed"), 0, UINT64_MAX) : std::random_device{}();
  c.proxy_workers = static_cast<unsigned>(parse_uint("proxy-workers", str("proxy-workers"), 1, 64));
  if (vm.count("proxy-cpus"))
    for (uint64_t v : parse_uint_list("proxy-cpus", str("proxy-cpus"), 0, static_cast<uint64_t>(online_cpus() - 1)))
      c.proxy_cpus.push_back(static_cast<int>(v));
  if (vm.count("proxy-pipe-bytes"))
    c.proxy_pipe_bytes = static_cast<unsigned>(parse_uint("proxy-pipe-bytes", str("proxy-pipe-bytes"), 4096, 1u << 30));
  c.proxy_model = one_of("proxy-model", str("proxy-model"), {"thread", "process"});
  c.bpf_stats = one_of("bpf-stats", str("bpf-stats"), {"sample", "off", "always"});
  c.tc_attach = one_of("tc-attach", str("tc-attach"), {"auto", "clsact"});
  c.kernel_profile_ns = parse_uint("kernel-profile-ns", str("kernel-profile-ns"), 0, 1000000000);
  if (c.kernel_profile_ns && c.kernel_profile_ns < 1000)
    throw UsageError("--kernel-profile-ns " + std::to_string(c.kernel_profile_ns) +
                     ": below 1000 the sampling interrupts would be most of what is measured (0 = off)");
  if (vm.count("inject-cost-ns-per-packet"))
    c.inject_cost_ns = parse_double("inject-cost-ns-per-packet", str("inject-cost-ns-per-packet"), 0, 1e6);
  c.proof_capture = !vm["no-proof-capture"].as<bool>();
  c.peers = vm["peers"].as<bool>();
  if (vm.count("hosts")) c.hosts_file = str("hosts");
  if (c.peers && (c.duration_s != std::floor(c.duration_s) || c.warmup_s != std::floor(c.warmup_s) || c.duration_s < 1))
    throw UsageError("--peers needs whole seconds for --duration-s (>= 1) and --warmup-s: iperf3 and sockperf take "
                     "integers, and the definitions must match");
  // The reference tools run closed loop only (wrk2, the open-loop wrk, is not in Debian): a rate
  // in their rows' options would read as applied.
  if (c.peers && c.rate_rps > 0)
    throw UsageError("--rate-rps does not go with --peers: the reference tools (wrk, sockperf) run closed loop only");
  c.verbose = vm["verbose"].as<bool>();
  if (vm.count("run-id")) {
    c.run_id = str("run-id");
    bool good = !c.run_id.empty() && c.run_id.size() <= 8;
    for (char ch : c.run_id) good = good && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'));
    if (!good) throw UsageError("--run-id '" + c.run_id + "': want 1-8 characters of [a-z0-9]");
  } else {
    c.run_id = new_run_id();
  }
  if (vm.count("out")) c.out_dir = str("out");
  c.out_parent = str("out-parent");
  if (vm.count("latest-link")) c.latest_link = str("latest-link");
  return c;
}

void prepare_output_dir(RunConfig& c) {
  if (!c.out_dir.empty()) {
    if (access((c.out_dir + "/run.json").c_str(), F_OK) == 0)
      throw UsageError(c.out_dir + " already holds a run (run.json); choose another --out, earlier results are never overwritten");
    make_dirs(c.out_dir, "output directory");
  } else {
    make_dirs(c.out_parent, "output directory");
    std::string base = c.out_parent + "/" + utc_now_compact() + "-" + kernel_release() + "-" +
                       std::string(PATHBENCH_GIT_SHA).substr(0, 7);
    c.out_dir = base;
    if (mkdir(c.out_dir.c_str(), 0755) != 0) {
      if (errno != EEXIST) throw UsageError(errno_msg("cannot create output directory " + c.out_dir, errno));
      c.out_dir = base + "-" + c.run_id;  // two runs in the same second
      if (mkdir(c.out_dir.c_str(), 0755) != 0)
        throw UsageError(errno_msg("cannot create output directory " + c.out_dir, errno));
    }
  }
  // Writable? (root ignores mode bits, not read-only mounts or a full disk.)
  std::string probe = c.out_dir + "/.pathbench-write-test";
  FILE* f = std::fopen(probe.c_str(), "w");
  bool ok = f && std::fputs("x\n", f) >= 0;
  if (f) ok = (std::fclose(f) == 0) && ok;
  int e = errno;
  unlink(probe.c_str());
  if (!ok) throw UsageError(errno_msg("output directory " + c.out_dir + " is not writable", e ? e : EIO));
}

}  // namespace pb
