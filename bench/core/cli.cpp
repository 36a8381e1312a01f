// cli.cpp: option parsing and validation for `pathbench run` (Boost.Program_options), kept apart
// from main() so tests can check every rule without root. Options are built in layers: what a
// run is (paths, workloads, repetitions), timing, load shape, output.
#include "git_sha.h"
#include "core/cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "core/path.h"
#include "core/runstate.h"
#include "core/util.h"

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
  // Canonical order, whatever order the user typed.
  std::vector<std::string> out;
  for (auto& k : known)
    if (std::find(want.begin(), want.end(), k) != want.end()) out.push_back(k);
  return out;
}

void check_range(const std::string& name, double v, double lo, double hi, bool lo_open) {
  if (!std::isfinite(v) || (lo_open ? v <= lo : v < lo) || v > hi)
    throw UsageError(fmt::format("--{} {} is out of range: want {}{}, {}]", name, v, lo_open ? "(" : "[", lo, hi));
}

}  // namespace

po::options_description run_options_description() {
  po::options_description what("What to run");
  what.add_options()
      ("paths", po::value<std::string>()->default_value("default"),
       "comma-separated paths, 'default' (the default suite) or 'all' (see `pathbench list`)")
      ("workloads", po::value<std::string>()->default_value("default"),
       "comma-separated workloads, 'default' or 'all'")
      ("repetitions", po::value<unsigned>()->default_value(3),
       "repetitions; paths are interleaved (A B C A B C ...)");
  po::options_description timing("Timing (seconds)");
  timing.add_options()
      ("duration-s", po::value<double>()->default_value(2.0), "measured window per workload run")
      ("warmup-s", po::value<double>()->default_value(0.5), "cut before the window")
      ("cooldown-s", po::value<double>()->default_value(0.2), "cut after the window")
      ("stall-timeout-s", po::value<double>()->default_value(2.0),
       "watchdog: a workload with no progress for this long fails");
  po::options_description load("Load shape");
  load.add_options()
      ("payload-bytes", po::value<uint32_t>(),
       "request / write / datagram size (default per workload: tcp_stream 131072, *_rr and tcp_crr 64, udp_pps 18)")
      ("response-bytes", po::value<uint32_t>(), "response size for *_rr / tcp_crr (default: = payload)")
      ("flows", po::value<uint32_t>()->default_value(1), "concurrent flows (one thread each)")
      ("rate-pps", po::value<uint64_t>()->default_value(0), "udp_pps/xdp_pps send rate, 0 = as fast as possible")
      ("pinning", po::value<std::string>()->default_value("auto"),
       "CPU placement of generator, responder and proxy threads: one-cpu (all on CPU 0; the DUT's "
       "softirq work follows the sender) | split (generator CPU 0, responder and proxy the last CPU) | "
       "none (the scheduler decides) | auto (one-cpu on machines with <= 2 CPUs, else split)");
  po::options_description out("Output");
  out.add_options()
      ("out", po::value<std::string>(), "results directory (must not hold a run.json yet)")
      ("out-parent", po::value<std::string>()->default_value("results"),
       "parent of the default directory <UTC time>-<kernel>-<git sha>/")
      ("latest-link", po::value<std::string>(), "also point this symlink at the results directory")
      ("peers", po::bool_switch(),
       "also measure each matching workload with the reference tools on the same path, interleaved: "
       "iperf3 (tcp_stream), sockperf ping-pong --full-rtt (tcp_rr, udp_rr), wrk with Connection: close "
       "(tcp_crr); needs whole-second --duration-s and --warmup-s")
      ("no-proof-capture", po::bool_switch(), "skip the libpcap proof probe (results then lack pcap proof)")
      ("run-id", po::value<std::string>(), "namespace id (1-8 of [a-z0-9]); default random")
      ("verbose,v", po::bool_switch(), "debug log, libbpf's own log included");
  po::options_description all("pathbench run options");
  all.add(what).add(timing).add(load).add(out);
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
  c.paths = resolve_names(vm["paths"].as<std::string>(), known_paths, default_paths, "path");
  c.workloads = resolve_names(vm["workloads"].as<std::string>(), known_workloads, default_workloads, "workload");
  c.repetitions = vm["repetitions"].as<unsigned>();
  if (c.repetitions < 1 || c.repetitions > 1000)
    throw UsageError(fmt::format("--repetitions {} is out of range: want [1, 1000]", c.repetitions));
  c.duration_s = vm["duration-s"].as<double>();
  c.warmup_s = vm["warmup-s"].as<double>();
  c.cooldown_s = vm["cooldown-s"].as<double>();
  c.stall_timeout_s = vm["stall-timeout-s"].as<double>();
  check_range("duration-s", c.duration_s, 0, 3600, true);
  check_range("warmup-s", c.warmup_s, 0, 600, false);
  check_range("cooldown-s", c.cooldown_s, 0, 600, false);
  check_range("stall-timeout-s", c.stall_timeout_s, 0.1, 600, false);
  c.flows = vm["flows"].as<uint32_t>();
  if (c.flows < 1 || c.flows > 1024)
    throw UsageError(fmt::format("--flows {} is out of range: want [1, 1024]", c.flows));
  c.rate_pps = vm["rate-pps"].as<uint64_t>();
  c.pinning = vm["pinning"].as<std::string>();
  if (c.pinning == "auto") c.pinning = sysconf(_SC_NPROCESSORS_ONLN) <= 2 ? "one-cpu" : "split";
  if (c.pinning != "none" && c.pinning != "split" && c.pinning != "one-cpu")
    throw UsageError("--pinning '" + c.pinning + "': want auto, one-cpu, split or none");
  if (vm.count("payload-bytes")) c.payload_bytes = vm["payload-bytes"].as<uint32_t>();
  if (vm.count("response-bytes")) c.response_bytes = vm["response-bytes"].as<uint32_t>();
  for (auto& wn : c.workloads) {
    const WorkloadInfo* w = find_workload(wn);
    uint32_t p = c.payload_bytes.value_or(w->default_payload);
    uint32_t r = c.response_bytes.value_or(p);
    if (p < 1 || p > w->max_payload)
      throw UsageError(fmt::format("--payload-bytes {} is too large or small for {}: want [1, {}]", p, wn, w->max_payload));
    if (wn.find("_rr") != std::string::npos || wn == "tcp_crr") {
      if (r < 1 || r > w->max_payload)
        throw UsageError(fmt::format("--response-bytes {} out of range for {}: want [1, {}]", r, wn, w->max_payload));
    }
    if (wn == "udp_rr" && (p < 8 || r < 8))
      throw UsageError("udp_rr needs --payload-bytes and --response-bytes >= 8 (they carry a sequence number)");
  }
  c.proof_capture = !vm["no-proof-capture"].as<bool>();
  c.peers = vm["peers"].as<bool>();
  if (c.peers && (c.duration_s != std::floor(c.duration_s) || c.warmup_s != std::floor(c.warmup_s) ||
                  c.duration_s < 1))
    throw UsageError("--peers needs whole seconds for --duration-s (>= 1) and --warmup-s: iperf3 and sockperf take "
                     "integers, and the definitions must match");
  c.verbose = vm["verbose"].as<bool>();
  if (vm.count("run-id")) {
    c.run_id = vm["run-id"].as<std::string>();
    bool good = !c.run_id.empty() && c.run_id.size() <= 8;
    for (char ch : c.run_id) good = good && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'));
    if (!good) throw UsageError("--run-id '" + c.run_id + "': want 1-8 characters of [a-z0-9]");
  } else {
    c.run_id = new_run_id();
  }
  if (vm.count("out")) c.out_dir = vm["out"].as<std::string>();
  c.out_parent = vm["out-parent"].as<std::string>();
  if (vm.count("latest-link")) c.latest_link = vm["latest-link"].as<std::string>();
  return c;
}

static void mkdirs(const std::string& path) {
  std::string cur;
  for (auto& part : split(path, '/')) {
    cur += part + "/";
    if (part.empty()) continue;
    if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
      throw UsageError(errno_msg("cannot create output directory " + cur, errno));
  }
}

void prepare_output_dir(RunConfig& c) {
  if (!c.out_dir.empty()) {
    if (access((c.out_dir + "/run.json").c_str(), F_OK) == 0)
      throw UsageError(c.out_dir + " already holds a run (run.json); choose another --out, earlier results are never overwritten");
    mkdirs(c.out_dir);
  } else {
    mkdirs(c.out_parent);
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
