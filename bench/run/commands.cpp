// SPDX-License-Identifier: Apache-2.0
// run/commands.cpp: the user's verbs (run, list, doctor, cleanup), called by main().
#include "run/commands.h"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "common/error.h"
#include "common/fs.h"
#include "common/log.h"
#include "hosts/orchestrator.h"
#include "kernel/host.h"
#include "kernel/process.h"
#include "measure/environment.h"
#include "paths/path.h"
#include "roles/topology.h"
#include "run/cli.h"
#include "run/runner.h"
#include "run/runstate.h"
#include "workloads/workload.h"

namespace pb {

namespace {
bool wants_help(const std::vector<std::string>& a) {
  for (auto& s : a)
    if (s == "-h" || s == "--help") return true;
  return false;
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  RunConfig cfg;
  try {
    cfg = parse_run_options(args);
  } catch (const HelpRequested&) {
    std::cout << "usage: pathbench run [options]\n\n"
              << "Runs every chosen path x parameters x workload x parameters x repetition, each path instance on\n"
                 "a fresh topology of network namespaces, and writes one run.json. Repetitions interleave paths\n"
                 "(A B C A B C). Exit codes: 0 ok, 1 a result failed, 2 bad usage, 3 environment, 4 BPF.\n\n"
              << run_options_description() << "\n";
    return kExitOk;
  }
  log::set_verbose(cfg.verbose);
  // --hosts: the file is checked before anything is made, here or on a host; the orchestrator
  // itself needs no root (the agents do, on their hosts).
  std::optional<HostsConfig> hosts;
  if (!cfg.hosts_file.empty()) {
    if (auto why = hosts_mode_refuses(cfg)) throw UsageError(*why);
    hosts = load_hosts_file(cfg.hosts_file);
  }
  if (!hosts && !is_root())
    throw EnvError("pathbench run needs root (network namespaces, BPF, nft): run it as root or with sudo");
  if (!hosts && !find_program("ip")) throw EnvError("'ip' not found: apt-get install iproute2");
  if (hosts && !find_program("ssh")) throw EnvError("'ssh' not found: apt-get install openssh-client");
  prepare_output_dir(cfg);
  if (!cfg.latest_link.empty()) point_link(cfg.latest_link, cfg.out_dir);
  if (hosts) {
    std::unique_ptr<Site> site = make_hosts_site(cfg, *hosts);
    return run_benchmark(cfg, *site);
  }
  return run_benchmark(cfg);
}

int cmd_list(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << "usage: pathbench list\n\nEvery path and workload this build knows, and whether this "
                 "kernel and machine can run it.\n";
    return kExitOk;
  }
  const bool root = is_root();
  std::printf("paths:\n");
  for (auto& p : all_paths()) {
    std::string status;
    if (!root) status = "unknown (probing needs root)";
    else if (auto why = p.unsupported ? p.unsupported() : std::nullopt) status = "unsupported: " + *why;
    else status = "supported";
    std::printf("  %-22s %s%s\n      %s\n      kind %s, technology %s%s%s\n", p.name.c_str(), status.c_str(),
                p.in_default_suite ? "" : " (not in the default suite)", p.description.c_str(), to_string(p.kind),
                to_string(p.technology), p.via_proxy ? ", through the proxy" : "",
                p.takes_services() ? fmt::format(", --services up to {}", p.max_services).c_str() : "");
  }
  std::printf("workloads:\n");
  for (auto& w : all_workloads()) {
    std::string status;
    if (auto why = w.unsupported ? w.unsupported() : std::nullopt) status = "unsupported: " + *why;
    else status = "supported";
    std::printf("  %-22s %s%s\n      %s\n      %s %s over %s, primary metric %s\n", w.name.c_str(), status.c_str(),
                w.in_default_suite ? "" : " (not in the default suite)", w.description.c_str(), to_string(w.protocol),
                to_string(w.pattern), to_string(w.transport), w.primary_metric.c_str());
  }
  return kExitOk;
}

int cmd_doctor(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << "usage: pathbench doctor\n\nChecks what the default suite needs; exit 0 only when all of it is there.\n";
    return kExitOk;
  }
  int problems = 0;
  auto check = [&](bool ok, const std::string& what, const std::string& fix) {
    std::printf("  [%s] %s%s\n", ok ? " ok " : "FAIL", what.c_str(), ok ? "" : ("\n         fix: " + fix).c_str());
    if (!ok) ++problems;
  };
  std::printf("pathbench doctor (kernel %s)\n", kernel_release().c_str());
  check(is_root(), "running as root (namespaces, BPF, nft need CAP_SYS_ADMIN/CAP_NET_ADMIN/CAP_BPF)",
        "run as root or with sudo");
  for (auto [tool, pkg] : std::initializer_list<std::pair<const char*, const char*>>{
           {"ip", "iproute2"}, {"ethtool", "ethtool"}, {"nft", "nftables"}, {"iptables", "iptables"},
           {"bpftool", "bpftool"}, {"sha256sum", "coreutils"}})
    check(find_program(tool).has_value(), std::string("tool '") + tool + "'", std::string("apt-get install ") + pkg);
  check(access("/sys/kernel/btf/vmlinux", R_OK) == 0, "kernel BTF (/sys/kernel/btf/vmlinux) for CO-RE BPF",
        "a kernel built with CONFIG_DEBUG_INFO_BTF=y");
  check(access(topology_script().c_str(), X_OK) == 0, "topology script " + topology_script(),
        "reinstall pathbench (cmake --install) or set PATHBENCH_TOPOLOGY_SCRIPT");
  if (is_root()) {
    std::string id = "dr" + new_run_id().substr(0, 4);
    std::string err;
    try {
      RunState st(id);
      Topology t(id);
    } catch (const std::exception& e) {
      err = e.what();
    }
    check(err.empty(), "network namespaces + veth (test topology pb-" + id + "-*)",
          err.empty() ? "" : err + "; a kernel with CONFIG_NET_NS and CONFIG_VETH");
    for (auto& p : all_paths()) {
      auto why = p.unsupported ? p.unsupported() : std::nullopt;
      check(!why, "path " + p.name, why.value_or(""));
    }
  }
  for (auto& w : all_workloads()) {
    auto why = w.unsupported ? w.unsupported() : std::nullopt;
    check(!why, "workload " + w.name, why.value_or(""));
  }
  std::printf(problems ? "%d problem(s): the default suite will skip or fail what is marked FAIL\n"
                       : "everything the default suite needs is here\n",
              problems);
  return problems ? kExitEnv : kExitOk;
}

