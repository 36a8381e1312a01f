// SPDX-License-Identifier: Apache-2.0
// main.cpp: the pathbench CLI: dispatch to the verbs (run/commands.h) and signal handling.
// Signals: SIGINT/SIGTERM/SIGHUP are blocked in every thread and taken by one signal thread,
// which only sets g_interrupted; the run then stops measuring, tears down in order and saves what
// it has. Further signals during teardown are logged and ignored, so a second Ctrl-C cannot skip
// the removal of kernel state. (SIGKILL cannot be caught: `pathbench cleanup` covers it.)
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <thread>

#include "common/error.h"
#include "common/log.h"
#include "git_sha.h"
#include "hosts/agent.h"
#include "run/commands.h"
#include "run/runner.h"
#include "vm/guest.h"

using namespace pb;

namespace {

const char* kUsage = R"(pathbench: what does it cost to intercept or forward traffic on this kernel?
Measures TPROXY, eBPF interception and XDP/TC forwarding side by side on a client - DUT - server
topology of network namespaces (198.18.0.0/15), with throughput, latency distributions,
connection rate and CPU per unit of work.

usage: pathbench <command> [options]

commands:
  run       run paths x workloads, write results/<time>-<kernel>-<sha>/run.json
            e.g.  pathbench run --paths baseline --workloads tcp_rr,udp_rr --duration-s 2 --repetitions 3
  list      every path and workload, and whether this machine can run it (reason when not)
  doctor    check root, kernel features and tools; says what to install or enable
  cleanup   remove what a killed run left behind (its namespaces and state, a guest's qemu and temp dirs;
            --hosts FILE: on the hosts)
  vm        run the suite on another kernel in a qemu guest (a Debian package, the running kernel or your
            bzImage); --accel tcg-icount is cost mode: every figure counted in instructions (docs/cost.md)
            e.g.  pathbench vm --kernel auto --accel tcg-icount -- --paths baseline --workloads tcp_rr
  agent     (started over ssh by `run --hosts`: one host's roles, driven on stdin/stdout)
  version   print version and git sha

`pathbench <command> --help` shows the command's options. Needs root for run/doctor/cleanup.
Exit codes: 0 ok, 1 a result or check failed, 2 bad usage or input, 3 environment/setup,
4 BPF load/attach; vm: 5 unknown package, 6 not a kernel, 7 kernel lacks 9p/virtio/veth/BPF,
8 qemu/busybox-static missing, 9 too little memory, 10 guest did not boot, 11 guest hung/died,
12 pathbench did not start in the guest, 13 a setting that breaks cost mode, 14 no bootable
image of the running kernel; 20-28 --hosts problems (docs/hosts.md);
130/143 interrupted by SIGINT/SIGTERM (results so far are saved).
)";

void start_signal_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::thread([set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) sig = SIGTERM;
      int expected = 0;
      if (g_interrupted.compare_exchange_strong(expected, sig))
        log::warn("signal {}: stopping, saving results and tearing down (this takes a few seconds)", sig);
      else
        log::warn("signal {}: teardown already in progress; it will finish (kernel state must not be left behind)", sig);
    }
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  start_signal_thread();
  try {
    if (cmd == "run") return cmd_run(args);
    if (cmd == "list") return cmd_list(args);
    if (cmd == "doctor") return cmd_doctor(args);
    if (cmd == "cleanup") return cmd_cleanup(args);
    if (cmd == "vm") return vm::command(args);
    if (cmd == "agent") return cmd_agent(args);
    if (cmd == "version" || cmd == "--version") {
      std::printf("pathbench %s (git %s)\n", PATHBENCH_VERSION, PATHBENCH_GIT_SHA);
      return kExitOk;
    }
    throw UsageError("unknown command '" + cmd + "' (commands: run, list, doctor, cleanup, vm, agent, version)");
  } catch (const Error& e) {
    log::error("{}", e.what());
    return e.code();
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return kExitEnv;
  }
}