int cmd_cleanup(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << "usage: pathbench cleanup [--orphans] [--hosts FILE]\n\nRemoves what killed runs left: namespaces pb-<id>-{cli,dut,srv} "
                 "(and everything in them: links, programs, nft tables, processes) and their state files under "
              << state_dir() << ". Runs whose process is alive are left alone.\n"
                 "--orphans also removes pb-<id>-* namespaces that have no owner record (made by hand with "
                 "netns/topology.sh).\n"
                 "--hosts FILE: on each host of the hosts file, over ssh, ends the agents of earlier runs still "
                 "alive there (each removes what it installed) and removes their state files.\n";
    return kExitOk;
  }
  bool orphans = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--hosts" && i + 1 < args.size()) return cleanup_hosts(load_hosts_file(args[i + 1]));
    if (a == "--orphans") orphans = true;
    else throw UsageError("cleanup: unknown option '" + a + "' (see `pathbench cleanup --help`)");
  }
  if (!is_root()) throw EnvError("pathbench cleanup needs root: run it as root or with sudo");
  CleanupReport r = cleanup_leftovers(orphans);
  for (auto& id : r.removed) std::printf("removed leftovers of run %s\n", id.c_str());
  for (auto& id : r.busy) std::printf("run %s is still running (owner alive): left alone\n", id.c_str());
  for (auto& id : r.unowned)
    std::printf("pb-%s-*: no owner record (made by hand with netns/topology.sh?): left alone; "
                "`pathbench cleanup --orphans` removes it\n", id.c_str());
  for (auto& e : r.errors) std::printf("error: %s\n", e.c_str());
  if (r.removed.empty() && r.busy.empty() && r.errors.empty() && r.unowned.empty())
    std::printf("nothing to clean up\n");
  return r.errors.empty() ? kExitOk : kExitEnv;
}

}  // namespace pb
